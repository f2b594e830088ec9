"""Progress of a long command on stderr: done of total, an estimate of the time left, and the
running figures. On a terminal it is one bar redrawn in place (tqdm); elsewhere (a log file, CI)
one plain line every ``every_s`` seconds and at the end, so a long run is never silent."""

from __future__ import annotations

import math
import os
import sys
import time
from typing import Callable, TextIO


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def figures_text(figures: dict) -> str:
    return ", ".join(f"{k} {'-' if isinstance(v, float) and math.isnan(v) else format(v, '.3g')}"
                     for k, v in figures.items())


def shows_progress(stream: TextIO) -> bool:
    """A bar on a terminal, or anywhere when PARTYBOT_PROGRESS=1."""
    return stream.isatty() or os.environ.get("PARTYBOT_PROGRESS") == "1"


class Progress:
    """``update(figures)`` after each item. ``done``: items already done before this run (a resumed
    run); the estimate counts only what this run did."""

    def __init__(self, total: int, desc: str, unit: str = "q", *, done: int = 0, stream: TextIO | None = None,
                 every_s: float = 30.0, clock: Callable[[], float] = time.monotonic, tty: bool | None = None):
        self.total, self.desc, self.unit, self.done, self.start_done = total, desc, unit, done, done
        self.stream = stream or sys.stderr
        self.every_s, self.clock = every_s, clock
        self.started = self.last = clock()
        self.figures: dict = {}
        if tty is None:
            tty = shows_progress(self.stream)
        self.bar = None
        if tty:
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=done, desc=desc, unit=unit, file=self.stream, leave=False)

    def update(self, figures: dict | None = None) -> None:
        self.done += 1
        self.figures = figures or self.figures
        if self.bar is not None:
            self.bar.set_postfix_str(figures_text(self.figures), refresh=False)
            self.bar.update(1)
            return
        now = self.clock()
        if now - self.last >= self.every_s or self.done >= self.total:
            self.last = now
            print(self.line(now), file=self.stream, flush=True)

    def line(self, now: float | None = None) -> str:
        now = self.clock() if now is None else now
        elapsed = now - self.started
        ran = self.done - self.start_done
        left = (self.total - self.done) * elapsed / ran if ran else float("nan")
        eta = "" if math.isnan(left) else f", about {_duration(left)} left"
        figs = f"; {figures_text(self.figures)}" if self.figures else ""
        return f"{self.desc}: {self.done}/{self.total} {self.unit}, {_duration(elapsed)}{eta}{figs}"

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()

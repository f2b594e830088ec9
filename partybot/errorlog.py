"""Errors on the command line: one line on the terminal, the traceback in a file.

A person who meets a full disk or a damaged file reads one line that says what happened and
what to do (``vectorstore.faults``); an error nobody foresaw reads one line too, naming the log
file that holds its traceback (``<data dir>/partybot.log``, rotated at 5 MB). With ``-v`` the
terminal gets the tracebacks as well.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path

from core.errors import PartybotError

LOG_NAME = "partybot.log"
_errors = logging.getLogger("partybot.errors")  # the file only: the terminal gets one line
_installed: list[logging.Handler] = []


class _OneLine(logging.Formatter):
    """A record without its traceback (the terminal's view)."""

    def format(self, record: logging.LogRecord) -> str:
        saved = record.exc_info, record.exc_text, record.stack_info
        record.exc_info = record.exc_text = record.stack_info = None
        try:
            return super().format(record)
        finally:
            record.exc_info, record.exc_text, record.stack_info = saved


class ErrorLog:
    def __init__(self, verbose: bool, data_dir: Path):
        logging.raiseExceptions = False  # a log that cannot be written (a full disk) says nothing
        fmt = "%(asctime)s %(levelname)s %(name)s: %(message)s"
        console = logging.StreamHandler()
        console.setFormatter(logging.Formatter(fmt) if verbose else _OneLine(fmt))
        self.path = data_dir / LOG_NAME
        self.file = logging.handlers.RotatingFileHandler(self.path, maxBytes=5 * 2**20, backupCount=2,
                                                         encoding="utf-8", delay=True)
        self.file.setFormatter(logging.Formatter(fmt))
        self.file.setLevel(logging.WARNING)
        root = logging.getLogger()
        root.setLevel(logging.INFO if verbose else logging.WARNING)
        for old in _installed:  # an earlier call's (main() run twice in one process: tests)
            root.removeHandler(old)
            old.close()
        _installed[:] = [console, self.file]  # the file opens on the first record (delay)
        for handler in _installed:
            root.addHandler(handler)
        _errors.handlers[:] = [self.file]
        _errors.propagate = verbose
        for noisy in ("httpx", "httpcore", "chromadb", "sentence_transformers"):
            logging.getLogger(noisy).setLevel(logging.WARNING)

    def where(self) -> str:
        """Where the last traceback went, for the one-line message."""
        if self.file.stream is not None:
            return f"the details are in {self.path}"
        return "run the command again with -v to see the details"

    def report(self, exc: BaseException, data_dir: Path) -> str:
        """The one line for ``exc``; its traceback goes to the log file."""
        from vectorstore.faults import diagnose

        _errors.error("%s: %s", exc.__class__.__name__, exc, exc_info=exc)
        if isinstance(exc, PartybotError):
            return f"error: {exc}"
        fault = diagnose(exc, data_dir)
        if fault is not None:
            return f"error: {fault}"
        first = " ".join(str(exc).split())[:200]
        return f"error: unexpected {exc.__class__.__name__}: {first} ({self.where()})"


def quiet_broken_pipe() -> int:
    """stdout's reader went away (``partybot ask … | head``): stop without a traceback."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except OSError:
        pass
    return 141

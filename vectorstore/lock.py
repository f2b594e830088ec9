"""One writer at a time per data directory: an OS file lock (``flock``) on ``writer.lock``.

Chroma's embedded store and the catalog are each safe for one writing process; two writing at
once corrupt Chroma's segment files (seen: unreadable embeddings, a data directory every later
command failed on). Every writer — `partybot ingest`, `docs remove`, `docs check --repair`, the
bot's uploads and removals — holds this lock for the whole of its write. Readers never take it
exclusively: answering a question never waits for an ingest.

The lock is the kernel's: it is released when the holder exits, however it exits (``kill -9``
included), so a crashed writer never leaves a stale lock behind. The file also says who holds the
lock (pid, command, since when) so a waiting writer can tell the admin. It protects one machine:
``flock`` is not shared across machines (see docs/operations.md on multi-machine deployments).
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

from core.errors import PartybotError

LOCK_FILE = "writer.lock"


class WriterBusy(PartybotError):
    """Another writer holds the data directory's lock (and the caller chose not to wait)."""

    def __init__(self, holder: str, *, waited_s: float | None = None):
        waited = f" (waited {waited_s:.0f} s)" if waited_s else ""
        super().__init__(f"another writer is using this data directory{waited}: {holder}; "
                         "try again when it has finished")
        self.holder = holder


def describe(info: dict) -> str:
    """'partybot ingest (pid 1234 on host, since 2026-11-29 16:40:03 UTC)' from the lock file."""
    if not info:
        return "another process (it has not said which)"
    since = info.get("since", "?").replace("T", " ").replace("+00:00", " UTC")
    return f"{info.get('what', 'a writer')} (pid {info.get('pid', '?')} on {info.get('host', '?')}, since {since})"


# What this thread holds, by lock file: reentrancy is per file, not per WriterLock object (two
# objects for one data directory in one thread must not wait for each other).
_HELD = threading.local()


class WriterLock:
    """Reentrant within a thread; exclusive across threads and processes (each holder opens the
    file anew, and ``flock`` locks belong to the open file, not the process)."""

    def __init__(self, data_dir: Path, name: str = LOCK_FILE):
        self.path = Path(data_dir) / name
        self._key = os.path.abspath(self.path)

    @property
    def _depths(self) -> dict[str, int]:
        if not hasattr(_HELD, "depths"):
            _HELD.depths = {}
        return _HELD.depths

    @property
    def held(self) -> bool:
        """Whether this thread holds the lock."""
        return self._depths.get(self._key, 0) > 0

    def holder(self) -> dict:
        try:
            return json.loads(self.path.read_text(encoding="utf-8") or "{}")
        except (OSError, ValueError):
            return {}

    @contextmanager
    def hold(self, what: str, *, wait: bool = True, timeout_s: float | None = None,
             on_wait: Callable[[str], None] | None = None, poll_s: float = 0.2) -> Iterator[None]:
        """Hold the lock for the block. Held already by this thread: just enter. Held by another:
        fail fast with ``WriterBusy`` (``wait=False``), or wait — telling ``on_wait`` once who
        holds it — up to ``timeout_s`` (forever when None)."""
        depths = self._depths
        if depths.get(self._key, 0) > 0:
            depths[self._key] += 1
            try:
                yield
            finally:
                depths[self._key] -= 1
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise PartybotError(f"cannot write to the data directory {self.path.parent}: {exc.strerror} "
                                "(check PARTYBOT_DATA_DIR and its permissions)") from None
        try:
            self._acquire(fd, wait=wait, timeout_s=timeout_s, on_wait=on_wait, poll_s=poll_s)
            info = {"pid": os.getpid(), "host": socket.gethostname(), "what": what,
                    "since": datetime.now(timezone.utc).isoformat(timespec="seconds")}
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(info).encode(), 0)
            depths[self._key] = 1
            try:
                yield
            finally:
                depths.pop(self._key, None)
                os.ftruncate(fd, 0)
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def _acquire(self, fd: int, *, wait: bool, timeout_s: float | None, on_wait, poll_s: float) -> None:
        start = time.monotonic()
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                pass
            holder = describe(self.holder())
            waited = time.monotonic() - start
            if not wait or (timeout_s is not None and waited >= timeout_s):
                raise WriterBusy(holder, waited_s=waited if wait else None)
            if on_wait and not told:
                on_wait(holder)
                told = True
            time.sleep(poll_s)

    @contextmanager
    def try_shared(self) -> Iterator[bool]:
        """For readers: a shared hold if no writer is writing now (True), else nothing (False),
        at once. A reader uses it to reload its view of the store only between writes."""
        if self.held:
            yield True
            return
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError:
            try:
                fd = os.open(self.path, os.O_RDONLY)
            except OSError:  # no lock file can be made here: nobody can write to this directory
                yield True
                return
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

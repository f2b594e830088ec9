"""What a storage failure means to the person who meets it: a full disk, a read-only data
directory, a damaged file. ``diagnose`` reads an exception (and the exceptions it was raised
from) into one of these, each a one-line message that says what happened and what to do; the
front ends print that line and send the traceback to the log.

SQLite says "database or disk is full", "attempt to write a readonly database", "file is not a
database"; Chroma wraps the same in its own errors, or says only "Error in compaction" when its
log could not be applied. The latter counts as a full disk when the disk has under
``NEARLY_FULL`` bytes free.
"""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

from core.errors import PartybotError

NEARLY_FULL = 32 * 2**20


class StorageError(PartybotError):
    """The data directory cannot be used as it is; the message says why and what to do."""


class DiskFull(StorageError):
    pass


class ReadOnly(StorageError):
    pass


class Damaged(StorageError):
    pass


class Foreign(StorageError):
    """A file of another program, or of a newer partybot."""


def storage_text(fault: StorageError) -> str:
    """The key of a front end's message for ``fault`` (prompts/bot.*.toml)."""
    return {DiskFull: "storage_full", ReadOnly: "storage_readonly"}.get(type(fault), "storage_damaged")


def _chain(exc: BaseException):
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def free_bytes(path: Path) -> int | None:
    for p in (path, *path.parents):
        if p.exists():
            try:
                return shutil.disk_usage(p).free
            except OSError:
                return None
    return None


def writable(path: Path) -> bool:
    """Whether ``path`` (or its nearest existing parent) can be written. ``os.access`` answers
    for the mount too: a read-only mount is not writable even for root."""
    for p in (path, *path.parents):
        if p.exists():
            return os.access(p, os.W_OK)
    return False


def _size(n: int | None) -> str:
    return "unknown" if n is None else f"{n / 2**20:.1f} MB"


def disk_full(data_dir: Path) -> DiskFull:
    return DiskFull(f"the disk holding {data_dir} is full ({_size(free_bytes(data_dir))} free): free some "
                    "space and run the command again; what was indexed before is kept "
                    "(`partybot docs check` says whether a repair is needed)")


def read_only(data_dir: Path) -> ReadOnly:
    return ReadOnly(f"the data directory {data_dir} is read-only: partybot writes there even to answer "
                    "(the writer lock, Chroma's files); mount it writable, or set PARTYBOT_DATA_DIR to a "
                    "writable copy")


def damaged(what: str, path: Path, detail: str, remedy: str) -> Damaged:
    return Damaged(f"the {what} {path} is damaged ({detail}); nothing was changed: {remedy}")


CATALOG_REMEDY = ("restore the last backup with `partybot restore BACKUP`, or move the file away and "
                  "ingest the documents again")
CHROMA_REMEDY = ("restore the last backup with `partybot restore BACKUP`, or move the folder away and "
                 "run `partybot docs check --repair` to embed the catalog's chunks again")


def _kind(exc: BaseException) -> str | None:
    text = str(exc).lower()
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC or "disk is full" in text \
            or "no space left" in text:
        return "full"
    if isinstance(exc, OSError) and exc.errno == errno.EROFS or "readonly database" in text \
            or "read-only file system" in text:
        return "read-only"
    if "malformed" in text or "not a database" in text:
        return "damaged"
    if "unable to open database file" in text:
        return "cannot-open"
    return None


def is_damage(exc: BaseException) -> bool:
    """Whether SQLite (or Chroma through it) found a file damaged."""
    return _kind(exc) == "damaged"


def diagnose(exc: BaseException, data_dir: Path, *, what: str = "", path: Path | None = None,
             remedy: str = "") -> StorageError | None:
    """The storage failure ``exc`` is, or None when it is none. ``what``/``path``/``remedy`` name
    the file being opened, for a damaged one."""
    for e in _chain(exc):
        if isinstance(e, StorageError):
            return e
        kind = _kind(e)
        if kind == "full":
            return disk_full(data_dir)
        if kind == "read-only" or kind == "cannot-open" and not writable(data_dir):
            return read_only(data_dir)
        if kind == "damaged":
            return damaged(what or "file", path or data_dir, str(e).split("\n")[0][:120], remedy or CATALOG_REMEDY)
    free = free_bytes(data_dir)
    if free is not None and free < NEARLY_FULL and _storage_like(exc):
        return disk_full(data_dir)
    return None


def _storage_like(exc: BaseException) -> bool:
    return any(isinstance(e, OSError) or type(e).__module__.split(".")[0] in ("sqlite3", "chromadb")
               for e in _chain(exc))

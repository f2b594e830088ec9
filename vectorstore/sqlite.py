"""SQLite files that several processes open at once (the catalog, the embedding cache)."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path


def enable_wal(db, attempts: int = 100) -> None:
    """Switch ``db`` (a DB-API connection or cursor) to WAL. On a new file the switch needs the
    file to itself and SQLite calls no busy handler for it: two processes opening a new data
    directory at once, one got "database is locked". Retried for up to ~10 s."""
    for attempt in range(attempts):
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(0.1)


def connect(path: Path) -> sqlite3.Connection:
    """Autocommit (explicit BEGINs), usable from several threads (callers lock), WAL, and a 30 s
    wait for another process's write."""
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
    enable_wal(db)
    return db

"""A model-reply cache on disk for evaluation runs (`partybot eval --reply-cache FILE`).

The local model answers at temperature 0, so the same prompt gets the same reply. Kept in a
SQLite file keyed by the prompt and the model's settings, a second run of the evaluation only asks
the model what a change to the answer path made new; a stopped run loses nothing it had asked.
This is for measuring, never for the bot: a member's question must reach the model it is served by.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import threading
from pathlib import Path
from typing import Any, Sequence

from langchain_core.caches import RETURN_VAL_TYPE, BaseCache
from langchain_core.load import dumps, loads


# The local model's server listens on a free loopback port chosen at each start: the port says
# nothing about the model, and keeping it in the key made every run miss every reply.
_LOOPBACK_PORT = re.compile(r"(https?://(?:127\.0\.0\.1|localhost|\[::1\])):\d+")


def model_key(llm_string: str) -> str:
    """The model's settings as langchain writes them, without a loopback server's port."""
    return _LOOPBACK_PORT.sub(r"\1", llm_string)


class SQLiteReplyCache(BaseCache):
    """langchain's cache interface over one SQLite file; safe to share between threads."""

    def __init__(self, path: Path):
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False)
        self._db.execute("CREATE TABLE IF NOT EXISTS replies (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        self._db.commit()
        self._lock = threading.Lock()

    @staticmethod
    def _key(prompt: str, llm_string: str) -> str:
        return hashlib.sha256(f"{model_key(llm_string)}\x00{prompt}".encode("utf-8")).hexdigest()

    def lookup(self, prompt: str, llm_string: str) -> RETURN_VAL_TYPE | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM replies WHERE key = ?",
                                   (self._key(prompt, llm_string),)).fetchone()
        return loads(row[0], allowed_objects="core") if row else None

    def update(self, prompt: str, llm_string: str, return_val: Sequence[Any]) -> None:
        value = dumps(list(return_val))
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO replies (key, value) VALUES (?, ?)",
                             (self._key(prompt, llm_string), value))
            self._db.commit()

    def clear(self, **kwargs: Any) -> None:
        with self._lock:
            self._db.execute("DELETE FROM replies")
            self._db.commit()

    def __len__(self) -> int:
        with self._lock:
            return self._db.execute("SELECT count(*) FROM replies").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()

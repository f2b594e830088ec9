"""What the Telegram handlers need besides Telegram: the services, the log store, a bounded
answer queue, per-user rate limits, and the admin's ingest of uploaded bytes.

Nothing here imports ``telegram``; everything blocking is called through ``asyncio.to_thread``.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import time
import unicodedata
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from partybot.compose import App
    from partybot.logstore import LogStore
    from partybot.settings import Settings

log = logging.getLogger(__name__)

_MIME_SUFFIX = {
    "application/pdf": ".pdf", "text/plain": ".txt", "text/markdown": ".md", "text/html": ".html",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
}


class Gate:
    """Admission and the model's queue. ``try_enter`` admits a question while fewer than
    ``active + queue_max`` are inside (else "busy"); retrieval runs at once for everyone admitted,
    and only generation waits for one of the ``active`` model slots (``acquire``/``release``)."""

    def __init__(self, active: int, queue_max: int):
        self.active = active
        self.queue_max = queue_max
        self._inside = 0
        self.waiting = 0
        self._sem: asyncio.Semaphore | None = None

    def try_enter(self) -> bool:
        if self._inside >= self.active + self.queue_max:
            return False
        self._inside += 1
        return True

    def leave(self) -> None:
        self._inside = max(0, self._inside - 1)

    def would_wait(self) -> bool:
        return self._semaphore().locked()

    async def acquire(self) -> None:
        self.waiting += 1
        try:
            await self._semaphore().acquire()
        finally:
            self.waiting -= 1

    def release(self) -> None:
        self._semaphore().release()

    def _semaphore(self) -> asyncio.Semaphore:
        if self._sem is None:
            self._sem = asyncio.Semaphore(self.active)
        return self._sem

    @property
    def inside(self) -> int:
        return self._inside


class RateLimiter:
    """A sliding window per user: ``per_minute`` questions in any 60 seconds."""

    def __init__(self, per_minute: int, window_s: float = 60.0, clock=time.monotonic):
        self.per_minute = per_minute
        self.window_s = window_s
        self.clock = clock
        self._seen: dict[int, deque] = {}

    def check(self, user_id: int) -> float:
        """0 when allowed (and counted), else the seconds to wait."""
        now = self.clock()
        q = self._seen.setdefault(user_id, deque())
        while q and now - q[0] >= self.window_s:
            q.popleft()
        if len(q) >= self.per_minute:
            return self.window_s - (now - q[0])
        q.append(now)
        return 0.0


@dataclass
class Deps:
    settings: Settings
    services: App
    logs: LogStore
    gate: Gate
    limiter: RateLimiter
    reasons: dict = field(default_factory=dict)  # (chat_id, prompt message id) -> turn id

    def is_admin(self, user_id: int | None) -> bool:
        return user_id is not None and user_id in self.settings.admin_ids

    def remember_reason_prompt(self, chat_id: int, message_id: int, turn_id: int) -> None:
        self.reasons[(chat_id, message_id)] = turn_id
        while len(self.reasons) > 10_000:  # bounded: the oldest prompts are forgotten
            self.reasons.pop(next(iter(self.reasons)))

    # -- admin ingest (blocking; call in a thread) -------------------------------------------
    def ingest_upload(self, data: bytes, file_name: str | None, mime: str | None = None):
        """Store the upload under the data directory and index it. On any failure the stored
        copy is removed again, so a refused file leaves nothing behind."""
        from ingest.pipeline import ingest_one

        name = safe_file_name(file_name, mime, data)
        digest = hashlib.sha256(data).hexdigest()[:12]
        folder: Path = self.settings.uploads_path
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{digest}-{name}"
        existed = path.exists()
        if not existed:
            tmp = path.with_name(path.name + ".part")
            tmp.write_bytes(data)
            tmp.replace(path)
        try:
            with self._writing("the bot's upload"):
                outcome = ingest_one(str(path), self.services.index, self.settings, source=name)
        except BaseException:  # WriterBusy, or the bot stopping: keep nothing half-added
            if not existed:
                path.unlink(missing_ok=True)
            raise
        if not outcome.ok and not existed:
            path.unlink(missing_ok=True)
        return outcome

    def ingest_url(self, url: str):
        from ingest.pipeline import ingest_one

        with self._writing("the bot's /add"):
            return ingest_one(url, self.services.index, self.settings)

    def remove_document(self, doc_id: str) -> bool:
        with self._writing("the bot's /remove"):
            return self.services.index.remove(doc_id)

    def _writing(self, what: str):
        """The data directory's writer lock (shared with `partybot ingest` in another process);
        waits up to PARTYBOT_WRITER_WAIT_S, then raises ``WriterBusy`` naming the holder."""
        return self.services.index.writing(what, timeout_s=self.settings.writer_wait_s)


def safe_file_name(name: str | None, mime: str | None, data: bytes) -> str:
    """A file name fit for the disk and for citations: no folders, no control characters."""
    name = unicodedata.normalize("NFC", Path(name or "").name)
    name = re.sub(r"[\x00-\x1f\x7f/\\\\:*?\"<>|]+", "_", name).strip(" .")[:120]
    if not name:
        name = "upload-" + hashlib.sha256(data).hexdigest()[:8]
    if not Path(name).suffix and mime in _MIME_SUFFIX:
        name += _MIME_SUFFIX[mime]
    return name

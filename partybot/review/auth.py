"""Sessions, CSRF tokens and login throttling for the review app.

A session is a signed cookie (HMAC-SHA256 under a key kept in the data directory, made once):
``{"auth": bool, "csrf": token, "exp": unix time, "name": reviewer, "sid": session id}``. Every form carries the
session's CSRF token and every POST checks it (the login form too: its token sits in a pre-login session).
Logging in issues a fresh session, so a token planted before login is worthless after it.

A logged-in session also has a random id, recorded in the log store (LogStore.start_review_session):
the app honours it only while that record lives, so logging out (which deletes it) ends the session
on the server, even for a copy of the cookie. Pre-login sessions have no id and no record: a
stranger loading the login page writes nothing to the database.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from partybot.keyfile import load_or_create_key

COOKIE = "partybot_review"


@dataclass
class Session:
    auth: bool
    csrf: str
    exp: float
    name: str = ""  # the reviewer's name, given at login, recorded with each review
    sid: str = ""  # a logged-in session's id, live in the log store until logout or expiry

    @classmethod
    def new(cls, *, auth: bool, hours: float, name: str = "") -> "Session":
        return cls(auth=auth, csrf=secrets.token_urlsafe(24), exp=time.time() + hours * 3600, name=name[:80],
                   sid=secrets.token_urlsafe(32) if auth else "")


class Signer:
    def __init__(self, key: bytes):
        self.key = key

    def dumps(self, s: Session) -> str:
        body = base64.urlsafe_b64encode(json.dumps({"a": s.auth, "c": s.csrf, "e": int(s.exp), "n": s.name,
                                                     "s": s.sid}).encode())
        return body.decode() + "." + self._mac(body)

    def loads(self, value: str | None) -> Session | None:
        """The session in a cookie value, or None when it is missing, forged or expired."""
        if not value or "." not in value:
            return None
        body, mac = value.rsplit(".", 1)
        if not hmac.compare_digest(mac, self._mac(body.encode())):
            return None
        try:
            d = json.loads(base64.urlsafe_b64decode(body.encode()))
            s = Session(auth=bool(d["a"]), csrf=str(d["c"]), exp=float(d["e"]), name=str(d.get("n", "")),
                        sid=str(d.get("s", "")))
        except (ValueError, KeyError, TypeError):
            return None
        return s if s.exp > time.time() else None

    def _mac(self, body: bytes) -> str:
        return hmac.new(self.key, body, hashlib.sha256).hexdigest()


def load_key(path: Path) -> bytes:
    """The signing key, kept beside the logs; deleting it logs everybody out."""
    return load_or_create_key(path)


def same_secret(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


class LoginThrottle:
    """At most ``limit`` failed logins per client within ``window_s``; then wait."""

    def __init__(self, limit: int = 5, window_s: float = 300.0):
        self.limit = limit
        self.window_s = window_s
        self._fails: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def wait_s(self, client: str) -> float:
        with self._lock:
            q = self._prune(client)
            if len(q) < self.limit:
                return 0.0
            return max(0.0, q[0] + self.window_s - time.monotonic())

    def failed(self, client: str) -> None:
        with self._lock:
            self._prune(client).append(time.monotonic())

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._fails.pop(client, None)

    def _prune(self, client: str) -> deque[float]:
        q = self._fails.setdefault(client, deque())
        while q and q[0] + self.window_s < time.monotonic():
            q.popleft()
        return q

"""What the review app's routes share: one :class:`Review` per app (settings, log store, templates,
session signer, login throttle, the registry of the data directory's documents), kept in ``app.state.review`` and found with :func:`review`, and
the two exceptions the app turns into responses (:class:`NeedLogin`, :class:`BadRequest`).
"""

from __future__ import annotations

import asyncio
import re
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import Path as PathParam
from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import BeforeValidator

from partybot.logschema import ID_MAX, VERDICTS
from partybot.logstore import LogStore
from partybot.review import evalcase
from partybot.review.auth import COOKIE, LoginThrottle, Session, Signer, load_key, same_secret
from partybot.settings import Settings
from retrieval.registry import Registry, registry_of
from partybot.compose import open_catalog
from vectorstore.catalog import Catalog

TEMPLATES = Path(__file__).parent / "templates"
LANGS = {"vi": "Tiếng Việt", "ar": "العربية", "en": "English"}
PER_PAGE = 50
MESSAGES = {"review": "Review saved.", "eval": "Added to the evaluation set.", "logout": "Logged out."}
_UNSET = object()


def _id_digits(value):
    """An id in a path is written as the app writes it: ASCII digits, no sign, no leading zero (int() and
    pydantic also take '+1', '1_0', ' 1', '1.0', '١'), at most as many digits as ID_MAX."""
    if isinstance(value, str) and not re.fullmatch(r"[1-9][0-9]{0,%d}" % (len(str(ID_MAX)) - 1), value):
        raise ValueError("not an id")
    return value


# A turn id in a path. Anything else fails FastAPI's validation, which the app answers with 404.
TurnId = Annotated[int, BeforeValidator(_id_digits), PathParam(ge=1, le=ID_MAX)]


class NeedLogin(Exception):
    pass


class BadRequest(Exception):
    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


class Review:
    def __init__(self, settings: Settings, store: LogStore):
        self.settings = settings
        self.store = store
        self.tz = tz = ZoneInfo(settings.review_timezone)
        env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True))
        env.globals.update(LANGS=LANGS, VERDICTS=VERDICTS, CASE_TYPES=evalcase.CASE_TYPES)
        env.filters["when"] = lambda d: d.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z") if d else ""
        env.filters["ms"] = lambda v: "" if v is None else (f"{v / 1000:.1f} s" if v >= 1000 else f"{v:.0f} ms")
        env.filters["dir"] = lambda lang: "rtl" if lang == "ar" else "ltr"
        env.filters["code_url"] = lambda code: "/registry/" + quote(str(code), safe="")
        self.env = env
        self.signer = Signer(load_key(settings.data_dir / "review_session.key"))
        self.throttle = LoginThrottle()
        self.password = settings.review_password.get_secret_value() if settings.review_password else None
        self.token = settings.review_token.get_secret_value() if settings.review_token else None
        self._catalog: Catalog | None = None
        self._codes: tuple[int, Registry, dict[str, str]] | None = None
        self._codes_lock = threading.Lock()

    def registry(self) -> tuple[Registry, dict[str, str]]:
        """What the data directory's documents say about each code (``retrieval.registry``), read
        from the catalog again after it changed, and each document's name by id; empty while
        nothing is indexed. No embedding model is loaded. Blocking: call it through :meth:`db`."""
        with self._codes_lock:
            if self._catalog is None:
                if not self.settings.catalog_path.exists():  # the review app creates no catalog
                    return Registry({}), {}
                self._catalog = open_catalog(self.settings)
            generation = self._catalog.generation()
            if self._codes is None or self._codes[0] != generation:
                names = {d.doc_id: d.title or d.source for d in self._catalog.documents()}
                self._codes = (generation, registry_of(self._catalog), names)
            return self._codes[1], self._codes[2]

    async def session_of(self, request: Request) -> Session | None:
        """The request's session: its cookie signed by us and unexpired, and when logged in, its id
        still live in the store (not logged out, not expired). Looked up once per request."""
        s = getattr(request.state, "session", _UNSET)
        if s is _UNSET:
            s = self.signer.loads(request.cookies.get(COOKIE))
            if s and s.auth and not (s.sid and await self.db(self.store.review_session_live, s.sid)):
                s = None
            request.state.session = s
        return s

    async def start_session(self, name: str) -> Session:
        s = Session.new(auth=True, hours=self.settings.review_session_hours, name=name)
        await self.db(self.store.start_review_session, s.sid, reviewer=s.name,
                      expires_at=datetime.fromtimestamp(int(s.exp), UTC))
        return s

    async def end_session(self, s: Session) -> None:
        if s.sid:
            await self.db(self.store.end_review_session, s.sid)

    async def require(self, request: Request) -> Session:
        s = await self.session_of(request)
        if s and s.auth:
            return s
        bearer = request.headers.get("authorization", "")
        if (self.token and request.method == "GET" and bearer.startswith("Bearer ")
                and same_secret(bearer[7:], self.token)):
            return Session(auth=True, csrf="", exp=0, name="token")
        raise NeedLogin()

    def set_cookie(self, resp: Response, s: Session) -> None:
        resp.set_cookie(COOKIE, self.signer.dumps(s), max_age=int(self.settings.review_session_hours * 3600),
                        httponly=True, samesite="strict", secure=self.settings.review_secure_cookie, path="/")

    def render(self, request: Request, name: str, status: int = 200, **ctx) -> HTMLResponse:
        ctx.setdefault("session", getattr(request.state, "session", None))  # as session_of found it
        html = self.env.get_template(name).render(request=request, nonce=request.state.nonce, **ctx)
        return HTMLResponse(html, status_code=status)

    async def checked_form(self, request: Request, s: Session) -> dict:
        form = await request.form()
        if not s.csrf or not same_secret(str(form.get("csrf", "")), s.csrf):
            raise BadRequest("This form has expired or did not come from this site. Reload the page and try again.",
                             403)
        return form

    @staticmethod
    async def db(fn, *args, **kwargs):
        return await asyncio.to_thread(fn, *args, **kwargs)


def review(request: Request) -> Review:
    return request.app.state.review


def int_param(raw: str | None, default: int, lo: int, hi: int) -> int:
    """A number from the query string, clamped to [lo, hi]; the default when missing or not a number."""
    try:
        return min(max(int(raw), lo), hi) if raw else default
    except ValueError:
        return default

"""The review web app: reviewers read what the bot told members, find the bad answers and turn
them into evaluation cases. Server-rendered pages (FastAPI + Jinja2, autoescaped), no
JavaScript, charts as inline SVG.

Security: every route but the login page requires a session (or, for GETs, the REVIEW_TOKEN as a
bearer token); every form carries a CSRF token checked on POST; failed logins are throttled per
client; stored text (questions and answers are untrusted) is only ever rendered escaped; a
Content-Security-Policy with a per-request nonce allows no inline script at all.

    create_app(settings, store) -> FastAPI      # tests use this with their own LogStore

The handlers live in APIRouters, one module each: routes_auth (login, logout), routes_turns (list,
export, one turn), routes_dashboard and routes_registry (the document codes), all included here
(ROUTERS); what the handlers share (templates, sessions, the store, the registry) is web.Review,
one per app.
"""

from __future__ import annotations

import logging
import secrets
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse

from partybot.logstore import LogStore
from partybot.review import routes_auth, routes_dashboard, routes_registry, routes_turns
from partybot.review.web import BadRequest, NeedLogin, Review
from partybot.settings import Settings

log = logging.getLogger(__name__)


def create_app(settings: Settings, store: LogStore) -> FastAPI:
    if not settings.review_password and not settings.review_token:
        from core.errors import ConfigError

        raise ConfigError("set REVIEW_PASSWORD (and optionally REVIEW_TOKEN) in .env before starting the "
                          "review app: every page of it requires a login")
    app = FastAPI(title="partybot review", docs_url=None, redoc_url=None, openapi_url=None)
    rv = app.state.review = Review(settings, store)
    app.state.store = store

    @app.middleware("http")
    async def headers(request: Request, call_next):
        # Every answer passes here, so every answer gets the headers: the routes', the exception
        # handlers' (404, 405, the error page, the login redirect) and a failure's. An unexpected
        # exception is logged and answered here, not left to Starlette's outer error handler,
        # whose 500 would skip these headers and whose re-raise makes the server drop the connection.
        request.state.nonce = secrets.token_urlsafe(16)
        try:
            resp = await call_next(request)
        except Exception:
            log.exception("review: %s %s failed", request.method, request.url.path)
            resp = PlainTextResponse("Internal Server Error", status_code=500)
        resp.headers["Content-Security-Policy"] = (
            f"default-src 'none'; style-src 'nonce-{request.state.nonce}'; img-src 'self' data:; "
            "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
        resp.headers["X-Content-Type-Options"] = "nosniff"
        resp.headers["X-Frame-Options"] = "DENY"
        resp.headers["Referrer-Policy"] = "no-referrer"
        resp.headers["Cache-Control"] = "no-store"
        return resp

    @app.exception_handler(NeedLogin)
    async def need_login(request: Request, _exc: NeedLogin):
        if request.method == "GET":
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse("/login?" + urlencode({"next": target}), status_code=303)
        return HTMLResponse("Log in first.", status_code=401)

    @app.exception_handler(BadRequest)
    async def bad_request(request: Request, exc: BadRequest):
        return rv.render(request, "error.html", status=exc.status, message=exc.message)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        if any(tuple(e.get("loc", ()))[:1] == ("path",) for e in exc.errors()):  # /turns/abc: no such page
            await rv.session_of(request)
            return rv.render(request, "error.html", status=404, message="There is no such page.")
        return await request_validation_exception_handler(request, exc)

    for router in ROUTERS:
        app.include_router(router)
    return app


# Every router of the app. FastAPI (0.165) includes a router lazily: app.routes then holds one
# entry per router, not its routes; the routes are the routers' own (router.routes), and the
# tests request each of them through the app.
ROUTERS = (routes_auth.router, routes_turns.router, routes_dashboard.router, routes_registry.router)

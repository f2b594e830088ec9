"""Logging in and out of the review app."""

from __future__ import annotations

import logging
import re
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from partybot.review.auth import COOKIE, Session, same_secret
from partybot.review.web import review

log = logging.getLogger(__name__)
router = APIRouter()


@router.get("/login")
async def login_page(request: Request, next: str = "/"):
    rv = review(request)
    s = await rv.session_of(request)
    if s and s.auth:
        return RedirectResponse(safe_next(next), status_code=303)
    pre = s or Session.new(auth=False, hours=1)
    resp = rv.render(request, "login.html", session=None, csrf=pre.csrf, next=safe_next(next), error=None)
    rv.set_cookie(resp, pre)
    return resp


@router.post("/login")
async def login(request: Request):
    rv = review(request)
    client = request.client.host if request.client else "?"
    pre = await rv.session_of(request)
    form = await request.form()
    nxt = safe_next(str(form.get("next", "/")))
    wait = rv.throttle.wait_s(client)
    if wait:
        return rv.render(request, "login.html", status=429, session=None, csrf=pre.csrf if pre else "", next=nxt,
                         error=f"Too many failed logins. Try again in {int(wait) + 1} seconds.")
    if not pre or not same_secret(str(form.get("csrf", "")), pre.csrf):
        resp = rv.render(request, "login.html", status=403, session=None, csrf=(fresh := Session.new(
            auth=False, hours=1)).csrf, next=nxt, error="The login form expired. Please try again.")
        rv.set_cookie(resp, fresh)
        return resp
    given = str(form.get("password", ""))
    if not rv.password or not given or not same_secret(given, rv.password):
        rv.throttle.failed(client)
        log.warning("review: failed login from %s", client)
        return rv.render(request, "login.html", status=401, session=None, csrf=pre.csrf, next=nxt,
                         error="Wrong password.")
    rv.throttle.succeeded(client)
    name = re.sub(r"\s+", " ", str(form.get("name", ""))).strip()
    resp = RedirectResponse(nxt, status_code=303)
    rv.set_cookie(resp, await rv.start_session(name))
    return resp


@router.post("/logout")
async def logout(request: Request):
    rv = review(request)
    s = await rv.require(request)
    await rv.checked_form(request, s)
    await rv.end_session(s)
    resp = RedirectResponse("/login?" + urlencode({"next": "/"}), status_code=303)
    resp.delete_cookie(COOKIE, path="/")
    return resp


def safe_next(target: str) -> str:
    """Only a path on this site: never another host (an open redirect)."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target

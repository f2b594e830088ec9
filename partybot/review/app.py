"""The review web app: reviewers read what the bot told members, find the bad answers and turn
them into evaluation cases. Server-rendered pages (FastAPI + Jinja2, autoescaped), no
JavaScript, charts as inline SVG.

Security: every route but the login page requires a session (or, for GETs, the REVIEW_TOKEN as a
bearer token); every form carries a CSRF token checked on POST; failed logins are throttled per
client; stored text (questions and answers are untrusted) is only ever rendered escaped; a
Content-Security-Policy with a per-request nonce allows no inline script at all.

    create_app(settings, store) -> FastAPI      # tests use this with their own LogStore
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from partybot.logstore import VERDICTS, LogStore, TurnFilter
from partybot.review import charts, evalcase
from partybot.review.auth import COOKIE, LoginThrottle, Session, Signer, load_key, same_secret
from partybot.settings import Settings

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).parent / "templates"
LANGS = {"vi": "Tiếng Việt", "ar": "العربية", "en": "English"}
PER_PAGE = 50
MESSAGES = {"review": "Review saved.", "eval": "Added to the evaluation set.", "logout": "Logged out."}


class NeedLogin(Exception):
    pass


class BadRequest(Exception):
    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


def create_app(settings: Settings, store: LogStore) -> FastAPI:
    if not settings.review_password and not settings.review_token:
        from partybot.errors import ConfigError

        raise ConfigError("set REVIEW_PASSWORD (and optionally REVIEW_TOKEN) in .env before starting the "
                          "review app: every page of it requires a login")
    app = FastAPI(title="partybot review", docs_url=None, redoc_url=None, openapi_url=None)
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True))
    env.globals.update(LANGS=LANGS, VERDICTS=VERDICTS, CASE_TYPES=evalcase.CASE_TYPES)
    tz = ZoneInfo(settings.review_timezone)
    env.filters["when"] = lambda d: d.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z") if d else ""
    env.filters["ms"] = lambda v: "" if v is None else (f"{v / 1000:.1f} s" if v >= 1000 else f"{v:.0f} ms")
    env.filters["dir"] = lambda lang: "rtl" if lang == "ar" else "ltr"
    signer = Signer(load_key(settings.data_dir / "review_session.key"))
    throttle = LoginThrottle()
    password = settings.review_password.get_secret_value() if settings.review_password else None
    token = settings.review_token.get_secret_value() if settings.review_token else None
    app.state.store = store

    # -- plumbing ----------------------------------------------------------------------------
    def session_of(request: Request) -> Session | None:
        return signer.loads(request.cookies.get(COOKIE))

    def require(request: Request) -> Session:
        s = session_of(request)
        if s and s.auth:
            return s
        bearer = request.headers.get("authorization", "")
        if token and request.method == "GET" and bearer.startswith("Bearer ") and same_secret(bearer[7:], token):
            return Session(auth=True, csrf="", exp=0, name="token")
        raise NeedLogin()

    def set_cookie(resp: Response, s: Session) -> None:
        resp.set_cookie(COOKIE, signer.dumps(s), max_age=int(settings.review_session_hours * 3600), httponly=True,
                        samesite="strict", secure=settings.review_secure_cookie, path="/")

    def render(request: Request, name: str, status: int = 200, **ctx) -> HTMLResponse:
        ctx.setdefault("session", session_of(request))
        html = env.get_template(name).render(request=request, nonce=request.state.nonce, **ctx)
        return HTMLResponse(html, status_code=status)

    async def checked_form(request: Request, s: Session) -> dict:
        form = await request.form()
        if not s.csrf or not same_secret(str(form.get("csrf", "")), s.csrf):
            raise BadRequest("This form has expired or did not come from this site. Reload the page and try again.",
                             403)
        return form

    async def db(fn, *args, **kwargs):
        return await asyncio.to_thread(fn, *args, **kwargs)

    @app.middleware("http")
    async def headers(request: Request, call_next):
        request.state.nonce = secrets.token_urlsafe(16)
        resp = await call_next(request)
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
        return render(request, "error.html", status=exc.status, message=exc.message)

    # -- login -------------------------------------------------------------------------------
    @app.get("/login")
    async def login_page(request: Request, next: str = "/"):
        s = session_of(request)
        if s and s.auth:
            return RedirectResponse(_safe_next(next), status_code=303)
        pre = s or Session.new(auth=False, hours=1)
        resp = render(request, "login.html", session=None, csrf=pre.csrf, next=_safe_next(next), error=None)
        set_cookie(resp, pre)
        return resp

    @app.post("/login")
    async def login(request: Request):
        client = request.client.host if request.client else "?"
        pre = session_of(request)
        form = await request.form()
        nxt = _safe_next(str(form.get("next", "/")))
        wait = throttle.wait_s(client)
        if wait:
            return render(request, "login.html", status=429, session=None, csrf=pre.csrf if pre else "", next=nxt,
                          error=f"Too many failed logins. Try again in {int(wait) + 1} seconds.")
        if not pre or not same_secret(str(form.get("csrf", "")), pre.csrf):
            resp = render(request, "login.html", status=403, session=None, csrf=(fresh := Session.new(
                auth=False, hours=1)).csrf, next=nxt, error="The login form expired. Please try again.")
            set_cookie(resp, fresh)
            return resp
        given = str(form.get("password", ""))
        if not password or not given or not same_secret(given, password):
            throttle.failed(client)
            log.warning("review: failed login from %s", client)
            return render(request, "login.html", status=401, session=None, csrf=pre.csrf, next=nxt,
                          error="Wrong password.")
        throttle.succeeded(client)
        name = re.sub(r"\s+", " ", str(form.get("name", ""))).strip()
        resp = RedirectResponse(nxt, status_code=303)
        set_cookie(resp, Session.new(auth=True, hours=settings.review_session_hours, name=name))
        return resp

    @app.post("/logout")
    async def logout(request: Request):
        s = require(request)
        await checked_form(request, s)
        resp = RedirectResponse("/login?" + urlencode({"next": "/"}), status_code=303)
        resp.delete_cookie(COOKIE, path="/")
        return resp

    # -- list, export ------------------------------------------------------------------------
    @app.get("/")
    async def turn_list(request: Request):
        s = require(request)
        flt, values, errors = parse_filter(request.query_params, settings, tz)
        page = _int(request.query_params.get("page"), 1, 1, 10**6)
        rows, total = await db(store.find_turns, flt, offset=(page - 1) * PER_PAGE, limit=PER_PAGE)
        pages = max(1, -(-total // PER_PAGE))
        query = urlencode({k: v for k, v in values.items() if v})
        return render(request, "list.html", status=400 if errors else 200, session=s, rows=rows, total=total,
                      page=page, pages=pages, values=values, errors=errors, query=query,
                      low=settings.review_low_score, msg=MESSAGES.get(request.query_params.get("msg", "")))

    @app.get("/export.{fmt}")
    async def export(request: Request, fmt: str):
        require(request)
        if fmt not in ("csv", "jsonl"):
            raise BadRequest("Export as .csv or .jsonl.", 404)
        flt, _values, errors = parse_filter(request.query_params, settings, tz)
        if errors:
            raise BadRequest(" ".join(errors))
        data = await db(store.export, fmt, flt=flt)
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M")
        media = "text/csv; charset=utf-8" if fmt == "csv" else "application/x-ndjson; charset=utf-8"
        return Response(data, media_type=media,
                        headers={"Content-Disposition": f'attachment; filename="partybot-turns-{stamp}.{fmt}"'})

    # -- one turn ----------------------------------------------------------------------------
    async def load(turn_id: int) -> tuple[dict, dict | None]:
        turn = await db(store.get_turn, turn_id)
        if not turn:
            raise BadRequest(f"There is no turn {turn_id} (it may have passed the retention period).", 404)
        return turn, await db(store.get_review, turn_id)

    def detail(request: Request, s: Session, turn: dict, review: dict | None, *, status: int = 200,
               error: str | None = None, case_form: dict | None = None) -> HTMLResponse:
        draft = case_form or evalcase.draft(turn, review)
        return render(request, "detail.html", status=status, session=s, t=turn, review=review,
                      answer_html=linkify(turn["answer"], turn["citations"]),
                      passage_index={p.get("chunk_id"): i for i, p in enumerate(turn["passages"] or [], 1)},
                      draft=draft, error=error, case_id=evalcase.case_id(turn),
                      eval_file=settings.review_eval_file.name,
                      msg=MESSAGES.get(request.query_params.get("msg", "")))

    @app.get("/turns/{turn_id}")
    async def turn_page(request: Request, turn_id: int):
        s = require(request)
        turn, review = await load(turn_id)
        return detail(request, s, turn, review)

    @app.post("/turns/{turn_id}/review")
    async def review_turn(request: Request, turn_id: int):
        s = require(request)
        form = await checked_form(request, s)
        await load(turn_id)
        verdict = str(form.get("verdict", "")) or None
        if verdict is not None and verdict not in VERDICTS:
            raise BadRequest("Choose a verdict from the list.")
        await db(store.save_review, turn_id, verdict=verdict, note=str(form.get("note", "")),
                 corrected_answer=str(form.get("corrected_answer", "")), reviewer=s.name)
        return RedirectResponse(f"/turns/{turn_id}?msg=review", status_code=303)

    @app.post("/turns/{turn_id}/eval-case")
    async def add_case(request: Request, turn_id: int):
        s = require(request)
        form = await checked_form(request, s)
        turn, review = await load(turn_id)
        case_form = {"type": str(form.get("type", "")), "gold": [str(g) for g in form.getlist("gold")],
                     "facts": [f for f in str(form.get("facts", "")).split(";") if f.strip()],
                     "reference": str(form.get("reference", ""))}
        if not review:
            return detail(request, s, turn, review, status=400, case_form=case_form,
                          error="Review the turn (save a verdict) before adding it to the evaluation set.")
        try:
            case = evalcase.build(turn, case_type=case_form["type"], gold_chunk_ids=case_form["gold"],
                                  facts=case_form["facts"], reference=case_form["reference"],
                                  noisy=bool(form.get("noisy")))
            await db(evalcase.append, settings.review_eval_file, case)
        except evalcase.CaseError as exc:
            return detail(request, s, turn, review, status=400, case_form=case_form, error=str(exc))
        await db(store.mark_eval_case, turn_id, case["id"])
        return RedirectResponse(f"/turns/{turn_id}?msg=eval", status_code=303)

    # -- dashboard ---------------------------------------------------------------------------
    @app.get("/dashboard")
    async def dashboard(request: Request):
        s = require(request)
        days = _int(request.query_params.get("days"), 30, 7, 365)
        d = await db(store.dashboard, days, tz)
        labels = [x["day"][5:] for x in d["days"]]
        per_day = charts.bar_chart("Questions per day", labels, [("questions", [x["questions"] for x in d["days"]])])
        abst = charts.line_chart(
            "Abstention rate per day", labels,
            [("abstained", [(x["abstained"] / x["questions"] * 100) if x["questions"] else None for x in d["days"]])],
            y_fmt=lambda v: f"{v:.0f}%", y_max=100)
        langs = list(d["by_lang"])
        feedback = charts.bar_chart("Feedback by language", [LANGS.get(lang, lang) for lang in langs],
                                    [("👍 helpful", [d["by_lang"][lang]["up"] for lang in langs]),
                                     ("👎 not helpful", [d["by_lang"][lang]["down"] for lang in langs])])
        sec = lambda v: None if v is None else v / 1000  # noqa: E731
        latency = charts.line_chart("Answer time per day (seconds)", labels,
                                    [(f"p{p}", [sec(x[f"p{p}"]) for x in d["days"]]) for p in (50, 90, 99)],
                                    y_fmt=lambda v: f"{v:.1f} s")
        total = sum(x["questions"] for x in d["days"])
        abstained = sum(x["abstained"] for x in d["days"])
        return render(request, "dashboard.html", session=s, days=days, d=d, total=total, tz=settings.review_timezone,
                      rate=(abstained / total) if total else 0.0,
                      charts=[per_day, abst, feedback, latency])

    return app


# -- helpers -------------------------------------------------------------------------------------
def _safe_next(target: str) -> str:
    """Only a path on this site: never another host (an open redirect)."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _int(raw: str | None, default: int, lo: int, hi: int) -> int:
    try:
        return min(max(int(raw), lo), hi) if raw else default
    except ValueError:
        return default


def parse_filter(params, settings: Settings, tz=UTC) -> tuple[TurnFilter, dict[str, str], list[str]]:
    """The list's filters from the query string: the filter, the values to show back in the
    form, and what was wrong (left out of the filter, said on the page)."""
    keys = ("from", "to", "lang", "abstained", "feedback", "low", "unreviewed", "verdict", "q", "sort")
    values = {k: str(params.get(k, "")).strip() for k in keys}
    errors: list[str] = []
    flt = TurnFilter(tz=tz)
    for key, attr in (("from", "date_from"), ("to", "date_to")):
        if values[key]:
            try:
                setattr(flt, attr, date.fromisoformat(values[key]))
            except ValueError:
                errors.append(f"“{values[key]}” is not a date: use YYYY-MM-DD.")
                values[key] = ""
    if values["lang"] in LANGS:
        flt.lang = values["lang"]
    elif values["lang"]:
        errors.append("Unknown language.")
        values["lang"] = ""
    if values["abstained"] in ("yes", "no"):
        flt.abstained = values["abstained"] == "yes"
    if values["feedback"] in ("up", "down", "none"):
        flt.feedback = values["feedback"]
    if values["low"]:
        flt.below = settings.review_low_score
    flt.unreviewed = bool(values["unreviewed"])
    if values["verdict"] in VERDICTS:
        flt.verdict = values["verdict"]
    flt.text = values["q"][:200] or None
    flt.newest_first = values["sort"] != "old"
    return flt, values, errors


def linkify(answer: str, citations: list[dict]) -> Markup:
    """The answer, escaped, with each valid marker [n] a link to citation n's quote."""
    valid = {int(c["n"]) for c in citations or [] if str(c.get("n", "")).isdigit()}
    out, last = [], 0
    for m in re.finditer(r"\[(\d+)\]", answer):
        out.append(escape(answer[last:m.start()]))
        n = int(m.group(1))
        out.append(Markup(f'<a class="cite" href="#cite-{n}">[{n}]</a>') if n in valid else escape(m.group(0)))
        last = m.end()
    out.append(escape(answer[last:]))
    return Markup("").join(out)

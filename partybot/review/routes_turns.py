"""The conversations: the filtered list, its export, one turn with its review and the form that
makes it an evaluation case."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup, escape

from partybot.logschema import VERDICTS
from partybot.logstore import TurnFilter
from partybot.review import evalcase
from partybot.review.auth import Session
from partybot.review.web import LANGS, MESSAGES, PER_PAGE, BadRequest, Review, TurnId, int_param, review
from partybot.settings import Settings

router = APIRouter()


# -- list, export ----------------------------------------------------------------------------
@router.get("/")
async def turn_list(request: Request):
    rv = review(request)
    s = await rv.require(request)
    flt, values, errors = parse_filter(request.query_params, rv.settings, rv.tz)
    page = int_param(request.query_params.get("page"), 1, 1, 10**6)
    rows, total = await rv.db(rv.store.find_turns, flt, offset=(page - 1) * PER_PAGE, limit=PER_PAGE)
    pages = max(1, -(-total // PER_PAGE))
    query = urlencode({k: v for k, v in values.items() if v})
    return rv.render(request, "list.html", status=400 if errors else 200, session=s, rows=rows, total=total,
                     page=page, pages=pages, values=values, errors=errors, query=query,
                     low=rv.settings.review_low_score, msg=MESSAGES.get(request.query_params.get("msg", "")))


@router.get("/export.{fmt}")
async def export(request: Request, fmt: str):
    rv = review(request)
    await rv.require(request)
    if fmt not in ("csv", "jsonl"):
        raise BadRequest("Export as .csv or .jsonl.", 404)
    flt, _values, errors = parse_filter(request.query_params, rv.settings, rv.tz)
    if errors:
        raise BadRequest(" ".join(errors))
    data = await rv.db(rv.store.export, fmt, flt=flt)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M")
    media = "text/csv; charset=utf-8" if fmt == "csv" else "application/x-ndjson; charset=utf-8"
    return Response(data, media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="partybot-turns-{stamp}.{fmt}"'})


# -- one turn --------------------------------------------------------------------------------
async def load(rv: Review, turn_id: int) -> tuple[dict, dict | None]:
    turn = await rv.db(rv.store.get_turn, turn_id)
    if not turn:
        raise BadRequest(f"There is no turn {turn_id} (it may have passed the retention period).", 404)
    return turn, await rv.db(rv.store.get_review, turn_id)


def detail(request: Request, s: Session, turn: dict, rev: dict | None, *, status: int = 200,
           error: str | None = None, case_form: dict | None = None) -> HTMLResponse:
    rv = review(request)
    draft = case_form or evalcase.draft(turn, rev)
    return rv.render(request, "detail.html", status=status, session=s, t=turn, review=rev,
                     answer_html=linkify(turn["answer"], turn["citations"]),
                     passage_index={p.get("chunk_id"): i for i, p in enumerate(turn["passages"] or [], 1)},
                     draft=draft, error=error, case_id=evalcase.case_id(turn),
                     eval_file=rv.settings.review_eval_file.name,
                     msg=MESSAGES.get(request.query_params.get("msg", "")))


@router.get("/turns/{turn_id}")
async def turn_page(request: Request, turn_id: TurnId):
    rv = review(request)
    s = await rv.require(request)
    turn, rev = await load(rv, turn_id)
    return detail(request, s, turn, rev)


@router.post("/turns/{turn_id}/review")
async def review_turn(request: Request, turn_id: TurnId):
    rv = review(request)
    s = await rv.require(request)
    form = await rv.checked_form(request, s)
    await load(rv, turn_id)
    verdict = str(form.get("verdict", "")) or None
    if verdict is not None and verdict not in VERDICTS:
        raise BadRequest("Choose a verdict from the list.")
    await rv.db(rv.store.save_review, turn_id, verdict=verdict, note=str(form.get("note", "")),
                corrected_answer=str(form.get("corrected_answer", "")), reviewer=s.name)
    return RedirectResponse(f"/turns/{turn_id}?msg=review", status_code=303)


@router.post("/turns/{turn_id}/eval-case")
async def add_case(request: Request, turn_id: TurnId):
    rv = review(request)
    s = await rv.require(request)
    form = await rv.checked_form(request, s)
    turn, rev = await load(rv, turn_id)
    case_form = {"type": str(form.get("type", "")), "gold": [str(g) for g in form.getlist("gold")],
                 "facts": [f for f in str(form.get("facts", "")).split(";") if f.strip()],
                 "reference": str(form.get("reference", ""))}
    if not rev:
        return detail(request, s, turn, rev, status=400, case_form=case_form,
                      error="Review the turn (save a verdict) before adding it to the evaluation set.")
    try:
        case = evalcase.build(turn, case_type=case_form["type"], gold_chunk_ids=case_form["gold"],
                              facts=case_form["facts"], reference=case_form["reference"],
                              noisy=bool(form.get("noisy")))
        await rv.db(evalcase.append, rv.settings.review_eval_file, case)
    except evalcase.CaseError as exc:
        return detail(request, s, turn, rev, status=400, case_form=case_form, error=str(exc))
    await rv.db(rv.store.mark_eval_case, turn_id, case["id"])
    return RedirectResponse(f"/turns/{turn_id}?msg=eval", status_code=303)


# -- helpers ---------------------------------------------------------------------------------
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

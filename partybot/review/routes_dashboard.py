"""The dashboard: questions, abstentions, feedback and answer times per day, as charts."""

from __future__ import annotations

from fastapi import APIRouter, Request

from partybot.review import charts
from partybot.review.web import LANGS, int_param, review

router = APIRouter()


@router.get("/dashboard")
async def dashboard(request: Request):
    rv = review(request)
    s = await rv.require(request)
    days = int_param(request.query_params.get("days"), 30, 7, 365)
    d = await rv.db(rv.store.dashboard, days, rv.tz)
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
    return rv.render(request, "dashboard.html", session=s, days=days, d=d, total=total,
                     tz=rv.settings.review_timezone, rate=(abstained / total) if total else 0.0,
                     charts=[per_day, abst, feedback, latency])

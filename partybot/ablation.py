"""What each rule is worth: the evaluation run once with every rule on, then once with each rule
off (`partybot eval FILE... --ablate`).

The model's replies are memoised for the whole ablation (same prompt, same reply), in memory or
in the ``--reply-cache`` file, so a difference between two runs is the rule's doing, not the
model's sampling; only the prompts a rule changes are generated anew.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Callable

from core.rules import Rule, registered
from partybot.evaluation import LANGS, Case
from partybot.eval_runs import run_answer_eval

# (report key, metric, label, better when higher)
METRICS = [
    ("retrieval", "hit@1", "hit@1", True), ("retrieval", "hit@5", "hit@5", True),
    ("answers", "fact_recall", "facts", True), ("answers", "citation_acc", "citation", True),
    ("answers", "abstention_acc", "abstention", True), ("answers", "false_abstention", "false abst.", False),
    ("answers", "language_ok", "language", True), ("answers", "readable", "readable", True),
    ("answers", "wrong_facts", "wrong facts", False),
]


def ablate(cases: list[Case], answerer, *, rules: list[Rule] | None = None, out: Path | None = None,
           progress: Callable[[str], None] | None = None) -> dict:
    """{"all_on": report, "rules": {name: {"rule": Rule, "report": report}}}; ``out`` gets it as
    JSON, predictions included (to re-score without re-running)."""
    from langchain_core.caches import InMemoryCache
    from langchain_core.globals import get_llm_cache, set_llm_cache

    previous = get_llm_cache()
    set_llm_cache(previous or InMemoryCache())  # a reply cache on disk (--reply-cache) serves as well
    try:
        if progress:
            progress("all rules on")
        base = run_answer_eval(cases, answerer.answer)
        found: dict[str, dict] = {}
        for r in rules or registered():
            if progress:
                progress(f"without {r.name}")
            off = answerer.with_rules(answerer.rules.without(r.name))
            found[r.name] = {"rule": r, "report": run_answer_eval(cases, off.answer)}
    finally:
        set_llm_cache(previous)
    result = {"all_on": base, "rules": found}
    if out:
        Path(out).write_text(json.dumps({"all_on": base, "rules": {
            k: {"stage": v["rule"].stage, "reason": v["rule"].reason, "report": v["report"]} for k, v in found.items()}},
            ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    return result


def _value(report: dict, key: str, metric: str, lang: str) -> float:
    return report.get(key, {}).get(lang, {}).get(metric, float("nan"))


def worth(result: dict, name: str) -> dict[str, dict[str, float]]:
    """{metric label: {lang: what the rule adds}}: all-on minus rule-off (for false abstention,
    rule-off minus all-on), so positive always means the rule helps."""
    base, off = result["all_on"], result["rules"][name]["report"]
    out: dict[str, dict[str, float]] = {}
    for key, metric, label, higher in METRICS:
        out[label] = {}
        for lang in (*LANGS, "all"):
            a, b = _value(base, key, metric, lang), _value(off, key, metric, lang)
            out[label][lang] = (a - b) if higher else (b - a)
    return out


def verdict(w: dict[str, dict[str, float]]) -> str:
    """"pays": some metric of some language is better with the rule and none worse; "costs": the
    opposite; "mixed": some of each (a trade to judge, see docs/rules.md); "no effect"."""
    deltas = [x for v in w.values() for lang, x in v.items() if lang != "all" and not math.isnan(x)]
    better, worse = any(x > 5e-4 for x in deltas), any(x < -5e-4 for x in deltas)
    return {(True, False): "pays", (False, True): "costs", (True, True): "mixed"}.get((better, worse), "no effect")


def table(result: dict) -> str:
    """A Markdown table: one row per rule, each metric's gain from the rule as ar/vi/en."""
    def cell(d: dict[str, float]) -> str:
        return "/".join("0" if abs(d[lang]) < 5e-4 else f"{d[lang]:+.2f}" for lang in LANGS)

    labels = [m[2] for m in METRICS]
    lines = ["| rule (stage) | " + " | ".join(labels) + " | verdict |", "|---" * (len(labels) + 2) + "|"]
    for name, item in result["rules"].items():
        w = worth(result, name)
        lines.append(f"| `{name}` ({item['rule'].stage}) | " + " | ".join(cell(w[x]) for x in labels)
                     + f" | {verdict(w)} |")
    base = result["all_on"]
    lines.append("")
    lines.append("All rules on: " + "; ".join(
        f"{label} " + "/".join(f"{_value(base, key, metric, lang):.2f}" for lang in LANGS)
        for key, metric, label, _ in METRICS))
    return "\n".join(lines)

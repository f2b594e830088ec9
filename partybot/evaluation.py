"""Evaluation as code: read a golden JSONL set, run the system, score it, write predictions.

Retrieval metrics follow ``../shared/eval/README.md``: a passage hits when it contains a gold
span or overlaps it by at least half of the span's characters; hit@k and MRR@10 are computed
over answerable questions, overall and by language.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

LANGS = ("ar", "vi", "en")


@dataclass
class Case:
    id: str
    lang: str
    type: str
    question: str
    gold_docs: list[str]
    gold_spans: list[str]
    answer_facts: list[str]
    raw: dict

    @property
    def answerable(self) -> bool:
        return bool(self.gold_docs)


def load_cases(path: Path) -> list[Case]:
    cases = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            r = json.loads(line)
            cases.append(Case(r["id"], r["lang"], r.get("type", ""), r["question"], r.get("gold_docs", []),
                              r.get("gold_spans", []), r.get("answer_facts", []), r))
        except (json.JSONDecodeError, KeyError) as exc:
            raise ValueError(f"{path}:{n}: not an eval record ({exc})") from exc
    return cases


def span_overlap(passage: str, span: str) -> int:
    """Characters of ``span`` covered by ``passage``, both substrings of one document."""
    if span in passage:
        return len(span)
    if passage in span:
        return len(passage)
    best = 0
    # A chunk boundary cuts the span: the passage ends with a prefix of it, or starts with a suffix.
    for n in range(min(len(span), len(passage)) - 1, 0, -1):
        if passage.endswith(span[:n]) or passage.startswith(span[-n:]):
            best = n
            break
    return best


def is_hit(passage: str, spans: list[str]) -> bool:
    return any(span_overlap(passage, s) * 2 >= len(s) for s in spans if s)


def first_hit_rank(passages: list[str], spans: list[str]) -> int | None:
    for rank, text in enumerate(passages, 1):
        if is_hit(text, spans):
            return rank
    return None


def retrieval_metrics(ranks: Iterable[tuple[str, int | None]]) -> dict[str, dict[str, float]]:
    """{group: {hit@1, hit@3, hit@5, mrr@10, n}} for groups 'all' and each language."""
    groups: dict[str, list[int | None]] = {}
    for lang, rank in ranks:
        groups.setdefault("all", []).append(rank)
        groups.setdefault(lang, []).append(rank)
    out = {}
    for g, rs in groups.items():
        n = len(rs)
        out[g] = {
            "n": n,
            **{f"hit@{k}": sum(1 for r in rs if r and r <= k) / n for k in (1, 3, 5)},
            "mrr@10": sum(1 / r for r in rs if r and r <= 10) / n,
        }
    return out


def format_table(metrics: dict[str, dict[str, float]], columns: list[str]) -> str:
    order = [g for g in ("all", *LANGS) if g in metrics]
    lines = ["group  " + "  ".join(f"{c:>10}" for c in columns)]
    for g in order:
        row = metrics[g]
        lines.append(f"{g:<6} " + "  ".join(
            f"{row[c]:>10.3f}" if isinstance(row.get(c), float) else f"{row.get(c, ''):>10}" for c in columns))
    return "\n".join(lines)


def run_retrieval_eval(cases: list[Case], search: Callable, *, k: int = 10,
                       out: Path | None = None, progress=None) -> dict:
    """Run retrieval for every case; returns metrics and writes predictions if ``out``."""
    ranks, preds = [], []
    for case in cases:
        result = search(case.question, k)
        texts = [p.text for p in result.passages]
        if case.answerable:
            ranks.append((case.lang, first_hit_rank(texts, case.gold_spans)))
        preds.append({
            "id": case.id, "answer": "", "abstained": False, "language": result.lang,
            "cited_docs": [], "citations": [],
            "retrieved": [{"doc": p.source, "text": p.text, "score": p.score, "locator": p.locator,
                           "dense": p.dense} for p in result.passages],
            "timings": result.timings,
        })
        if progress:
            progress(1)
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        with open(out, "w", encoding="utf-8") as f:
            for p in preds:
                f.write(json.dumps(p, ensure_ascii=False) + "\n")
    return {"retrieval": retrieval_metrics(ranks), "predictions": preds}

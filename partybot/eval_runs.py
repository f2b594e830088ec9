"""Running an evaluation: each prediction appended to the output as it is made, a stopped run
resumed where it stopped (``--resume``), retrieval-only runs on several threads (``--jobs``), and
the running figures handed to a progress display after every question.

The metrics themselves are ``partybot.evaluation``'s; this module only runs and keeps the work.
"""

from __future__ import annotations

import json
import os
import statistics
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Iterable

from partybot.evaluation import (Case, answer_metrics, cited_texts, first_hit_rank, retrieval_metrics,
                                 unsupported_facts)

Progress = Callable[[dict], None]  # called after each question with the running figures


class Predictions:
    """The output file, one prediction a line, flushed as each is written. With ``resume``, the
    valid predictions already there for these cases are kept (``done``) and the rest is appended;
    a line cut short by a stopped run is dropped first."""

    def __init__(self, out: Path | None, cases: list[Case], *, resume: bool = False):
        self.done: dict[str, dict] = {}
        self.f = None
        if not out:
            return
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        if resume and out.exists():
            self.done = _valid_predictions(out, {c.id for c in cases})
            tmp = out.with_name(out.name + ".tmp")
            tmp.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in self.done.values()),
                           encoding="utf-8")
            os.replace(tmp, out)
        self.f = open(out, "a" if resume else "w", encoding="utf-8")

    @staticmethod
    def peek(out: Path | None, cases: list[Case]) -> dict[str, dict]:
        """The valid predictions for ``cases`` that ``out`` already holds (nothing is changed)."""
        return _valid_predictions(Path(out), {c.id for c in cases}) if out and Path(out).exists() else {}

    def write(self, pred: dict) -> None:
        if self.f:
            self.f.write(json.dumps(pred, ensure_ascii=False) + "\n")
            self.f.flush()

    def close(self) -> None:
        if self.f:
            self.f.close()


def _valid_predictions(path: Path, ids: set[str]) -> dict[str, dict]:
    done = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            pred = json.loads(line)
        except json.JSONDecodeError:
            continue  # the line a stopped run was writing
        if isinstance(pred, dict) and pred.get("id") in ids:
            done[pred["id"]] = pred
    return done


def _ranks(cases: Iterable[Case], preds: dict[str, dict]) -> list[tuple[str, int | None]]:
    return [(c.lang, first_hit_rank([p["text"] for p in preds[c.id]["retrieved"]], c.gold_spans))
            for c in cases if c.answerable and c.id in preds]


def retrieval_prediction(case: Case, result) -> dict:
    return {
        "id": case.id, "answer": "", "abstained": False, "language": result.lang,
        "cited_docs": [], "citations": [],
        "retrieved": [{"doc": p.source, "text": p.text, "score": p.score, "locator": p.locator,
                       "dense": p.dense} for p in result.passages],
        "timings": result.timings,
    }


def answer_prediction(case: Case, answer) -> dict:
    d = answer.to_dict()
    pred = {
        "id": case.id, "answer": d["text"], "abstained": d["abstained"], "language": d["lang"],
        "cited_docs": d["cited_docs"], "citations": d["citations"],
        "retrieved": [{"doc": p["source"], "text": p["text"], "score": p["score"], "locator": p["locator"],
                       "dense": p["dense"]} for p in d["passages"]],
        "mode": d["mode"], "model": d["model"], "prompt_version": d["prompt_version"],
        "checks": d["checks"], "timings": d["timings"],
    }
    pred["unsupported"] = [] if d["abstained"] else unsupported_facts(d["text"], case.question, cited_texts(d))
    return pred


def run_retrieval_eval(cases: list[Case], search: Callable, *, k: int = 10, out: Path | None = None,
                       progress: Progress | None = None, resume: bool = False, jobs: int = 1) -> dict:
    """Retrieval for every case (``jobs`` at a time; predictions stay in the cases' order)."""
    sink = Predictions(out, cases, resume=resume)
    preds = dict(sink.done)
    todo = [c for c in cases if c.id not in preds]
    try:
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            for case, result in zip(todo, pool.map(lambda c: search(c.question, k), todo)):
                preds[case.id] = retrieval_prediction(case, result)
                sink.write(preds[case.id])
                if progress:
                    hits = retrieval_metrics(_ranks(cases, preds)).get("all", {})
                    progress({"hit@5": hits.get("hit@5", float("nan"))})
    finally:
        sink.close()
    ordered = [preds[c.id] for c in cases]
    return {"retrieval": retrieval_metrics(_ranks(cases, preds)), "predictions": ordered, "resumed": len(sink.done)}


def run_answer_eval(cases: list[Case], answer_fn: Callable, *, out: Path | None = None,
                    progress: Progress | None = None, resume: bool = False) -> dict:
    """The full answer path for every case; retrieval, answer and latency metrics."""
    sink = Predictions(out, cases, resume=resume)
    preds = dict(sink.done)
    try:
        for case in cases:
            if case.id in preds:
                continue
            preds[case.id] = answer_prediction(case, answer_fn(case.question))
            sink.write(preds[case.id])
            if progress:
                progress(running_answer_figures(cases, preds))
    finally:
        sink.close()
    report = answer_report(cases, preds)
    report["resumed"] = len(sink.done)
    return report


def running_answer_figures(cases: list[Case], preds: dict[str, dict]) -> dict:
    rows = [(c, preds[c.id]) for c in cases if c.id in preds]
    m = answer_metrics(rows)["all"]
    lat = [p["timings"].get("total_ms", 0.0) for _, p in rows]
    return {"facts": m["fact_recall"], "abst": m["abstention_acc"], "false abst": m["false_abstention"],
            "p50 s": statistics.median(lat) / 1000 if lat else float("nan")}


def answer_report(cases: list[Case], preds: dict[str, dict]) -> dict:
    """Retrieval, answer and latency metrics of the predictions made for ``cases``."""
    done = [c for c in cases if c.id in preds]
    ordered = [preds[c.id] for c in done]
    lat = sorted(p["timings"].get("total_ms", 0.0) for p in ordered)
    modes: dict[str, int] = {}
    for p in ordered:
        modes[p["mode"]] = modes.get(p["mode"], 0) + 1
    models = sorted({p["model"] for p in ordered if p["mode"].startswith("llm")}) or ["extractive"]
    return {"retrieval": retrieval_metrics(_ranks(done, preds)),
            "answers": answer_metrics([(c, preds[c.id]) for c in done]), "predictions": ordered,
            "modes": modes, "model": ", ".join(models),
            "latency": {"p50_ms": statistics.median(lat) if lat else 0.0,
                        "p95_ms": lat[min(len(lat) - 1, int(round(0.95 * (len(lat) - 1))))] if lat else 0.0}}

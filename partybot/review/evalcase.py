"""A reviewed turn becomes a case of the project's evaluation set (same JSONL format as
``../shared/eval/dev.jsonl``), so that a fix is measured by ``partybot eval``.

The reviewer's verdict decides the draft: "should have abstained" makes an ``unanswerable``
case; otherwise the gold passages are those the reviewer ticks among the retrieved ones (the
cited ones are ticked to start with), the reference answer is the corrected answer (or the
bot's, when it was correct), and the facts are the numbers, codes and dates in it.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
from pathlib import Path

CASE_TYPES = ["factoid", "code", "explain", "list", "ambiguous", "unanswerable"]
_FACT = re.compile(r"\b\d{1,4}[-/]\d{1,2}[-/]\d{2,4}\b"  # dates
                   r"|\b\d+[-/][A-ZĐ]{1,4}[-/][A-ZĐ]{1,4}\b"  # codes such as 37-QĐ/TW, 24/CT-TU
                   r"|\d+(?:[.,]\d+)*\s?%?")  # numbers and percentages


class CaseError(ValueError):
    """The case cannot be made as asked; the message says what to change."""


def case_id(turn: dict) -> str:
    return f"rv-{turn['lang']}-{turn['id']:05d}"


def facts_in(text: str, limit: int = 6) -> list[str]:
    seen: list[str] = []
    for m in _FACT.finditer(text or ""):
        f = m.group(0).strip()
        if f and f not in seen and not re.fullmatch(r"\[?\d\]?", f):  # not a citation marker
            seen.append(f)
    return seen[:limit]


def draft(turn: dict, review: dict | None) -> dict:
    verdict = (review or {}).get("verdict")
    corrected = (review or {}).get("corrected_answer") or ""
    if verdict == "should_abstain":
        return {"type": "unanswerable", "gold": [], "facts": [], "reference": corrected}
    reference = corrected or (turn["answer"] if verdict == "correct" else "")
    reference = re.sub(r"\s*\[\d+\]", "", reference).strip()
    cited = {c.get("chunk_id") for c in turn.get("citations") or [] if c.get("chunk_id")}
    gold = [p["chunk_id"] for p in turn.get("passages") or [] if p.get("chunk_id") in cited]
    return {"type": "factoid", "gold": gold, "facts": facts_in(reference), "reference": reference}


def build(turn: dict, *, case_type: str, gold_chunk_ids: list[str], facts: list[str], reference: str,
          noisy: bool = False) -> dict:
    if case_type not in CASE_TYPES:
        raise CaseError(f"type must be one of {', '.join(CASE_TYPES)}")
    passages = {p.get("chunk_id"): p for p in turn.get("passages") or []}
    facts = [f.strip() for f in facts if f.strip()]
    reference = reference.strip()
    if case_type == "unanswerable":
        gold_chunk_ids, facts = [], []
    else:
        unknown = [c for c in gold_chunk_ids if c not in passages]
        if unknown:
            raise CaseError("a ticked passage is not among this turn's retrieved passages")
        if not gold_chunk_ids:
            raise CaseError("tick at least one passage that contains the answer (or choose type "
                            "'unanswerable')")
        if not facts:
            raise CaseError("give at least one answer fact (a number, code, date or key term), "
                            "separated by semicolons")
        if not reference:
            raise CaseError("write the correct answer (reference answer)")
    gold = [passages[c] for c in gold_chunk_ids]
    return {
        "id": case_id(turn), "lang": turn["lang"], "type": case_type, "noisy": bool(noisy),
        "question": turn["question"],
        "gold_docs": sorted({p["source"] for p in gold}),
        "gold_spans": [span for p in gold for span in spans_of(p["text"], facts)],
        "answer_facts": facts,
        "reference_answer": reference,
        "source_turn": turn["id"],
    }


def spans_of(text: str, facts: list[str], limit: int = 2) -> list[str]:
    """The lines of a passage that hold the answer: those with a fact (or its number) in them,
    else the longest. A line, not the whole chunk: chunks may join paragraphs, while every line
    is text of the document as ingested, so the span stays a substring of it (the scoring rule)."""
    lines = [ln.strip() for ln in text.splitlines() if len(ln.strip()) >= 12]
    if not lines:
        return [text.strip()] if text.strip() else []
    needles = [f.lower() for f in facts] + [n for f in facts for n in re.findall(r"\d{2,}", f)]
    hits = [ln for ln in lines if any(nd in ln.lower() for nd in needles)]
    return hits[:limit] or [max(lines, key=len)]


def append(path: Path, case: dict) -> None:
    """Append one case under an exclusive lock; a case id already in the file is refused."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+", encoding="utf-8") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            f.seek(0)
            existing = f.read()
            for line in existing.splitlines():
                if line.strip() and json.loads(line).get("id") == case["id"]:
                    raise CaseError(f"{case['id']} is already in {path.name}")
            prefix = "\n" if existing and not existing.endswith("\n") else ""
            f.write(prefix + json.dumps(case, ensure_ascii=False) + "\n")
            f.flush()
            os.fsync(f.fileno())
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)

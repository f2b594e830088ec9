"""Evaluation as code: read a golden JSONL set, run the system, score it, write predictions.

Retrieval metrics follow ``../shared/eval/README.md``: a passage hits when it contains a gold
span or overlaps it by at least half of the span's characters; hit@k and MRR@10 are computed
over answerable questions, overall and by language.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from ingest.sources import base_name  # gold_docs name files; sources are paths

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
    w = {c: max(10, len(c)) for c in columns}
    lines = ["group  " + "  ".join(f"{c:>{w[c]}}" for c in columns)]
    for g in order:
        row = metrics[g]
        lines.append(f"{g:<6} " + "  ".join(
            f"{row[c]:>{w[c]}.3f}" if isinstance(row.get(c), float) else f"{row.get(c, ''):>{w[c]}}"
            for c in columns))
    return "\n".join(lines)


# -- answer metrics (../shared/eval/README.md) ----------------------------------------------------
_PERCENT_WORDS = ("phan tram", "percent", "per cent", "في المائة", "في المئة", "بالمائة", "بالمئة")


def normalise_for_facts(text: str) -> str:
    """Fold case, Arabic letter variants, Arabic-Indic digits and Vietnamese diacritics; drop
    thousands separators; spell percent words as %; append every date in ISO form."""
    import re

    from text.dates import find_dates
    from text.normalize import fold

    dates = find_dates(text)
    out = fold(text)
    out = re.sub(r"(?<=\d)[.,\u00a0\u202f ](?=\d{3}\b)", "", out)
    out = re.sub(r"(?<=\d)[.,\u00a0\u202f ](?=\d{3}\b)", "", out)  # 1.234.567
    for word in _PERCENT_WORDS:
        out = re.sub(r"\s*" + re.escape(fold(word)), "%", out)
    out = re.sub(r"\s+%", "%", out)
    return out + " " + " ".join(dates)


def fact_found(fact: str, answer: str) -> bool:
    norm_answer = normalise_for_facts(answer)
    norm_fact = normalise_for_facts(fact).strip()
    # the fact's own ISO date (appended) must not make it look longer than it is
    base = norm_fact.split(" ")[0] if len(norm_fact.split(" ")) == 2 and norm_fact.split(" ")[0] == norm_fact.split(" ")[1] else norm_fact
    return base in norm_answer or fact.lower() in answer.lower()


def answer_language(text: str) -> str:
    import re

    from text.language import detect
    from text.scripts import mostly_arabic

    body = re.sub(r"«[^»]*»|\[\d+\]", " ", text)
    if mostly_arabic(body):
        return "ar"
    return detect(body)  # (which also reads a text of over 30% Arabic letters as Arabic)


def readable(text: str, lang: str) -> bool:
    """The answer is in ``lang`` (:func:`answer_language`) and its letters, «quotes» included and
    ``[n]`` markers aside, are mostly in the script ``lang`` reads: a member who reads only
    Vietnamese cannot use an Arabic quotation, however exact (the thresholds:
    ``text.scripts.readable_by``; codes and names put some Latin letters into an Arabic answer)."""
    import re

    from text.scripts import readable_by

    return answer_language(text) == lang and readable_by(re.sub(r"\[\d+\]", " ", text), lang)


def answer_metrics(rows: list[tuple[Case, dict]]) -> dict[str, dict[str, float]]:
    """rows: (case, prediction). {group: {fact_recall, citation_acc, abstention_acc,
    false_abstention, language_ok, readable, n}}."""
    groups: dict[str, list[tuple[Case, dict]]] = {}
    for case, pred in rows:
        groups.setdefault("all", []).append((case, pred))
        groups.setdefault(case.lang, []).append((case, pred))
    out = {}
    for g, items in groups.items():
        answerable = [(c, p) for c, p in items if c.answerable]
        unanswerable = [(c, p) for c, p in items if not c.answerable]
        recalls = [sum(fact_found(f, p["answer"]) for f in c.answer_facts) / len(c.answer_facts)
                   for c, p in answerable if c.answer_facts]
        cites = [bool(p["cited_docs"]) and {base_name(d) for d in p["cited_docs"]} <= set(c.gold_docs)
                 for c, p in answerable]
        out[g] = {
            "n": len(items),
            "fact_recall": sum(recalls) / len(recalls) if recalls else float("nan"),
            "citation_acc": sum(cites) / len(cites) if cites else float("nan"),
            # ../shared/eval/README.md: the refusal "may add, cited, what they do say nearby"
            "abstention_acc": (sum(p["abstained"] for _, p in unanswerable)
                               / len(unanswerable)) if unanswerable else float("nan"),
            "false_abstention": (sum(p["abstained"] for _, p in answerable) / len(answerable))
            if answerable else float("nan"),
            "language_ok": sum(answer_language(p["answer"]) == c.lang for c, p in items) / len(items),
            "readable": sum(readable(p["answer"], c.lang) for c, p in items) / len(items),
            # answers that state a number, date or code their cited passages do not carry
            "wrong_facts": sum(bool(p.get("unsupported")) for _, p in items) / len(items),
        }
    return out


# -- wrong facts stated ---------------------------------------------------------------------------
# Independent of the answer path's own checks (answering.checks): a measurement must not share
# the code whose failures it counts.
_NUM = re.compile(r"(?<![\w.])\d+(?:[.,\u00a0\u202f ]\d{3})*(?:[.,]\d+)?(?![\w])")
_CITE = re.compile(r"\[\d{1,2}\]")
_LIST_ITEM = re.compile(r"(?m)^\s*(?:\d{1,2}[.)]|[-*•])\s+")
_INLINE_ITEM = re.compile(r"(?<![\d.,/-])\d{1,2}[.)](?=\s)")


def _numbers(text: str) -> list[set[str]]:
    """Each number of ``text`` as the set of its spellings (as written, without thousands
    separators, without leading zeros)."""
    from text.normalize import fold

    out = []
    for m in _NUM.finditer(fold(text)):
        raw = re.sub(r"[\u00a0\u202f ]", "", m.group(0))
        plain = re.sub(r"[.,](?=\d{3}\b)", "", raw)
        out.append({raw, plain, plain.lstrip("0") or "0"})
    return out


def cited_texts(d: dict) -> list[str]:
    """The full text of every passage the answer cites (its quote where it was not retrieved)."""
    by_chunk = {p.get("chunk_id"): p["text"] for p in d.get("passages", []) if p.get("chunk_id")}
    return [by_chunk.get(c.get("chunk_id")) or c.get("quote", "") for c in d.get("citations", [])]


def unsupported_facts(answer: str, question: str, cited: list[str]) -> list[str]:
    """Numbers (dates included, part by part) and document codes an answer states that neither its
    cited passages nor the question carry. A number given with a scale word in the source ("480
    ألف", "480 nghìn") supports the answer's 480000."""
    from text.codes import find_codes

    from text.dates import find_dates

    body = _LIST_ITEM.sub(" ", _CITE.sub(" ", answer))
    if re.search(r"(?<![\d.,/-])1[.)]\s", body) and re.search(r"(?<![\d.,/-])2[.)]\s", body):
        body = _INLINE_ITEM.sub(" ", body)  # "1. …, 2. …": a list's own numbering
    known = set().union(*(v for t in [*cited, question] for v in _numbers(t)))
    # a date written with a month's name ("18 يوليو 2023") gives its day, month and year
    known |= {str(int(part)) for t in [*cited, question] for d in find_dates(t) for part in d.split("-")}
    bad = []
    for spellings in _numbers(body):
        if spellings & known:
            continue
        digits = max(spellings, key=len).replace(".", "").replace(",", "")
        if any(digits.endswith(z) and digits[: -len(z)].lstrip("0") in known for z in ("000", "000000", "000000000")):
            continue
        bad.append(min(spellings, key=len))
    given = [c for t in [*cited, question] for c in find_codes(t)]
    bad += [c.display for c in find_codes(body) if not any(c.matches(g) or g.matches(c) for g in given)]
    return bad

"""How well the facts read at ingest hold against what the documents state
(`partybot eval-facts RELATIONS.jsonl... --codes CODES.jsonl...`).

Gold relations (``relations.jsonl``, one per line: ``{"doc", "sentence", "subject", "relation",
"object"}``, the subject replacing / amending / implementing the object) and gold issue dates
(``codes.jsonl``: ``{"code", "issued", "doc"}``) are written beside each evaluation batch. The
registry of the index (``retrieval.registry``) is compared with them, over the documents the gold
files name only:

- relation precision and recall, counting the relations the registry shows (a replacement read at
  least ``SURE``, an amendment or implementation at least ``SHOWN``);
- reversed relations: the registry says B replaces A where a document says A replaces B;
- issue dates attached to the wrong code: the registry's first issue date of a code differs from
  the date the documents give it.
"""

from __future__ import annotations

import json
from pathlib import Path

from ingest.sources import base_name
from retrieval.registry import Registry
from text.codes import find_codes


def registry_from_files(folders: list[Path]) -> Registry:
    """The registry of text files read as ingest reads them, without an index or a model (for
    measuring a change to the reading in seconds)."""
    from ingest.pipeline import prepare

    docs = [prepare(p.read_text(encoding="utf-8"), str(p)).doc
            for folder in folders for p in sorted(Path(folder).glob("*")) if p.suffix in (".md", ".txt")]
    return Registry.from_documents(docs, {})


def _read_jsonl(paths: list[Path]) -> list[dict]:
    out = []
    for path in paths:
        for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                try:
                    out.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise ValueError(f"{path}:{n}: not JSON ({exc})") from exc
    return out


def _key(code: str) -> str | None:
    """The code's key, or None for a code the project does not read (a state law's "38/2021/QH15")."""
    found = find_codes(code)
    return found[0].key if found else None


def evaluate(registry: Registry, relation_files: list[Path], code_files: list[Path]) -> dict:
    all_rel, all_codes = _read_jsonl(relation_files), _read_jsonl(code_files)
    gold_rel = [r for r in all_rel if _key(r["subject"]) and _key(r["object"])]
    gold_codes = [c for c in all_codes if c.get("issued") and _key(c["code"])]
    unread = len(all_rel) - len(gold_rel) + sum(1 for c in all_codes if c.get("issued") and not _key(c["code"]))
    docs = {r["doc"] for r in gold_rel} | {c["doc"] for c in gold_codes if c.get("doc")}
    gold = {(_key(r["subject"]), r["relation"], _key(r["object"])) for r in gold_rel}
    found: dict[tuple[str, str, str], str] = {}
    for record in registry.all():
        for kind in ("replaces", "amends", "implements"):
            for rel in record.related(kind, acting=True):
                if base_name(rel.evidence.source) in docs:
                    found[(record.code.key, kind, rel.other.key)] = rel.evidence.quote
    hits = [t for t in found if t in gold]
    reversed_ = [t for t in found if t not in gold and (t[2], t[1], t[0]) in gold]
    wrong = [t for t in found if t not in gold]
    dates = {}
    for c in gold_codes:
        dates.setdefault(_key(c["code"]), set()).add(c["issued"])
    date_wrong, date_right, date_missing = [], 0, 0
    for key, want in dates.items():
        record = registry.records.get(key)
        got = record.issued() if record else None
        if got is None:
            date_missing += 1
        elif got[0] in want:
            date_right += 1
        else:
            date_wrong.append((key, got[0], sorted(want)))
    return {
        "gold_relations": len(gold), "found_relations": len(found), "correct": len(hits),
        "precision": len(hits) / len(found) if found else float("nan"),
        "recall": len(hits) / len(gold) if gold else float("nan"),
        "reversed": len(reversed_), "wrong": [[*t, found[t]] for t in wrong],
        "missed": [list(t) for t in sorted(gold - set(found))],
        "dated_codes": len(dates), "dates_right": date_right, "dates_missing": date_missing,
        "dates_wrong": date_wrong, "unread_codes": unread,
    }


def report(result: dict, *, details: bool) -> str:
    lines = [
        f"relations: {result['found_relations']} read, {result['gold_relations']} stated; "
        f"precision {result['precision']:.3f}, recall {result['recall']:.3f}, reversed {result['reversed']}",
        f"issue dates: {result['dated_codes']} codes dated by the documents; {result['dates_right']} right, "
        f"{len(result['dates_wrong'])} wrong, {result['dates_missing']} not read"
        + (f"; {result['unread_codes']} gold line(s) name a code of a kind not read (left out)"
           if result["unread_codes"] else ""),
    ]
    if details:
        lines += [f"  wrong relation: {' '.join(t[:3])}  ← {t[3][:160]!r}" for t in result["wrong"]]
        lines += [f"  missed relation: {' '.join(t)}" for t in result["missed"]]
        lines += [f"  wrong date: {k} read {got}, stated {', '.join(want)}" for k, got, want in result["dates_wrong"]]
    return "\n".join(lines)

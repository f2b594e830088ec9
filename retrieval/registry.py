"""The document registry: one record per code, with everything the indexed documents say about
it (see ``ingest.facts``), including codes that are only mentioned ("37-QĐ/TW: text not
ingested; described by 3 articles").

A record's status is read from the relations, never assumed: *replaced* when a document says
another one replaced it (followed along the chain to the one that governs now), *in force as far
as the sources say* when a document states when it took effect and none says it was replaced,
*disputed* when the sources name different replacements, and *unknown* otherwise. Every fact
keeps its evidence: the document, the passage and how sure the reading was.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from text.codes import Code, only_fit, parse_key
from text.terminology import level_of_issuer

SURE = 0.5  # a replacement read at least this surely decides a status
# An amendment or an implementing text is shown from a weaker reading: naming one wrongly misleads
# less than calling a text in force replaced.
SHOWN = 0.35
GENRE_RANK = {"official": 0, "summary": 1, "news": 2}


@dataclass(frozen=True)
class Evidence:
    doc_id: str
    source: str
    title: str | None
    chunk_id: str
    genre: str
    confidence: float
    quote: str = ""  # the sentence it was read from


@dataclass(frozen=True)
class Relation:
    kind: str  # "replaces" | "amends" | "implements"
    acting: bool  # True: this record's code does it to `other`; False: `other` does it to this one
    other: Code
    evidence: Evidence


@dataclass
class Status:
    state: str  # "replaced" | "in_force_stated" | "disputed" | "unknown"
    by: list[Relation] = field(default_factory=list)  # the replacing documents' relations
    current: Code | None = None  # the end of the replacement chain (what governs now)
    chain: list[Code] = field(default_factory=list)  # by, by's replacement, … up to current


@dataclass
class Record:
    code: Code
    facts: dict[str, list[tuple[str, Evidence]]] = field(default_factory=dict)  # issued, effective, issuer, about
    relations: list[Relation] = field(default_factory=list)
    texts: list[Evidence] = field(default_factory=list)  # documents that are this code's own text
    mentioned_in: list[str] = field(default_factory=list)  # doc ids

    @property
    def own_text(self) -> list[Evidence]:
        """The documents that are its text (official, or a summary in that layout), not news."""
        return [e for e in self.texts if e.genre in ("official", "summary")]

    @property
    def level(self) -> str | None:
        return level_of_issuer(self.code.issuer)

    def values(self, kind: str) -> list[tuple[str, Evidence]]:
        """A fact's values, best read first (surest, then the regulation's own text before news)."""
        return sorted(self.facts.get(kind, []), key=lambda ve: (-ve[1].confidence, GENRE_RANK.get(ve[1].genre, 3)))

    def first(self, kind: str) -> tuple[str, Evidence] | None:
        values = self.values(kind)
        return values[0] if values else None

    def issued(self) -> tuple[str, Evidence] | None:
        return self.first("issued")

    def effective(self) -> tuple[str, Evidence] | None:
        """When it took effect; "from signing" is its date of issue when that is known."""
        found = self.first("effective")
        if found and found[0] == "signing":
            issued = self.issued()
            return (issued[0] if issued else "signing", found[1])
        return found

    def issue_years(self) -> list[str]:
        """Distinct years of issue: more than one means the code names more than one document
        (09-NQ/TU of Hanoi, 2012, and of Quang Ninh, 2022)."""
        return sorted({v[:4] for v, e in self.facts.get("issued", []) if e.confidence >= SURE})

    def related(self, kind: str, acting: bool, sure: float | None = None) -> list[Relation]:
        sure = sure if sure is not None else (SURE if kind == "replaces" else SHOWN)
        out: dict[str, Relation] = {}
        for r in sorted(self.relations, key=lambda r: -r.evidence.confidence):
            if r.kind == kind and r.acting == acting and r.evidence.confidence >= sure:
                out.setdefault(r.other.key, r)
        return list(out.values())


class Registry:
    def __init__(self, records: dict[str, Record]):
        self.records = records

    @classmethod
    def from_documents(cls, docs, chunk_ids: dict[tuple[str, int], str]) -> "Registry":
        """Build from catalog documents (their ``meta["facts"]``); ``chunk_ids`` maps (doc id,
        ordinal) to the chunk id a fact is cited by."""
        raw: list[tuple[str, str, str, Evidence]] = []
        mentions: dict[str, list[str]] = {}
        texts: dict[str, list[Evidence]] = {}
        for doc in docs:
            meta = doc.meta or {}
            doc_genre = meta.get("genre", "news")
            for key in doc.codes:
                mentions.setdefault(key, []).append(doc.doc_id)
            if meta.get("own_code"):
                texts.setdefault(meta["own_code"], []).append(
                    Evidence(doc.doc_id, doc.source, doc.title, chunk_ids.get((doc.doc_id, 0), ""), doc_genre, 1.0,
                             doc.title or ""))
            for f in meta.get("facts", []):
                ev = Evidence(doc.doc_id, doc.source, doc.title, chunk_ids.get((doc.doc_id, f.get("chunk", 0)), ""),
                              doc_genre, float(f["confidence"]), f.get("quote", ""))
                raw.append((f["code"], f["kind"], f["value"], ev))
        full = {k for k in [*mentions, *texts, *(r[0] for r in raw)] if "/" in k}
        resolve = _resolver(full)
        records: dict[str, Record] = {}

        def record(key: str) -> Record:
            key = resolve(key)
            if key not in records:
                records[key] = Record(parse_key(key))
            return records[key]

        for key, docs_ in mentions.items():
            rec = record(key)
            rec.mentioned_in += [d for d in docs_ if d not in rec.mentioned_in]
        for key, evs in texts.items():
            record(key).texts.extend(evs)
        for key, kind, value, ev in raw:
            rec = record(key)
            if kind in ("replaces", "amends", "implements"):
                other = record(value)
                rec.relations.append(Relation(kind, True, other.code, ev))
                other.relations.append(Relation(kind, False, rec.code, ev))
            else:
                rec.facts.setdefault(kind, []).append((value, ev))
        return cls(records)

    # -- reads -------------------------------------------------------------------------------
    def find(self, code: Code) -> list[Record]:
        """The records ``code`` names: the one with its key, or every full code a partial code
        ("Quy định 69") fits."""
        if code.key in self.records:
            return [self.records[code.key]]
        return [r for r in self.records.values() if code.matches(r.code) and r.code.issuer]

    def all(self) -> list[Record]:
        return sorted(self.records.values(), key=lambda r: (r.code.type, r.code.number, r.code.issuer or ""))

    def status(self, record: Record) -> Status:
        by = record.related("replaces", acting=False)
        if not by:
            return Status("in_force_stated" if record.effective() else "unknown")
        ends = {}
        for r in by:  # "replaced by B" and "replaced by C" where C replaced B: one chain, no dispute
            chain = [r.other, *self._successors_chain(r.other)]
            ends.setdefault(chain[-1].key, (r, chain))
        if len(ends) > 1:
            return Status("disputed", by=by)
        (_, chain), = ends.values()
        return Status("replaced", by=by, current=chain[-1], chain=chain)

    def _successors_chain(self, code: Code) -> list[Code]:
        out: list[Code] = []
        seen = {code.key}
        rec = self.records.get(code.key)
        while rec is not None:
            nxt = rec.related("replaces", acting=False)
            if len({r.other.key for r in nxt}) != 1 or nxt[0].other.key in seen:
                break
            out.append(nxt[0].other)
            seen.add(nxt[0].other.key)
            rec = self.records.get(nxt[0].other.key)
        return out


def _resolver(full: set[str]):
    """A partial key ("22-qd") as the one full code of the corpus it fits, else as it is."""
    codes = [parse_key(k) for k in full]

    def resolve(key: str) -> str:
        if "/" in key:
            return key
        fit = only_fit(parse_key(key), codes)
        return fit.key if fit else key

    return resolve


def registry_of(catalog) -> Registry:
    """The registry of a catalog as it is now (for commands that need no search)."""
    _, chunks, docs = catalog.snapshot()
    return Registry.from_documents(docs.values(), {(c.doc_id, c.ordinal): c.chunk_id for c in chunks})


def record_dict(record: Record, registry: Registry) -> dict:
    """A record as plain data (``docs show --json``, the review app)."""
    status = registry.status(record)

    def ev(e: Evidence) -> dict:
        return {"source": e.source, "doc_id": e.doc_id, "chunk_id": e.chunk_id, "genre": e.genre,
                "confidence": e.confidence, "quote": e.quote}

    return {
        "code": record.code.display, "type": record.code.type, "level": record.level,
        "status": status.state, "replaced_by": [r.other.display for r in status.by],
        "current": status.current.display if status.current else None,
        "issue_years": record.issue_years(),
        **{kind: [{"value": v, **ev(e)} for v, e in record.values(kind)]
           for kind in ("issued", "effective", "issuer", "about")},
        "relations": [{"kind": r.kind, "direction": "acts on" if r.acting else "acted on by",
                       "other": r.other.display, **ev(r.evidence)} for r in record.relations],
        "texts": [ev(e) | {"title": e.title} for e in record.texts],
        "mentioned_in": record.mentioned_in,
    }

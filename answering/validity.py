"""Stage 2b, validity: which document is in force.

What the indexed documents say about a code (``retrieval.registry``) decides three things:
- a question about a document's standing ("còn hiệu lực không?", "what replaced …?", "has it been
  amended?", "which document guides it?") is answered from those statements, each cited, in the
  asker's language; when they do not say, the answer says so;
- an answer about, or citing, a replaced document opens with what replaced it;
- among passages that match about as well, those of a document in force, of the regulation's own
  text, and of the central level (unless the question names a place) come first.
"""

from __future__ import annotations

from dataclasses import replace

from answering.prompts import messages
from answering.types import Decision, Found, Question
from core.rules import Rules, rule
from retrieval.hybrid import Passage
from retrieval.registry import GENRE_RANK, Evidence, Record, Registry
from text.codes import Code
from text.dates import format_date
from text.language import detect
from text.normalize import fold
from text.relations import ASKS_CONTENT, asks_about_version, asks_issue
from text.scripts import mostly_arabic
from text.terminology import body, type_name
from text.transliteration import names_place

VALIDITY_ANSWER = rule(
    "validity-answer", "decide",
    "a question about a document's standing (in force? replaced? amended? guided by?) is answered "
    "from what the documents state about that document, each statement cited, and not from the "
    "passage that shares most words with it")
REPLACED_NOTICE = rule(
    "replaced-notice", "compose",
    "a member must not act on a text that no longer governs: an answer about, or citing, a "
    "document the sources say was replaced opens with what replaced it")
PREFER_IN_FORCE = rule(
    "prefer-in-force", "decide",
    "of documents that match a question about as well, one the sources say was replaced comes "
    "after those in force")
AUTHORITY = rule(
    "authority", "decide",
    "of documents that match a question about as well, the regulation's own text outranks a "
    "summary or news about it, and the central level outranks a local one unless the question "
    "names a place")
ISSUE_DATE_KNOWN = rule(
    "issue-date-known", "decide",
    "\"when was X issued / signed?\" is answerable only if some document dates X's issue: a date "
    "written near X may be another event's (a conference on X), and the model would take it")
NEAR = 0.9  # "about as well": a document's best passage scores at least this share of the best

def label(code: Code, lang: str) -> str:
    return f"{type_name(code.type, lang)} {code.display}"


class Cites:
    """The passages an answer cites, numbered in order of first use."""

    def __init__(self, search, first: int = 1):
        self.search, self.first = search, first
        self.passages: list[Passage] = []
        self.quotes: list[str] = []

    def n(self, ev: Evidence) -> int:
        for i, p in enumerate(self.passages):
            if p.chunk_id == ev.chunk_id:
                return self.first + i
        passage = self.search.passage(ev.chunk_id)
        if passage is None:  # the catalog changed under us: cite the document by its name
            passage = Passage(ev.chunk_id, ev.doc_id, ev.source, ev.title, ev.quote, "", [], None)
        self.passages.append(passage)
        self.quotes.append(ev.quote or passage.text)
        return self.first + len(self.passages) - 1


def _when(registry: Registry, code: Code, lang: str) -> str:
    rec = registry.records.get(code.key)
    issued = rec.issued() if rec else None
    return messages(lang)["validity"]["when"].format(date=format_date(issued[0], lang)) if issued else ""


def standing(record: Record, registry: Registry, lang: str, cites: Cites) -> tuple[list[str], bool]:
    """Whether ``record``'s document is in force, as sentences; and whether the sources say."""
    msg, name = messages(lang)["validity"], label(record.code, lang)
    status = registry.status(record)
    if status.state == "replaced":
        first = status.by[0]
        lines = [msg["replaced"].format(label=name, by=label(first.other, lang), when=_when(registry, first.other, lang),
                                        n=cites.n(first.evidence))]
        prev = first.other
        for nxt in status.chain[1:]:
            rel = registry.records[prev.key].related("replaces", acting=False)[0]
            lines.append(msg["replaced_chain"].format(by=label(prev, lang), next=label(nxt, lang),
                                                      when=_when(registry, nxt, lang), n=cites.n(rel.evidence)))
            prev = nxt
        if len(status.chain) > 1:
            lines.append(msg["governs_now"].format(current=label(status.current, lang)))
        return lines, True
    if status.state == "disputed":
        items = "; ".join(f"{label(r.other, lang)} [{cites.n(r.evidence)}]" for r in status.by)
        return [msg["disputed"].format(label=name, list=items)], True
    effective = record.effective()
    if effective and effective[0] != "signing":
        return [msg["in_force"].format(label=name, date=format_date(effective[0], lang), n=cites.n(effective[1]))], True
    if effective:
        return [msg["in_force_signing"].format(label=name, n=cites.n(effective[1]))], True
    return [msg["unknown"].format(label=name)], False


def _relations(record: Record, registry: Registry, kind: str, lang: str, cites: Cites,
               seen: set | None = None) -> list[str]:
    """``record``'s relations of one kind, both ways, as sentences; ``seen`` (acting, other) pairs
    already said (a question naming both documents would get each relation twice)."""
    msg = messages(lang)["validity"]
    seen = seen if seen is not None else set()
    key = {"amends": "amended", "implements": "implemented"}.get(kind)
    out = []
    for r in record.related(kind, acting=False) if key else []:
        if (r.other.key, record.code.key) not in seen:
            seen.add((r.other.key, record.code.key))
            out.append(msg[key].format(label=label(record.code, lang), other=label(r.other, lang),
                                       when=_when(registry, r.other, lang), n=cites.n(r.evidence)))
    for r in record.related(kind, acting=True):
        if (record.code.key, r.other.key) not in seen:
            seen.add((record.code.key, r.other.key))
            out.append(msg[kind].format(label=label(record.code, lang), other=label(r.other, lang),
                                        n=cites.n(r.evidence)))
    return out


def describe(record: Record, registry: Registry, lang: str, cites: Cites) -> list[str]:
    """Everything known about one code, each fact cited: for /doc and `partybot docs show`."""
    msg, name = messages(lang)["validity"], label(record.code, lang)
    lines: list[str] = []
    years = record.issue_years()
    if len(years) > 1:
        lines.append(msg["several"].format(code=record.code.display, years=", ".join(years)))
    issued = record.issued()
    if issued:
        lines.append(msg["issued"].format(label=name, date=format_date(issued[0], lang), n=cites.n(issued[1])))
    issuer = record.first("issuer")
    if issuer and body(issuer[0]):
        lines.append(msg["issued_by"].format(body=body(issuer[0]).name(lang), n=cites.n(issuer[1])))
    about = _in_language(record.values("about"), lang)
    if about:
        lines.append(msg["about"].format(about=about[0], n=cites.n(about[1])))
    lines += standing(record, registry, lang, cites)[0]
    for kind in ("replaces", "amends", "implements"):
        lines += _relations(record, registry, kind, lang, cites)
    if record.own_text:
        best = min(record.own_text, key=lambda e: GENRE_RANK.get(e.genre, 3))
        lines.append(msg["text_ingested"].format(genre=msg[f"genre_{best.genre}"], title=best.title or best.source))
    elif record.texts:  # news whose subject it is: described, not ingested
        lines.append(msg["described_by"].format(n=len(record.mentioned_in),
                                                titles="; ".join(e.title or e.source for e in record.texts[:3])))
    else:
        lines.append(msg["not_ingested"].format(n=len(record.mentioned_in)))
    return lines


def _in_language(values: list[tuple[str, Evidence]], lang: str) -> tuple[str, Evidence] | None:
    """The first value written in ``lang``, else in its script; none in another script: a
    Vietnamese reader cannot use an Arabic phrase."""
    same = [v for v in values if detect(v[0], default=lang) == lang]
    script = [v for v in values if mostly_arabic(v[0]) == (lang == "ar")]
    return (same or script or [None])[0]


class Validity:
    def __init__(self, search):
        self.search = search

    def _records(self, question: Question) -> list[Record]:
        registry = self.search.registry()
        out: list[Record] = []
        for code in question.codes:
            for rec in registry.find(code):
                if rec not in out:
                    out.append(rec)
        return out

    def decide(self, question: Question, rules: Rules) -> Decision | None:
        """The answer to a question about a named document's standing, from the registry; None
        when the question is about content, or the registry has nothing on what it asks."""
        if not question.codes or not rules.on(VALIDITY_ANSWER):
            return None
        undated = self._undated(question, rules)
        if undated is not None:
            return undated
        kind = asks_about_version(question.text)
        records = self._records(question) if kind else []
        if not records and kind:
            # no document names it: the sources cannot say whether it is in force
            unknown = messages(question.lang)["validity"]["unknown_code"]
            return Decision("answer", compose="registry", why="status not stated",
                            written=unknown.format(code=", ".join(c.display for c in question.codes)))
        if not records:
            return None
        registry, cites = self.search.registry(), Cites(self.search)
        lines: list[str] = []
        said, seen = False, set()
        for rec in records:
            state = registry.status(rec).state
            if kind == "status":
                sentences, known = standing(rec, registry, question.lang, cites)
                if state == "replaced":  # "is it still in force?" — no
                    sentences = [f'{messages(question.lang)["validity"]["no"]} {sentences[0]}', *sentences[1:]]
                lines += sentences
                said = said or known
                if known:
                    lines += _relations(rec, registry, "amends", question.lang, cites, seen)
                continue
            if state in ("replaced", "disputed") or (kind == "replaces" and state == "in_force_stated"):
                lines += standing(rec, registry, question.lang, cites)[0]
                said = said or kind == "replaces"
            related = _relations(rec, registry, kind, question.lang, cites, seen)
            lines += related
            said = said or bool(related)
        if not said and kind != "status":
            return None  # "guidance", "implementation" in a question about content: the search answers
        if kind in ("amends", "implements") and said and self._both_ends(records, kind) and ASKS_CONTENT.search(
                fold(question.text)):
            # "What amendments did 264 make to 69?": the sources say that it did, not what it changed
            lines.append(messages(question.lang)["validity"]["no_details"])
            said = False
        return Decision("answer", compose="registry", sources=tuple(cites.passages), excerpts=tuple(cites.quotes),
                        written=" ".join(lines), why="" if said else "status not stated")

    def _undated(self, question: Question, rules: Rules) -> Decision | None:
        """ISSUE_DATE_KNOWN: a refusal when the question asks when the documents it names were
        issued and no document gives a date of issue for any of them."""
        if not rules.on(ISSUE_DATE_KNOWN) or question.expects != "date" or not asks_issue(question.text):
            return None
        records = self._records(question)
        if not records or any(r.issued() for r in records):
            return None  # a code no document names is the status branch's; a dated one is answerable
        msg = messages(question.lang)["validity"]
        return Decision("answer", compose="registry", why="status not stated",
                        written=" ".join(msg["undated"].format(label=label(r.code, question.lang)) for r in records))

    @staticmethod
    def _both_ends(records: list[Record], kind: str) -> bool:
        """The question names both documents of a relation it asks about."""
        keys = {r.code.key for r in records}
        return any(rel.other.key in keys for r in records for rel in r.related(kind, True) + r.related(kind, False))

    def annotate(self, question: Question, decision: Decision, rules: Rules) -> Decision:
        """Open the answer with what replaced the documents it is about or cites (REPLACED_NOTICE)."""
        if not rules.on(REPLACED_NOTICE) or decision.compose == "registry":
            return decision
        registry = self.search.registry()
        codes = [r.code for r in self._records(question)]
        for p in decision.sources:
            doc = self.search.document(p.doc_id)
            own = (doc.meta or {}).get("own_code") if doc else None
            codes += [registry.records[own].code] if own in registry.records else []
        cites = Cites(self.search, first=len(decision.sources) + 1)
        notes: list[str] = []
        msg = messages(question.lang)["validity"]
        for code in dict.fromkeys(codes):
            rec = registry.records.get(code.key)
            status = registry.status(rec) if rec else None
            if status is None or status.state != "replaced":
                continue
            by = status.current or status.by[0].other
            rel = status.by[0]
            notes.append(msg["notice"].format(label=label(code, question.lang), by=label(by, question.lang),
                                              when=_when(registry, by, question.lang), n=cites.n(rel.evidence)))
        if not notes:
            return decision
        return replace(decision, notice=" ".join(notes), notice_sources=tuple(cites.passages),
                       notice_excerpts=tuple(cites.quotes))

    def rerank(self, question: Question, found: Found, rules: Rules) -> Found:
        """PREFER_IN_FORCE and AUTHORITY, between documents whose best passages match about as
        well as the best one (NEAR) and that are about the same text: a document comes before
        one that mentions its code when it is that text itself, or a higher level's (AUTHORITY),
        and before one whose code it replaced (PREFER_IN_FORCE). Other documents keep their
        places: a regulation is not an answer because it is a regulation."""
        use_force, use_authority = rules.on(PREFER_IN_FORCE), rules.on(AUTHORITY)
        if not (use_force or use_authority) or not found.passages or found.passages[0].score <= 0:
            return found
        registry, top, place = self.search.registry(), found.passages[0].score, names_place(question.text)
        docs: dict[str, dict] = {}
        for p in found.passages:
            if p.doc_id not in docs:
                doc = self.search.document(p.doc_id)
                meta = (doc.meta or {}) if doc else {}
                own = registry.records.get(meta.get("own_code") or "")
                level = 1 if (own and own.level == "local" and not place) else 0
                status = registry.status(own) if own else None
                docs[p.doc_id] = {"near": p.score >= NEAR * top, "own": own, "codes": set(doc.codes if doc else ()),
                                  "rank": (GENRE_RANK.get(meta.get("genre", "news"), 3), level),
                                  # the codes that replaced it, when the sources say it was replaced
                                  "replaced_by": {c.key for c in status.chain} if status and status.state == "replaced"
                                  else set()}

        def outranks(b: dict, a: dict) -> bool:
            if not (a["near"] and b["near"] and b["own"]):
                return False
            if use_force and b["own"].code.key in a["replaced_by"]:
                return True
            return use_authority and b["own"].code.key in a["codes"] and b["rank"] < a["rank"]

        order = list(docs)
        for _ in range(len(order) ** 2):  # a few adjacent swaps; the relation has no cycles
            swap = next((i for i in range(len(order) - 1) if outranks(docs[order[i + 1]], docs[order[i]])), None)
            if swap is None:
                break
            order[swap], order[swap + 1] = order[swap + 1], order[swap]
        if order == list(docs):
            return found
        return replace(found, passages=tuple(p for d in order for p in found.passages if p.doc_id == d))

"""Stage 3, decide: answer or refuse, from which sources, and how the answer is composed."""

from __future__ import annotations

import re

from answering.excerpts import digest, excerpts
from answering.retrieve import ASKED_ARTICLE
from answering.topic_gate import TopicGate
from answering.types import Decision, Found, Question
from answering.understand import ASKS_NUMBER
from core.rules import Rules, rule
from retrieval.hybrid import HybridSearch, Passage
from text.articles import ARTICLE_MENTION
from text.codes import Code, parse_key
from text.dates import find_dates
from text.lexicon import cue
from text.names import names_person
from text.normalize import fold
from text.quantities import states_quantity
from text.relations import asks_issue

# Questions asking for a calendar date and for an article's number (text/lexicon, [question]).
_CALENDAR = cue("question", "calendar")
_WHICH_ARTICLE = cue("question", "which_article")
_SIGNED = cue("question", "signed")
# An issue date read this surely (written next to the code, or a heading's) tells documents apart.
DATED = 0.75
# A year written on its own ("năm 2022", "of 2022"), not inside a date, a range or a code.
_YEAR = re.compile(r"(?<![\d/.-])((?:19|20)\d{2})(?![\d/.-])")

ABSTAIN_BELOW = rule(
    "abstain-below", "decide",
    "when even the closest passage is far from the question in meaning, the sources do not cover it",
    setting="abstain_below", off=0.0)
NAMED_CODE_FOUND = rule(
    "named-code-found", "decide",
    "a question that names a code the index holds is about that document, however far its "
    "wording is from the document's (it is not refused for low relevance)")
AMBIGUOUS_CODES = rule(
    "ambiguous-codes", "decide",
    "one code written in full (09-NQ/TU) can name different documents of different years: the "
    "answer names each, with its date, instead of mixing them")
OTHER_DOC_RATIO = rule(
    "other-document-ratio", "decide",
    "a second document is a source only when it matches the question about as well as the best "
    "one: a small model given passages of unrelated documents cites them",
    setting="answer_other_doc_ratio", off=0.0)
PLACE_IN_SOURCES = rule(
    "place-in-sources", "decide",
    "a question about a province or city is answered from documents about it: when none of the "
    "documents found mentions the place it names, they do not cover it (another province's "
    "figures are not its answer)")
NAMED_IN_EVIDENCE = rule(
    "named-in-evidence", "decide",
    "a passage answers a question about a named province, city or document only when its "
    "document names it: the sources are the passages of the documents found that name what the "
    "question names, not those that merely share its other words")
OWN_WORDS_PICK = rule(
    "own-words-pick-the-document", "decide",
    "when a code names several documents, a year or a place the question gives that fits only one "
    "of them picks that one (\"09-NQ/TU of 2022 of Quang Ninh\")")
ASKED_KIND = rule(
    "asked-kind-in-evidence", "decide",
    "a question asking how many, which article, which day or who signed is answered from the "
    "passages that give a number, an article, a date or a person's name, and refused when none does: "
    "passages on its topic that give none do not hold its answer")
YEAR_IN_EVIDENCE = rule(
    "year-in-evidence", "decide",
    "a question about a given year (\"how many joined in 2023?\") is refused when no document found "
    "mentions that year: another year's figures or events are not its answer")
QUOTE_SAME_LANGUAGE = rule(
    "quote-same-language", "decide",
    "with the local model, a question in the language of its best source is answered by quoting "
    "it: exact and instant, where the 1.5B model's rewording loses facts",
    setting="quote_same_language", off=False)


class Decide:
    def __init__(self, search: HybridSearch, gate: TopicGate, settings, *, local_model: bool, can_generate):
        self.search = search
        self.gate = gate
        self.settings = settings
        self.local_model = local_model
        self.can_generate = can_generate  # () -> bool: a chat model is configured

    def __call__(self, question: Question, found: Found, rules: Rules) -> Decision:
        result = found.result
        if not question.text or not found.passages:
            return Decision("abstain", "nothing found")
        code_hit = rules.on(NAMED_CODE_FOUND) and any(p.code_match == 2 for p in result.passages)
        if result.relevance < rules.value(ABSTAIN_BELOW, 0.0) and not code_hit:
            return Decision("abstain", "low relevance")
        if question.articles and rules.on(ASKED_ARTICLE) and not found.article_ids:
            return Decision("abstain", "no such article")
        if not question.codes and self.gate.usable(rules) and self.gate.off_topic(result.vector, rules):
            return Decision("abstain", "off-topic")
        missing = self.missing_place(question, found) if rules.on(PLACE_IN_SOURCES) else None
        if missing:
            return Decision("abstain", "place not in sources", missing=missing)
        if rules.on(YEAR_IN_EVIDENCE) and (year := self.missing_year(question, found)):
            return Decision("abstain", "year not in sources", missing=year)
        passages = list(found.passages)
        if rules.on(NAMED_IN_EVIDENCE):
            passages = self.about_named(question, passages)
        if rules.on(ASKED_KIND) and not found.article_ids:
            passages = [p for p in passages if gives(asked_kind(question), p.text)]
            if not passages:
                return Decision("abstain", "asked kind not in sources")
        ambiguous = self.ambiguity(question.codes) if rules.on(AMBIGUOUS_CODES) else []
        if len(ambiguous) > 1 and rules.on(OWN_WORDS_PICK):
            picked = self.picked(question, ambiguous)
            if len(picked) == 1:
                ambiguous = []
                passages = ([p for p in passages if p.doc_id == picked[0]["doc_id"]]
                            or [x for x in [self.search.passage(picked[0]["chunk_id"])] if x] or passages)
        sources = self.choose_sources(passages, ambiguous, rules)
        if found.article_ids:  # the asked article is the answer, not the passages that share its words
            sources = [p for p in sources if p.chunk_id in found.article_ids] or sources
        sources, texts, scores = excerpts(question, sources, ambiguous, self.search, self.settings, rules,
                                          qvec=result.vector, whole_budget=self.quotes(question, sources, rules))
        quote = self.quotes(question, sources, rules)  # the first source may have changed
        compose = "quote" if quote else ("generate" if self.can_generate() else "extractive")
        d = None
        if quote and not question.articles and not ambiguous:
            d = digest(question, sources, self.search, rules)
        if d is not None:
            sources, texts, head = d
            return Decision("answer", compose="digest", sources=tuple(sources), excerpts=tuple(texts),
                            digest=head)
        return Decision("answer", compose=compose, sources=tuple(sources), excerpts=tuple(texts),
                        ambiguous=tuple(ambiguous), sentence_scores=scores)

    def missing_place(self, question: Question, found: Found) -> str | None:
        """The place the question names that no document found mentions (None: all are there, or
        a document indexed before places were read, which cannot tell)."""
        if not question.places:
            return None
        mentioned: set[str] = set()
        for doc_id in dict.fromkeys(p.doc_id for p in found.passages):
            places = self._places_of(doc_id)
            if places is None:
                return None
            mentioned |= places
        missing = sorted(question.places - mentioned)
        return missing[0] if missing and not (question.places & mentioned) else None

    def missing_year(self, question: Question, found: Found) -> str | None:
        """A year the question gives (outside its codes and full dates) that no passage found
        mentions and no document found is dated by."""
        years = set(_YEAR.findall(question.text)) - {d[:4] for d in find_dates(question.text)}
        if not years:
            return None
        seen = {y for p in found.passages for y in _YEAR.findall(p.text)}
        seen |= {d[:4] for p in found.passages for d in find_dates(p.text)}
        registry = self.search.registry()
        for doc in (self.search.document(d) for d in {p.doc_id for p in found.passages}):
            own = (doc.meta or {}).get("own_code") if doc else None
            for record in (registry.find(parse_key(own)) if own else []):
                seen |= {v[:4] for v, _ in record.values("issued")}
        missing = sorted(years - seen)
        return missing[0] if missing and not (years & seen) else None

    def _places_of(self, doc_id: str) -> set[str] | None:
        """The places a document is about, as read at ingest (None: no such document, or one
        indexed before places were read)."""
        doc = self.search.document(doc_id)
        places = (doc.meta or {}).get("places") if doc else None
        return None if places is None else set(places)

    def about_named(self, question: Question, passages: list[Passage]) -> list[Passage]:
        """The passages of documents that name the places and the codes the question names (all
        of them when none does: then place-in-sources or the codes' own rules decide)."""
        keep = passages
        if question.places:
            named = {d: self._places_of(d) for d in dict.fromkeys(p.doc_id for p in keep)}
            keep = [p for p in keep if named[p.doc_id] is None or named[p.doc_id] & question.places] or keep
        if question.codes:
            keep = [p for p in keep if p.code_match] or keep
        return keep

    def picked(self, question: Question, ambiguous: list[dict]) -> list[dict]:
        """The documents of an ambiguous code that fit the year and the places the question gives."""
        years = set(_YEAR.findall(question.text))
        out = ambiguous
        if years:
            out = [a for a in out if a["date"][:4] in years]
        if question.places:
            out = [a for a in out if (self._places_of(a["doc_id"]) or set()) & question.places]
        return out

    def quotes(self, question: Question, sources: list[Passage], rules: Rules) -> bool:
        """Quote instead of generating (see QUOTE_SAME_LANGUAGE; cross-lingual questions still
        need the model)."""
        return (bool(rules.value(QUOTE_SAME_LANGUAGE, False)) and self.local_model
                and bool(sources) and sources[0].lang == question.lang)

    def choose_sources(self, passages: list[Passage], ambiguous: list[dict], rules: Rules) -> list[Passage]:
        """The best passages of the best document; another document's passages only when it
        matches about as well (OTHER_DOC_RATIO), plus one passage per document an ambiguous code
        names."""
        best: dict[str, float] = {}
        for p in passages:
            best.setdefault(p.doc_id, p.score)
        floor = passages[0].score * rules.value(OTHER_DOC_RATIO, 0.0)
        first = passages[0].doc_id  # (its score may be below zero: far in meaning, no shared word)
        chosen = [p for p in passages if p.doc_id == first or best[p.doc_id] >= floor][:self.settings.answer_passages]
        for amb in ambiguous:
            if not any(p.doc_id == amb["doc_id"] for p in chosen):
                extra = next((p for p in passages if p.doc_id == amb["doc_id"]), None)
                extra = extra or self.search.passage(amb["chunk_id"])
                if extra is not None:
                    chosen.append(extra)
        return chosen

    def ambiguity(self, qcodes: tuple[Code, ...]) -> list[dict]:
        """Documents that a fully written code in the question names, when they are different
        documents: the registry dates the code's issue in different years, each date read where
        it is written next to the code or in a heading (ingest.facts). Many pages about one
        regulation are one regulation, and a date written near a code may be another one's."""
        registry = self.search.registry()
        found: list[dict] = []
        for q in (c for c in qcodes if c.issuer):
            for record in registry.find(q):
                dated: dict[str, tuple[str, object]] = {}
                for value, ev in record.values("issued"):
                    if ev.confidence >= DATED and len(value) == 10:
                        dated.setdefault(value[:4], (value, ev))
                if len(dated) < 2:
                    continue
                for _, (value, ev) in sorted(dated.items()):
                    found.append({"doc_id": ev.doc_id, "chunk_id": ev.chunk_id, "code": record.code.display,
                                  "date": value, "quote": ev.quote, "source": ev.source, "title": ev.title})
        return found


def asked_kind(question: Question) -> str | None:
    """What the answer must contain: a number for "how many" (wherever it stands in the
    question); an article's number for "which article"; a calendar date for "which day", "which
    year" or when a document was issued (a "when" about practice — "when does the cell meet?" —
    is answered by "monthly" or "within 7 days" as well)."""
    if question.expects == "number" or ASKS_NUMBER.search(question.text):
        return "number"
    if _WHICH_ARTICLE.search(question.text):
        return "article"
    if question.expects == "date" and (_CALENDAR.search(question.text) or asks_issue(question.text)):
        return "date"
    if question.expects == "person" and _SIGNED.search(question.text):
        return "person"  # "who signed": a name (a body or a role answers other "who" questions)
    return None


def gives(kind: str | None, text: str) -> bool:
    """Whether ``text`` gives an answer of the kind asked: a date or a year for "when", a number
    other than a document's code or a date for "how many" (any text for other questions)."""
    if kind == "date":
        return bool(find_dates(text) or _YEAR.search(text))
    if kind == "number":
        return states_quantity(text)
    if kind == "article":
        return bool(ARTICLE_MENTION.search(fold(text)))
    if kind == "person":
        return names_person(text)
    return True

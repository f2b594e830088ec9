"""What the stages hand each other (immutable) and what the answer path returns."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from retrieval.hybrid import Passage, RetrievalResult


@dataclass
class Citation:
    n: int
    doc_id: str
    source: str
    title: str | None
    codes: list[str]
    locator: str
    quote: str
    chunk_id: str = ""


@dataclass
class Answer:
    question: str
    text: str
    lang: str
    abstained: bool
    grounded: bool
    citations: list[Citation]
    passages: list[dict]  # everything retrieved, with scores (for logs and the Sources button)
    model: str
    prompt_version: str
    mode: str  # "llm" | "llm-retry" | "quote" | "digest" | "extractive" | "abstain" | "llm-ungrounded" | …
    checks: list[str] = field(default_factory=list)  # problems found on the way (logged)
    ambiguous: list[dict] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    relevance: float = 0.0
    trace: list[dict] = field(default_factory=list)  # the stages run, each with what it decided

    @property
    def cited_docs(self) -> list[str]:
        out: list[str] = []
        for c in self.citations:
            if c.source not in out:
                out.append(c.source)
        return out

    def to_dict(self) -> dict:
        d = asdict(self)
        d["cited_docs"] = self.cited_docs
        return d


@dataclass
class StreamEvent:
    kind: str  # "sources" (found, before generation), "delta" (text), "reset" (discard), "final"
    text: str = ""
    answer: Answer | None = None
    sources: list[dict] = field(default_factory=list)  # for "sources": [{"n","title","source"}]
    needs_llm: bool = False  # for "sources": generation comes next (the caller may queue for it)


# -- between the stages -------------------------------------------------------------------------
@dataclass(frozen=True)
class Question:
    """understand: what the question is, before anything is looked up."""
    text: str  # white space squashed, cut to MAX_QUESTION_CHARS
    lang: str  # the language to answer in
    search_lang: str  # the language retrieval reads it in
    codes: tuple  # document codes it names (text.codes.Code)
    articles: frozenset[str]  # article numbers it asks about ("Điều 5" -> "5")
    expects: str | None  # the kind of answer asked for: "date", "number", "person" (None: other)
    content_terms: frozenset[str]  # its own words as terms, without the codes it names
    places: frozenset[str] = frozenset()  # provinces and cities it names (folded: "nghe an")


@dataclass(frozen=True)
class Found:
    """retrieve: the ranked passages, the asked article's first when it asks for one."""
    result: RetrievalResult
    passages: tuple[Passage, ...]
    article_ids: frozenset[str] = frozenset()  # chunks of the asked article (empty: none asked or found)


@dataclass(frozen=True)
class Decision:
    """decide: answer or not, from which sources, and how to compose the answer."""
    action: str  # "answer" | "abstain"
    why: str = ""  # for an abstention: "nothing found", "low relevance", "no such article", "off-topic",
    # "place not in sources" (then `missing` is the place)
    missing: str = ""
    compose: str = ""  # "digest" | "quote" | "generate" | "extractive" (no chat model) | "registry"
    sources: tuple[Passage, ...] = ()  # numbered 1..n in the prompt and the citations
    excerpts: tuple[str, ...] = ()  # what the model sees (or the quote is chosen from) of each source
    ambiguous: tuple[dict, ...] = ()  # documents an ambiguous code names
    sentence_scores: dict = field(default_factory=dict, compare=False)  # squashed sentence -> closeness
    digest: tuple | None = None  # (title, articles left out, the first one left out)
    written: str = ""  # compose "registry": the answer, written from the document registry
    notice: str = ""  # what replaced a document the answer is about or cites (opens the answer)
    notice_sources: tuple[Passage, ...] = ()  # what the notice cites, numbered after `sources`
    notice_excerpts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Draft:
    """compose or generate: an answer text and the sources it cites (1-based)."""
    text: str
    used: tuple[int, ...]
    mode: str
    prompt_version: str

"""Hybrid retrieval: dense (EmbeddingGemma) + lexical (BM25) + exact document-code match.

Ranks are fused with weighted reciprocal rank fusion; a chunk that carries a code named in the
question is lifted above the rest. Every passage keeps its dense cosine similarity, which is the
relevance signal the answering step uses to abstain.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import threading
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field

import numpy as np

from core.rules import Rules, rule
from retrieval.bm25 import BM25
from retrieval.registry import Registry
from text.codes import Code, find_codes, parse_key
from text.language import detect
from text.sentences import evidence_sentences
from text.tokenize import terms
from vectorstore.catalog import Catalog, ChunkRow, DocumentRow
from vectorstore.embeddings import CachedEmbedder
from vectorstore.lock import WriterLock
from vectorstore.store import ChromaStore

log = logging.getLogger(__name__)

LEXICAL = rule(
    "lexical-match", "retrieve",
    "shared words (BM25) catch names, numbers and rare terms that a dense vector blurs")
SENTENCE_MATCH = rule(
    "sentence-match", "retrieve",
    "the fact asked about sits in one sentence, and a passage's vector averages all of its "
    "sentences (across languages most of all): a passage is also scored by its sentence closest "
    "to the question")
SENTENCE_POOL = 20  # the best passages re-scored by their sentences
CODE_BONUS = rule(
    "code-bonus", "retrieve",
    "a question that names a document code is about that document: its passages, and the "
    "passages that carry the code, come first")


@dataclass
class Passage:
    chunk_id: str
    doc_id: str
    source: str
    title: str | None
    text: str
    locator: str
    codes: list[str]
    lang: str | None
    score: float = 0.0
    dense: float = 0.0
    lexical: float = 0.0
    code_match: int = 0  # 2: the chunk carries a code from the question, or its document is the
    # named one (primary code); 1: its document mentions the code
    doc_date: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class RetrievalResult:
    query: str
    lang: str
    codes: list[str]
    passages: list[Passage]
    relevance: float  # best dense similarity among the returned passages
    timings: dict[str, float] = field(default_factory=dict)
    vector: np.ndarray | None = field(default=None, repr=False, compare=False)  # the query's embedding


@dataclass
class FusionWeights:
    """score = dense·cos + lexical·BM25/max(BM25) (+ code bonus).

    Score fusion rather than rank fusion: the dense similarity is the stronger signal here, and
    reciprocal ranks flatten the gap between a clear first and a weak second.
    """

    dense: float = 1.0
    lexical: float = 0.1
    # Across scripts BM25 can only match numbers and codes, and mostly adds noise: a chunk in
    # another language than the question gets this share of the lexical weight.
    cross_lingual: float = 0.2
    code_chunk: float = 0.3
    code_doc: float = 0.03
    # On top of code_chunk, for every chunk of a document that *is* the named one (the code is in
    # its title or opening: the regulation 37-QĐ/TW itself, all its articles) rather than one
    # that mentions it (a news article on 37-QĐ/TW).
    code_primary: float = 0.2
    # The weight α of a passage's best sentence beside the passage itself (SENTENCE_MATCH).
    sentence: float = 0.5


class _Snapshot:
    def __init__(self, generation: int, chunks: list[ChunkRow], docs: dict[str, DocumentRow]):
        self.generation = generation
        self.chunks = chunks
        self.docs = docs
        self.by_id = {c.chunk_id: i for i, c in enumerate(chunks)}
        self.bm25 = BM25([c.terms.split() for c in chunks])
        self.chunk_codes = [[parse_key(k) for k in c.codes] for c in chunks]
        self.doc_codes = {d: [parse_key(k) for k in doc.codes] for d, doc in docs.items()}
        self.doc_primary = {d: [parse_key(k) for k in doc.meta.get("primary_codes", [])]
                            for d, doc in docs.items()}
        # Inverted lists for the code bonus, so a question naming a code costs a pass over the
        # distinct codes, not over every chunk (~70 ms at 50,000 chunks).
        by_code: dict[str, list[int]] = defaultdict(list)
        by_doc: dict[str, list[int]] = defaultdict(list)
        for i, c in enumerate(chunks):
            by_doc[c.doc_id].append(i)
            for key in c.codes:
                by_code[key].append(i)
        self.chunks_by_code = [(parse_key(key), idx) for key, idx in by_code.items()]
        self.chunks_by_doc = dict(by_doc)
        self.chunk_at = {(c.doc_id, c.ordinal): c.chunk_id for c in chunks}
        self.registry: Registry | None = None  # built on first use (HybridSearch.registry)

    def chunks_with_code(self, qcodes: list[Code]) -> list[int]:
        """Indices (in chunk order) of the chunks carrying a code that matches one of ``qcodes``."""
        out: set[int] = set()
        for code, idx in self.chunks_by_code:
            if any(q.matches(code) for q in qcodes):
                out.update(idx)
        return sorted(out)


class HybridSearch:
    def __init__(self, catalog: Catalog, store: ChromaStore, embedder: CachedEmbedder, *,
                 candidates: int = 40, weights: FusionWeights | None = None):
        self.catalog = catalog
        self.store = store
        self.writer_lock = WriterLock(catalog.path.parent)  # the data directory's
        self.embedder = embedder
        self.candidates = candidates
        self.weights = weights or FusionWeights()
        self._snap: _Snapshot | None = None
        self._lock = threading.Lock()

    def snapshot(self) -> _Snapshot:
        gen = self.catalog.generation()
        with self._lock:
            if self._snap is None or self._snap.generation != gen:
                t = time.perf_counter()
                self._snap = _Snapshot(*self.catalog.snapshot())
                log.info("lexical index rebuilt: %d chunks in %.2f s", len(self._snap.chunks),
                         time.perf_counter() - t)
            return self._snap

    def search(self, query: str, k: int = 5, lang: str | None = None, rules: Rules | None = None) -> RetrievalResult:
        rules = rules or Rules()
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        qlang = lang or detect(query)
        qvec = self.embedder.embed_queries([query])[0]
        timings["embed_ms"] = (time.perf_counter() - t0) * 1000
        qcodes = find_codes(query) if rules.on(CODE_BONUS) else []
        qterms = terms(query, query=True) if rules.on(LEXICAL) else []
        t1 = time.perf_counter()
        for _ in range(3):
            snap = self.snapshot()
            self._sync_store(snap.generation)
            dense_hits = self.store.query(qvec, min(self.candidates * 2, max(len(snap.chunks), 1)))
            # A catalog commit during the query could have swapped a document's chunks: retry so
            # the dense hits and the snapshot are of the same generation.
            if self.catalog.generation() == snap.generation:
                break
        timings["dense_ms"] = (time.perf_counter() - t1) * 1000
        t2 = time.perf_counter()
        dense = [(snap.by_id[cid], sim) for cid, sim in dense_hits if cid in snap.by_id]
        lexical = snap.bm25.top(qterms, self.candidates)
        timings["lexical_ms"] = (time.perf_counter() - t2) * 1000
        passages = self._fuse(snap, dense, lexical, qcodes, qlang, max(k, SENTENCE_POOL))
        if rules.on(SENTENCE_MATCH):
            passages = self._by_sentences(passages, qvec)
        passages = passages[:k]
        timings["total_ms"] = (time.perf_counter() - t0) * 1000
        return RetrievalResult(query, qlang, [c.display for c in qcodes], passages,
                               max((p.dense for p in passages), default=0.0), timings, qvec)

    def _by_sentences(self, passages: list[Passage], qvec) -> list[Passage]:
        """The passages re-scored with their sentence closest to the question (SENTENCE_MATCH): the
        dense part of the score becomes (passage + α·best sentence) / (1 + α). Sentence vectors
        are read from the embedding cache (filled at ingest); a passage without them keeps its
        score."""
        cached = getattr(self.embedder, "cached", None)
        if cached is None or not passages:
            return passages
        sents = {p.chunk_id: evidence_sentences(p.text) for p in passages}
        vecs = cached([x for ss in sents.values() for x in ss])
        q = np.asarray(qvec, dtype=np.float32)
        w, a = self.weights.dense, self.weights.sentence
        for p in passages:
            sims = [float(vecs[x] @ q) for x in sents[p.chunk_id] if x in vecs]
            if sims:
                p.score = round(p.score - w * p.dense + w * (p.dense + a * max(sims)) / (1 + a), 6)
        return sorted(passages, key=lambda p: (-p.score, -p.dense))

    def _sync_store(self, generation: int) -> None:
        """After another process's commit, read the vectors anew (an embedded Chroma does not see
        another process's writes otherwise: new documents would be found by words only). Only
        between writes, never waiting: while a writer holds the lock, the view stays as it is
        (the catalog already hides the chunks it replaced) and is read anew on a later question."""
        if self.store.view_generation == generation:
            return
        with self.writer_lock.try_shared() as free:
            if free:
                self.store.reload()
                self.store.view_generation = generation

    async def asearch(self, query: str, k: int = 5, lang: str | None = None) -> RetrievalResult:
        return await asyncio.to_thread(self.search, query, k, lang)

    # -- reading the index by id, code and document (for the answering stages) ------------------
    def document(self, doc_id: str) -> DocumentRow | None:
        return self.snapshot().docs.get(doc_id)

    def registry(self) -> Registry:
        """What the indexed documents say about each code (``retrieval.registry``), built once
        per catalog generation."""
        snap = self.snapshot()
        with self._lock:
            if snap.registry is None:
                snap.registry = Registry.from_documents(snap.docs.values(), snap.chunk_at)
            return snap.registry

    def passage(self, chunk_id: str) -> Passage | None:
        snap = self.snapshot()
        i = snap.by_id.get(chunk_id)
        return None if i is None else _named_passage(snap, i)

    def passages_of(self, doc_id: str) -> list[Passage]:
        """A document's passages in document order."""
        snap = self.snapshot()
        return [_named_passage(snap, i) for i in snap.chunks_by_doc.get(doc_id, ())]

    def passages_with_code(self, code: Code) -> list[Passage]:
        """The passages that carry a code matching ``code`` (from the snapshot's code index)."""
        snap = self.snapshot()
        return [_named_passage(snap, i) for i in snap.chunks_with_code([code])]

    def vectors(self, chunk_ids: list[str]) -> dict[str, list[float]]:
        return self.store.vectors(chunk_ids)

    def _fuse(self, snap: _Snapshot, dense, lexical, qcodes: list[Code], qlang: str, k: int) -> list[Passage]:
        w = self.weights
        dense_sim = dict(dense)
        lex_score = dict(lexical)
        top_lex = max(lex_score.values(), default=1.0) or 1.0
        score: dict[int, float] = {i: w.dense * sim for i, sim in dense[: self.candidates]}
        for i, raw in lexical:
            same = snap.chunks[i].lang == qlang
            score[i] = score.get(i, w.dense * dense_sim.get(i, 0.0)) + \
                w.lexical * (1.0 if same else w.cross_lingual) * raw / top_lex
        code_match: dict[int, int] = {}
        if qcodes:
            # 2: the chunk carries a matching code; 1: only its document does.
            code_match.update(dict.fromkeys(snap.chunks_with_code(qcodes), 2))
            primary: set[int] = set()
            for doc_id, codes in snap.doc_codes.items():
                if any(q.matches(c) for q in qcodes for c in codes):
                    chunks = snap.chunks_by_doc.get(doc_id, ())
                    for i in chunks:
                        code_match.setdefault(i, 1)
                    if any(q.matches(c) for q in qcodes for c in snap.doc_primary.get(doc_id, ())):
                        primary.update(chunks)
                        code_match.update(dict.fromkeys(chunks, 2))  # each article is of that document
            for i in sorted(code_match):  # chunk order, as ties are broken by insertion order
                base = score.get(i, w.dense * dense_sim.get(i, 0.0))
                score[i] = base + (w.code_chunk if code_match[i] == 2 else w.code_doc) + \
                    (w.code_primary if i in primary else 0.0)
        # nsmallest is sorted(...)[:k] (stable, same ties) without sorting every scored chunk.
        ranked = heapq.nsmallest(k, score.items(), key=lambda kv: (-kv[1], -dense_sim.get(kv[0], 0.0)))
        out = []
        for i, s in ranked:
            c = snap.chunks[i]
            doc = snap.docs.get(c.doc_id)
            out.append(Passage(
                c.chunk_id, c.doc_id, doc.source if doc else "", doc.title if doc else None, c.text,
                " › ".join(c.locator), [parse_key(x).display for x in c.codes], c.lang, round(s, 6),
                round(float(dense_sim.get(i, 0.0)), 4), round(lex_score.get(i, 0.0) / top_lex, 4),
                code_match.get(i, 0), (doc.meta.get("date") if doc else None)))
        return out


def _named_passage(snap: _Snapshot, i: int) -> Passage:
    """The snapshot's chunk ``i`` as a passage of a document the question names (code_match 2)."""
    c = snap.chunks[i]
    doc = snap.docs.get(c.doc_id)
    return Passage(c.chunk_id, c.doc_id, doc.source if doc else "", doc.title if doc else None, c.text,
                   " › ".join(c.locator), [parse_key(x).display for x in c.codes], c.lang, code_match=2)

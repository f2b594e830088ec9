"""The write path: put a prepared document into Chroma and the catalog without a torn state.

Every write holds the data directory's writer lock (``vectorstore.lock``) and starts from a fresh
view of the store, after repairing what an interrupted write left (``repair``). Within a write,
order matters: (1) new chunk vectors go into Chroma under new ids, (2) the catalog switches to the
new version in one transaction, (3) the old version's vectors are deleted. Queries only use chunk
ids the catalog lists (see ``retrieval.hybrid``), so at every moment they see exactly one version.
A crash between steps leaves orphan vectors, which queries ignore and the next write removes;
the catalog is never ahead of the vectors except by a crash in a removal, which deletes the
catalog rows first.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator

from core.errors import PartybotError
from text.sentences import evidence_sentences
from vectorstore.catalog import Catalog, ChunkRow, DocumentRow
from vectorstore.embeddings import CachedEmbedder
from vectorstore.failpoints import failpoint
from vectorstore.faults import diagnose
from vectorstore.lock import WriterLock
from vectorstore.store import ChromaStore

log = logging.getLogger(__name__)

# The most of the index a repair deletes without --force (see ``Index._guard``).
REPAIR_MAX_SHARE = 0.5


class RepairRefused(PartybotError):
    """A repair would delete most of the index; the message says what to do."""


@dataclass
class Prepared:
    doc: DocumentRow
    chunks: list[ChunkRow]


@dataclass
class IndexResult:
    doc_id: str
    source: str
    status: str  # "added" | "updated" | "unchanged"
    chunks: int
    embedded: int  # chunks whose vectors were computed (not found in the cache)
    same_as: list[str] = field(default_factory=list)  # other documents' sources with this very text


@dataclass
class Health:
    """What ``check`` found: vectors no catalog chunk refers to (left by a crash mid-ingest, or
    by a removal's crash: their text is still stored in Chroma), catalog chunks without a vector
    (invisible to the dense search), and the same text indexed under several names."""
    orphans: list[str]
    missing: list[str]
    duplicates: list[list[str]]  # each: the sources of one text
    chunks: int = 0
    vectors: int = 0

    @property
    def consistent(self) -> bool:
        return not self.orphans and not self.missing


def _metadata(doc: DocumentRow, chunk: ChunkRow) -> dict:
    return {"doc_id": doc.doc_id, "source": doc.source, "ordinal": chunk.ordinal,
            "locator": " › ".join(chunk.locator), "codes": " ".join(chunk.codes),
            "lang": chunk.lang or "", "content_hash": doc.content_hash}


class Index:
    def __init__(self, catalog: Catalog, store: ChromaStore, embedder: CachedEmbedder):
        self.catalog = catalog
        self.store = store
        self.embedder = embedder
        self.lock = WriterLock(catalog.path.parent)  # the data directory's (reentrant per file)

    @contextmanager
    def writing(self, what: str = "partybot", *, wait: bool = True, timeout_s: float | None = None,
                on_wait=None, repair: bool = True) -> Iterator[None]:
        """Hold the writer lock for a batch of writes. On entry: a fresh view of the store (another
        process may have written since it was opened) and ``repair`` of what a crashed write left.
        Nested calls (``put`` inside a batch) just enter."""
        first = not self.lock.held
        with self.lock.hold(what, wait=wait, timeout_s=timeout_s, on_wait=on_wait):
            if first:
                self.store.reload()
            if first and repair:
                repaired = self._repair()
                if repaired.orphans or repaired.missing:
                    log.warning("repaired the index: %d orphan vectors removed, %d missing vectors restored",
                                len(repaired.orphans), len(repaired.missing))
            try:
                yield
            except Exception as exc:  # a full disk or a damaged file: one line saying what to do
                fault = diagnose(exc, self.catalog.path.parent)
                if fault is None or fault is exc:
                    raise
                raise fault from exc
            finally:
                if first:  # this process's view is current as of the last commit it made
                    self.store.view_generation = self.catalog.generation()

    def put(self, prepared: Prepared, progress=None) -> IndexResult:
        with self.writing():
            return self._put(prepared, progress)

    def _put(self, prepared: Prepared, progress) -> IndexResult:
        doc, chunks = prepared.doc, prepared.chunks
        same_as = [d.source for d in self.catalog.with_content(doc.content_hash) if d.doc_id != doc.doc_id]
        old = self.catalog.get(doc.doc_id)
        if old and old.content_hash == doc.content_hash:
            return IndexResult(doc.doc_id, doc.source, "unchanged", old.n_chunks, 0, same_as)
        before = self.embedder.computed
        vectors = self.embedder.embed_documents([c.text for c in chunks], [doc.title] * len(chunks),
                                                progress=progress)
        embedded = self.embedder.computed - before
        self.store.upsert([c.chunk_id for c in chunks], vectors, [c.text for c in chunks],
                          [_metadata(doc, c) for c in chunks])
        # Each sentence's vector too, into the embedding cache: the answer's excerpts and the
        # search's sentence match read them there instead of embedding them at question time.
        self.embedder.embed_documents([s for c in chunks for s in evidence_sentences(c.text)])
        failpoint("put:after_vectors")
        old_ids = set(self.catalog.chunk_ids(doc.doc_id))
        self.catalog.replace(doc, chunks)
        failpoint("put:after_catalog")
        stale = sorted(old_ids - {c.chunk_id for c in chunks})
        if stale:
            self.store.delete(stale)
        return IndexResult(doc.doc_id, doc.source, "updated" if old else "added", len(chunks), embedded, same_as)

    def remove(self, doc_id: str) -> bool:
        with self.writing():
            ids = self.catalog.chunk_ids(doc_id)
            removed = self.catalog.remove(doc_id)
            failpoint("remove:after_catalog")
            if ids:
                self.store.delete(ids)
            return removed

    def check(self) -> Health:
        """Compare the catalog with the vectors (reads only)."""
        live = self.catalog.live_chunk_ids()
        stored = set(self.store.ids())
        return Health(orphans=sorted(stored - live), missing=sorted(live - stored),
                      duplicates=[sorted(s) for s in self.catalog.sources_by_content().values() if len(s) > 1],
                      chunks=len(live), vectors=len(stored))

    def repair(self, *, force: bool = False) -> Health:
        """Delete orphan vectors; re-embed catalog chunks that have no vector (from the embedding
        cache when it has them). Returns what was found before repairing. Without ``force`` it
        refuses to delete most of the index (see ``_guard``)."""
        with self.writing(repair=False):
            return self._repair(force=force)

    def _repair(self, *, force: bool = False) -> Health:
        health = self.check()
        if health.orphans and not force:
            self._guard(health)
        if health.orphans:
            self.store.delete(health.orphans)
        if health.missing:
            self._restore(set(health.missing))
        return health

    def _guard(self, health: Health) -> None:
        """A crashed write leaves the orphans of one document. Orphans that are more than
        ``REPAIR_MAX_SHARE`` of the vectors and come from several documents mean the catalog was
        lost or replaced (an empty or older file): deleting them would empty the index."""
        if len(health.orphans) <= REPAIR_MAX_SHARE * health.vectors:
            return
        docs = self.store.doc_ids(health.orphans)
        if len(docs) <= 1:
            return
        raise RepairRefused(
            f"{len(health.orphans)} of {health.vectors} vectors ({len(health.orphans) / health.vectors:.0%}), "
            f"of {len(docs)} documents, belong to no chunk the catalog lists: the catalog may have been "
            "lost or replaced. Nothing was deleted. Restore the last backup (`partybot restore BACKUP`), "
            "or delete them with `partybot docs check --repair --force`")

    def _restore(self, missing: set[str]) -> None:
        _, chunks, docs = self.catalog.snapshot()
        todo = [c for c in chunks if c.chunk_id in missing]
        titles = [docs[c.doc_id].title for c in todo]
        vectors = self.embedder.embed_documents([c.text for c in todo], titles)
        self.store.upsert([c.chunk_id for c in todo], vectors, [c.text for c in todo],
                          [_metadata(docs[c.doc_id], c) for c in todo])

    def reconcile(self) -> int:
        """Delete vectors no catalog chunk refers to; the number deleted (see ``repair``)."""
        return len(self.repair().orphans)

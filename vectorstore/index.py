"""The write path: put a prepared document into Chroma and the catalog without a torn state.

Order matters: (1) new chunk vectors go into Chroma under new ids, (2) the catalog switches to
the new version in one transaction, (3) the old version's vectors are deleted. Queries only use
chunk ids the catalog lists (see ``retrieval.hybrid``), so at every moment they see exactly one
version. A crash between steps leaves orphan vectors that queries ignore and ``reconcile``
removes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from vectorstore.catalog import Catalog, ChunkRow, DocumentRow
from vectorstore.embeddings import CachedEmbedder
from vectorstore.store import ChromaStore

log = logging.getLogger(__name__)


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


class Index:
    def __init__(self, catalog: Catalog, store: ChromaStore, embedder: CachedEmbedder):
        self.catalog = catalog
        self.store = store
        self.embedder = embedder

    def put(self, prepared: Prepared, progress=None) -> IndexResult:
        doc, chunks = prepared.doc, prepared.chunks
        old = self.catalog.get(doc.doc_id)
        if old and old.content_hash == doc.content_hash:
            return IndexResult(doc.doc_id, doc.source, "unchanged", old.n_chunks, 0)
        before = self.embedder.computed
        vectors = self.embedder.embed_documents([c.text for c in chunks], [doc.title] * len(chunks),
                                                progress=progress)
        metadatas = [{"doc_id": doc.doc_id, "source": doc.source, "ordinal": c.ordinal,
                      "locator": " › ".join(c.locator), "codes": " ".join(c.codes),
                      "lang": c.lang or "", "content_hash": doc.content_hash} for c in chunks]
        self.store.upsert([c.chunk_id for c in chunks], vectors, [c.text for c in chunks], metadatas)
        old_ids = set(self.catalog.chunk_ids(doc.doc_id))
        self.catalog.replace(doc, chunks)
        stale = sorted(old_ids - {c.chunk_id for c in chunks})
        if stale:
            self.store.delete(stale)
        return IndexResult(doc.doc_id, doc.source, "updated" if old else "added", len(chunks),
                           self.embedder.computed - before)

    def remove(self, doc_id: str) -> bool:
        ids = self.catalog.chunk_ids(doc_id)
        removed = self.catalog.remove(doc_id)
        if ids:
            self.store.delete(ids)
        return removed

    def reconcile(self) -> int:
        """Delete vectors no catalog chunk refers to (left by an interrupted ingest)."""
        _, chunks, _ = self.catalog.snapshot()
        live = {c.chunk_id for c in chunks}
        orphans = [i for i in self.store.ids() if i not in live]
        if orphans:
            log.info("removing %d orphan vectors", len(orphans))
            self.store.delete(orphans)
        return len(orphans)

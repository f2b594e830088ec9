"""Chroma, through langchain-chroma: embedded by default, a server when CHROMA_HOST is set.

The store is given a ready client, so the same code runs on both (the contract tests prove it).
Vectors are computed by the project's embedder (batched, cached) and passed in; the LangChain
embedding function is always set too, so nothing ever falls back to Chroma's default model
(which would try to download weights).
"""

from __future__ import annotations

import logging
import threading
from typing import Callable, Sequence

import numpy as np

from core.errors import IndexError_
from vectorstore.faults import CHROMA_REMEDY, diagnose

log = logging.getLogger(__name__)
_BATCH = 1000


def make_client(settings):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    try:
        if settings.chroma_host:
            return chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port,
                                       ssl=settings.chroma_ssl, settings=chroma_settings)
        settings.chroma_path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(settings.chroma_path), settings=chroma_settings)
    except Exception as exc:  # chromadb raises plain exceptions for connection problems
        where = f"{settings.chroma_host}:{settings.chroma_port}" if settings.chroma_host else settings.chroma_path
        fault = None if settings.chroma_host else diagnose(
            exc, settings.data_dir, what="vector index", path=settings.chroma_path, remedy=CHROMA_REMEDY)
        if fault is not None:
            raise fault from exc
        raise IndexError_(f"cannot open the Chroma index at {where}: {exc}") from exc


class ChromaStore:
    """The vectors. ``reopen`` (embedded Chroma only) makes a fresh client: an embedded Chroma
    keeps its vector index in this process's memory and does not see what another process
    wrote since it was opened (measured: a bot opened before a CLI ingest of 5,000 vectors still
    found 200), and a write from such a stale view loses the other's vectors. ``reload`` reads
    the store anew from disk; writers call it under the writer lock, readers after another
    process's commit (see ``retrieval.hybrid``)."""

    def __init__(self, client, collection: str, embeddings, *, reopen: Callable[[], object] | None = None):
        self._name = collection
        self._embeddings = embeddings
        self._reopen = reopen
        self._lock = threading.RLock()  # a reload must not close the client under a query
        self.view_generation = -1  # the catalog generation this view is known to reflect
        self._open(client)

    def _open(self, client) -> None:
        from langchain_chroma import Chroma

        self._client = client
        self.lc = Chroma(client=client, collection_name=self._name, embedding_function=self._embeddings,
                         collection_metadata={"hnsw:space": "cosine"})

    @property
    def collection(self):
        return self.lc._collection

    def reload(self) -> bool:
        """Re-read the store from disk (embedded Chroma); a server needs nothing. True if reloaded."""
        if self._reopen is None:
            return False
        with self._lock:
            self._client.close()  # the last client of this path stops its in-memory system
            self._open(self._reopen())
        return True

    def upsert(self, ids: Sequence[str], vectors: np.ndarray, texts: Sequence[str],
               metadatas: Sequence[dict]) -> None:
        with self._lock:
            for i in range(0, len(ids), _BATCH):
                self.collection.upsert(ids=list(ids[i:i + _BATCH]),
                                       embeddings=np.asarray(vectors[i:i + _BATCH], dtype=np.float32),
                                       documents=list(texts[i:i + _BATCH]),
                                       metadatas=list(metadatas[i:i + _BATCH]))

    def delete(self, ids: Sequence[str]) -> None:
        with self._lock:
            for i in range(0, len(ids), _BATCH):
                self.collection.delete(ids=list(ids[i:i + _BATCH]))

    def query(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity), best first."""
        if k <= 0:
            return []
        with self._lock:
            pairs = self.lc.similarity_search_by_vector_with_relevance_scores(
                np.asarray(vector, dtype=np.float32).tolist(), k=k)
        return [(doc.id, 1.0 - float(distance)) for doc, distance in pairs]

    def vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """The stored vectors of these chunk ids (those present)."""
        if not ids:
            return {}
        with self._lock:
            got = self.collection.get(ids=list(ids), include=["embeddings"])
        return {i: np.asarray(v, dtype=np.float32) for i, v in zip(got["ids"], got["embeddings"])}

    def doc_ids(self, ids: Sequence[str]) -> set[str]:
        """The documents these vectors belong to (their metadata's doc_id)."""
        out: set[str] = set()
        with self._lock:
            for i in range(0, len(ids), _BATCH):
                got = self.collection.get(ids=list(ids[i:i + _BATCH]), include=["metadatas"])
                out |= {(m or {}).get("doc_id", "") for m in got["metadatas"]}
        return out

    def export(self, batch: int = _BATCH):
        """Every vector, in batches of (ids, vectors, texts, metadatas) (for a backup)."""
        offset = 0
        while True:
            with self._lock:
                got = self.collection.get(include=["embeddings", "documents", "metadatas"], limit=batch,
                                          offset=offset)
            if not got["ids"]:
                return
            yield got["ids"], got["embeddings"], got["documents"], got["metadatas"]
            offset += len(got["ids"])

    def count(self) -> int:
        with self._lock:
            return self.collection.count()

    def ids(self) -> list[str]:
        out: list[str] = []
        offset = 0
        with self._lock:
            while True:
                got = self.collection.get(include=[], limit=5000, offset=offset)["ids"]
                out += got
                if len(got) < 5000:
                    return out
                offset += len(got)

    def close(self) -> None:
        with self._lock:
            if self._reopen is not None:
                self._client.close()

"""Composition: settings -> catalog, Chroma, embedder -> index and search. No I/O at import."""

from __future__ import annotations

import logging
from contextlib import nullcontext
from dataclasses import dataclass

from partybot.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    catalog: object
    store: object
    embedder: object
    index: object
    search: object

    _answerer: object = None

    @property
    def answerer(self):
        """The answering step; its LLM backend is built on first use (the local model starts
        on the first question, not at import or for ingest-only commands)."""
        if self._answerer is None:
            from answering import Answerer
            from partybot.backends import build_backend

            self._answerer = Answerer(self.search, build_backend(self.settings), self.settings)
        return self._answerer

    def close(self) -> None:
        if self._answerer is not None:
            self._answerer.backend.close()
        self.store.close()
        self.catalog.close()


def open_services(settings: Settings, *, embedder=None) -> Services:
    from retrieval.hybrid import HybridSearch
    from vectorstore.catalog import Catalog
    from partybot.backends import build_embedder
    from vectorstore.embeddings import LangChainEmbeddings
    from vectorstore.index import Index
    from vectorstore.lock import WriterLock
    from vectorstore.store import ChromaStore, make_client

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    embedder = embedder or build_embedder(settings)
    catalog = Catalog(settings.catalog_path)
    # One collection per embedding model: vectors of two models must never be mixed.
    collection = f"{settings.chroma_collection}-{embedder.model_id}".replace("_", "-").replace(".", "-")[:60]
    generation = catalog.generation()  # read before the vectors: a later commit makes the view reload
    reopen = None if settings.chroma_host else (lambda: make_client(settings))
    # Creating an embedded Chroma migrates its database: two processes creating it at once
    # collided ("table collections already exists"). Whoever creates it holds a lock of its own
    # (a second's work; the writer lock may be held for a whole ingest).
    new = not settings.chroma_host and not (settings.chroma_path / "chroma.sqlite3").exists()
    with WriterLock(settings.data_dir, "create.lock").hold("creating the index") if new else nullcontext():
        store = ChromaStore(make_client(settings), collection, LangChainEmbeddings(embedder), reopen=reopen)
    store.view_generation = generation
    index = Index(catalog, store, embedder)
    search = HybridSearch(catalog, store, embedder, candidates=settings.candidates)
    return Services(settings, catalog, store, embedder, index, search)

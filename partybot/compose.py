"""The composition root: settings → stores (catalog, Chroma) → embedder → index and search →
answerer. Every front end builds its services here: the CLI (``partybot.cli``,
``partybot.cli_docs``), the bot (``partybot.bot.app.run_bot``), the benchmarks. Nothing is opened
at import time.

    app = build(settings)                       # stores, embedder, index, search
    app.answerer.answer("…")                    # the LLM backend is built here, on first use
    build(settings, chat_backend=ChatBackend(ScriptedChat(replies=[…]), "scripted:test"))
    build(settings, answerer=SomePipeline)      # any callable (search, backend, settings) -> Answering

The LLM backend stays lazy: ``partybot ingest`` and the other commands that never answer must not
start (or even look for) the local model. Which answering pipeline is used is decided in one
place, :func:`default_answerer`.
"""

from __future__ import annotations

import logging
import threading
from contextlib import nullcontext
from dataclasses import InitVar, dataclass, field
from typing import Callable

from partybot.settings import Settings
from answering.interfaces import Answering, LLMBackend
from retrieval.interfaces import AnswererSearch
from vectorstore.catalog import Catalog
from vectorstore.embeddings import CachedEmbedder
from vectorstore.index import Index
from vectorstore.interfaces import VectorStore

log = logging.getLogger(__name__)

AnswererFactory = Callable[[AnswererSearch, LLMBackend, Settings], Answering]


def default_answerer(search: AnswererSearch, backend: LLMBackend, settings: Settings) -> Answering:
    """The answering pipeline every front end uses (answering/, its stages and rules)."""
    from answering import Answerer

    return Answerer(search, backend, settings)


@dataclass
class App:
    """The services of one data directory. ``chat_backend``: a ready LLM backend (tests, demos);
    without one, ``build_backend(settings)`` makes it on the first use of ``answerer``.
    ``answerer``: how to make the answerer from the search, the backend and the settings."""

    settings: Settings
    catalog: Catalog
    store: VectorStore
    embedder: CachedEmbedder
    index: Index
    search: AnswererSearch
    chat_backend: InitVar[LLMBackend | None] = None
    answerer_factory: AnswererFactory = default_answerer
    _backend: LLMBackend | None = field(default=None, init=False, repr=False)
    _answerer: Answering | None = field(default=None, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self, chat_backend: LLMBackend | None) -> None:
        self._backend = chat_backend

    @property
    def backend(self) -> LLMBackend:
        """The LLM backend (``PARTYBOT_LLM_BACKEND``), built on first use. Building the local one
        only finds the model; its server starts with the first question (or ``warm_up``)."""
        with self._lock:
            if self._backend is None:
                from partybot.backends import build_backend

                self._backend = build_backend(self.settings)
            return self._backend

    @property
    def answerer(self) -> Answering:
        if self._answerer is None:
            backend = self.backend
            with self._lock:
                if self._answerer is None:
                    self._answerer = self.answerer_factory(self.search, backend, self.settings)
        return self._answerer

    @property
    def backend_built(self) -> bool:
        """Whether an LLM backend exists yet (given, or built by a use of the answerer)."""
        return self._backend is not None

    def close(self) -> None:
        with self._lock:
            backend, self._backend, self._answerer = self._backend, None, None
        if backend is not None:
            backend.close()
        self.store.close()
        self.catalog.close()

    def __enter__(self) -> "App":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_catalog(settings: Settings) -> Catalog:
    """The catalog, or a one-line error when it cannot be read. A catalog that cannot be read is
    never taken for an empty one: an empty one would make the next write delete every vector.
    A zero-length file is a new catalog only while no vectors exist beside it."""
    from vectorstore.faults import CATALOG_REMEDY, damaged, diagnose

    path = settings.catalog_path
    vectors_exist = bool(settings.chroma_host) or (settings.chroma_path / "chroma.sqlite3").exists()
    if path.exists() and path.stat().st_size == 0 and vectors_exist:
        raise damaged("catalog", path, "an empty file, while the vectors are kept beside it", CATALOG_REMEDY)
    try:
        return Catalog(path)
    except Exception as exc:
        fault = diagnose(exc, settings.data_dir, what="catalog", path=path, remedy=CATALOG_REMEDY)
        if fault is None or fault is exc:
            raise
        raise fault from exc


def build(settings: Settings, *, embedder: CachedEmbedder | None = None, chat_backend: LLMBackend | None = None,
          answerer: AnswererFactory | None = None) -> App:
    """Open the stores of ``settings.data_dir`` and wire the index and the search over them."""
    from retrieval.hybrid import HybridSearch
    from partybot.backends import build_embedder
    from vectorstore.embeddings import LangChainEmbeddings
    from vectorstore.lock import WriterLock
    from vectorstore.store import ChromaStore, make_client

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    embedder = embedder or build_embedder(settings)
    catalog = open_catalog(settings)
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
    return App(settings, catalog, store, embedder, index, search, chat_backend=chat_backend,
               answerer_factory=answerer or default_answerer)

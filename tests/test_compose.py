"""The composition root (``partybot.compose``) and the narrow interfaces it wires: every real and
fake implementation has each member its Protocol names; the LLM backend is built only when an
answer needs it; a backend or a whole answerer is injected through ``build``."""

from __future__ import annotations

import pytest

from core.errors import ModelError
from partybot.cli import ingest_items
from partybot.compose import App, build, default_answerer
from answering import Answerer
from answering.interfaces import Answering, LLMBackend
from retrieval.interfaces import AnswererSearch, Search
from answering.llm import ChatBackend
from partybot.backends import build_backend
from answering.scripted import ScriptedChat
from test_answer import GOOD_AR, Q_AR
from vectorstore.embeddings import HashEmbedder
from vectorstore.interfaces import Embedder, VectorStore


def members(protocol) -> set[str]:
    """What a Protocol names: its methods and its annotated attributes (its bases' too)."""
    names: set[str] = set()
    for klass in protocol.__mro__:
        if klass in (object,) or klass.__name__ in ("Protocol", "Generic"):
            continue
        names |= set(getattr(klass, "__annotations__", {}))
        names |= {n for n, v in vars(klass).items() if callable(v) and (not n.startswith("__"))}
    return names


def missing(obj, protocol) -> list[str]:
    return sorted(n for n in members(protocol) if not hasattr(obj, n))


def test_the_real_and_fake_implementations_fit_their_interfaces(services, settings):
    assert members(VectorStore) >= {"upsert", "query", "vectors", "reload", "view_generation"}
    assert missing(services.store, VectorStore) == []
    assert missing(services.embedder, Embedder) == [] and missing(HashEmbedder(), Embedder) == []
    assert missing(services.search, Search) == [] and missing(services.search, AnswererSearch) == []
    settings.llm_backend = "extractive"
    assert missing(build_backend(settings), LLMBackend) == []
    answerer = default_answerer(services.search, ChatBackend(ScriptedChat(), "scripted:x"), settings)
    assert missing(answerer, Answering) == []


def test_the_llm_backend_is_built_on_the_first_answer_only(settings):
    """The local model is not installed here: ingest and retrieval work, and only asking for an
    answer looks for the model (and says how to get it)."""
    assert settings.llm_backend == "local"
    with build(settings) as app:
        ingest_items(["data/samples"], settings, app, quiet=True)
        assert app.search.search(Q_AR, k=3).passages
        assert not app.backend_built
        with pytest.raises(ModelError, match="models fetch"):
            app.answerer
        assert not app.backend_built


def test_a_backend_is_injected_through_build_and_closed_with_the_app(settings):
    closed = []

    class Backend(ChatBackend):
        def close(self):
            closed.append(self.name)

    chat = ScriptedChat(replies=[GOOD_AR])
    app = build(settings, chat_backend=Backend(chat, "scripted:given"))
    ingest_items(["data/samples"], settings, app, quiet=True)
    assert app.backend_built and isinstance(app.answerer, Answerer)
    assert app.answerer is app.answerer  # built once
    a = app.answerer.answer(Q_AR)
    assert (a.mode, a.model, a.text) == ("llm", "scripted:given", GOOD_AR) and len(chat.calls) == 1
    app.close()
    assert closed == ["scripted:given"]


def test_another_answering_pipeline_is_one_argument(settings):
    seen = []

    class Echo:
        def __init__(self, search, backend, settings):
            seen.append((search, backend.name))
            self.backend = backend

        def answer(self, question, lang=None):
            return question

    with build(settings, chat_backend=ChatBackend(None, "extractive"), answerer=Echo) as app:
        assert isinstance(app, App) and app.answerer.answer("q?") == "q?"
        assert seen == [(app.search, "extractive")]

"""The narrow interfaces between retrieval, answering and the front ends, as Protocols.

- ``Search``: what the front ends (CLI, bot warm-up, evaluation) use: ranked passages.
- ``AnswererSearch``: what today's ``retrieval.answer.Answerer`` reads besides that: the catalog
  snapshot, the embedder, the vector store and the question's vector. ``HybridSearch`` is the one
  implementation. The question's vector is read through ``HybridSearch._query_vector``, a private
  method: it is named here so that the dependency is visible, for the answering pipeline that
  replaces ``Answerer`` to read a public one.
- ``LLMBackend``: a chat backend as ``retrieval.llm.build_backend`` makes it, per
  ``PARTYBOT_LLM_BACKEND`` (local, openai, extractive, or the scripted fake).
- ``Answering``: the answerer's public contract, all that the front ends and the composition root
  (``partybot.compose``) rely on, so that another answering pipeline can take its place.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, AsyncIterator, Protocol

import numpy as np

from retrieval.hybrid import RetrievalResult
from vectorstore.interfaces import Embedder, VectorStore

if TYPE_CHECKING:  # the answer's types, without importing the answerer itself
    from retrieval.answer import Answer, StreamEvent


class Search(Protocol):
    def search(self, query: str, k: int = 5, lang: str | None = None) -> RetrievalResult: ...


class AnswererSearch(Search, Protocol):
    embedder: Embedder
    store: VectorStore

    def snapshot(self) -> Any: ...  # the catalog's live chunks and documents, as one consistent view

    def _query_vector(self, query: str, lang: str) -> np.ndarray: ...


class LLMBackend(Protocol):
    """``chat``: a LangChain chat model, or a lazy handle ``retrieval.llm.resolve_chat`` resolves,
    or None (no LLM: the extractive backend). ``name`` is recorded with every answer."""

    chat: Any
    name: str

    def close(self) -> None: ...


class Answering(Protocol):
    backend: LLMBackend

    def answer(self, question: str, lang: str | None = None) -> Answer: ...

    def astream(self, question: str, lang: str | None = None) -> AsyncIterator[StreamEvent]: ...

    def warm_up(self) -> None: ...

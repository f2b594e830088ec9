"""The narrow interface between retrieval and what uses it, as Protocols.

- ``Search``: what the front ends (CLI, bot warm-up, evaluation) use: ranked passages.
- ``AnswererSearch``: what the answering stages read besides that: passages by id, by document
  and by code, a document's record, the registry of codes (what the documents say of each one's
  standing), stored vectors, and the embedder (the question's vector comes with the search's
  result). ``HybridSearch`` is the one implementation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol


from retrieval.hybrid import Passage, RetrievalResult
from vectorstore.interfaces import Embedder

if TYPE_CHECKING:
    from core.rules import Rules
    from retrieval.registry import Registry
    from text.codes import Code
    from vectorstore.catalog import DocumentRow


class Search(Protocol):
    def search(self, query: str, k: int = 5, lang: str | None = None, rules: Rules | None = None
               ) -> RetrievalResult: ...


class AnswererSearch(Search, Protocol):
    embedder: Embedder

    def document(self, doc_id: str) -> DocumentRow | None: ...

    def passage(self, chunk_id: str) -> Passage | None: ...

    def passages_of(self, doc_id: str) -> list[Passage]: ...

    def passages_with_code(self, code: Code) -> list[Passage]: ...

    def registry(self) -> Registry: ...

    def vectors(self, chunk_ids: list[str]) -> dict[str, list[float]]: ...

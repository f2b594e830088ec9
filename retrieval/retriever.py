"""The hybrid search exposed as a LangChain ``BaseRetriever``."""

from __future__ import annotations

import asyncio
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForRetrieverRun, CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from retrieval.hybrid import HybridSearch, Passage


def passage_to_document(p: Passage) -> Document:
    meta = p.to_dict()
    text = meta.pop("text")
    return Document(page_content=text, metadata=meta, id=p.chunk_id)


class PartyRetriever(BaseRetriever):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    search: Any  # HybridSearch (Any keeps pydantic from introspecting it)
    k: int = 5

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        result = self.search.search(query, k=self.k)
        return [passage_to_document(p) for p in result.passages]

    async def _aget_relevant_documents(self, query: str, *,
                                       run_manager: AsyncCallbackManagerForRetrieverRun) -> list[Document]:
        # Model and index work runs in a thread, never on the event loop.
        result = await asyncio.to_thread(self.search.search, query, self.k)
        return [passage_to_document(p) for p in result.passages]


__all__ = ["PartyRetriever", "HybridSearch", "passage_to_document"]

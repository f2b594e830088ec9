"""The narrow interfaces of this layer, as Protocols: what the index, the search and the
answerer use of a vector store and of an embedder. ``ChromaStore`` (embedded or server Chroma,
chosen by ``CHROMA_HOST``) is the store; ``SentenceTransformerEmbedder`` and the deterministic
``HashEmbedder`` (chosen by ``PARTYBOT_EMBEDDER``), wrapped in ``CachedEmbedder``, the embedders.
``tests/test_interfaces.py`` checks that each implementation has every member named here.
"""

from __future__ import annotations

from typing import Iterator, Protocol, Sequence

import numpy as np

from vectorstore.embeddings import Embedder

__all__ = ["Embedder", "VectorStore"]


class VectorStore(Protocol):
    """Vectors by chunk id, queried by cosine similarity. ``reload`` re-reads what another
    process wrote (embedded stores; True if it did); ``view_generation`` is the catalog
    generation the loaded view reflects."""

    view_generation: int

    def upsert(self, ids: Sequence[str], vectors: np.ndarray, texts: Sequence[str],
               metadatas: Sequence[dict]) -> None: ...

    def delete(self, ids: Sequence[str]) -> None: ...

    def query(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]: ...

    def vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]: ...

    def doc_ids(self, ids: Sequence[str]) -> set[str]: ...

    def export(self, batch: int = ...) -> Iterator[tuple[list, list, list, list]]: ...

    def count(self) -> int: ...

    def ids(self) -> list[str]: ...

    def reload(self) -> bool: ...

    def close(self) -> None: ...

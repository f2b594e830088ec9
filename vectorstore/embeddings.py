"""Embedders: the real sentence-transformers model and a deterministic hashing fake.

Both return L2-normalised float32 vectors. ``CachedEmbedder`` skips text whose content hash is
already stored, so re-ingesting or re-chunking only embeds what is new.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np
from langchain_core.embeddings import Embeddings

from text.normalize import fold
from vectorstore.faults import is_damage
from vectorstore.sqlite import connect

log = logging.getLogger(__name__)


class Embedder(Protocol):
    model_id: str
    dim: int

    def embed_documents(self, texts: Sequence[str], titles: Sequence[str | None] | None = None) -> np.ndarray: ...

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class HashEmbedder:
    """Deterministic fake for fast tests: signed feature hashing of folded words and trigrams.

    Texts that share words get similar vectors, which is enough to test ranking plumbing.
    """

    def __init__(self, dim: int = 256):
        self.dim = dim
        self.model_id = f"hash-{dim}"

    def _vector(self, text: str) -> np.ndarray:
        vec = np.zeros(self.dim, dtype=np.float32)
        words = fold(text).split()
        feats = words + [w[i:i + 3] for w in words for i in range(max(1, len(w) - 2))]
        for feat in feats:
            h = int.from_bytes(hashlib.blake2b(feat.encode(), digest_size=8).digest(), "little")
            vec[h % self.dim] += 1.0 if (h >> 32) & 1 else -1.0
        if not vec.any():
            vec[0] = 1.0
        return vec

    def embed_documents(self, texts, titles=None):
        return _normalise(np.stack([self._vector(t) for t in texts])) if texts else np.zeros((0, self.dim), np.float32)

    def embed_queries(self, texts):
        return self.embed_documents(texts)


class SentenceTransformerEmbedder:
    """A sentence-transformers model with its query/document prompts (EmbeddingGemma's)."""

    def __init__(self, model: str, *, batch_size: int = 8, threads: int = 0, model_id: str | None = None):
        import torch
        from sentence_transformers import SentenceTransformer

        if threads:
            torch.set_num_threads(threads)
        self._model = SentenceTransformer(model, device="cpu", local_files_only=Path(model).exists())
        self._lock = threading.Lock()  # one forward pass at a time: torch already uses both cores
        self.batch_size = batch_size
        get_dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dim = int(get_dim())
        self.model_id = model_id or Path(model).name
        prompts = getattr(self._model, "prompts", {}) or {}
        self._doc_prompt = prompts.get("document", "")
        self._query_prompt = prompts.get("query", "")

    def _doc_text(self, text: str, title: str | None) -> str:
        # EmbeddingGemma's document prompt is "title: none | text: "; fill in the real title.
        if title and "title: none" in self._doc_prompt:
            return self._doc_prompt.replace("title: none", f"title: {title}") + text
        return self._doc_prompt + text

    def _encode(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            out = self._model.encode(texts, batch_size=self.batch_size, prompt="",
                                     normalize_embeddings=True, convert_to_numpy=True,
                                     show_progress_bar=False)
        return _normalise(out)

    def embed_documents(self, texts, titles=None):
        titles = titles or [None] * len(texts)
        return self._encode([self._doc_text(t, h) for t, h in zip(texts, titles)])

    def embed_queries(self, texts):
        return self._encode([self._query_prompt + t for t in texts])


def _open_cache(path: Path):
    db = connect(path)
    db.execute("CREATE TABLE IF NOT EXISTS embeddings (model TEXT, key TEXT, vector BLOB, PRIMARY KEY (model, key))")
    db.execute("SELECT count(*) FROM (SELECT 1 FROM embeddings LIMIT 1)").fetchone()
    return db


class CachedEmbedder:
    """Wraps an embedder with a SQLite cache keyed by (model, sha256 of title and text)."""

    def __init__(self, inner: Embedder, path: Path):
        self.inner = inner
        self.model_id = inner.model_id
        self.dim = inner.dim
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = _open_cache(path)
        except sqlite3.DatabaseError as exc:
            if not is_damage(exc):
                raise
            # Only a cache: what it held can be embedded again. Kept aside, not deleted.
            aside = path.with_name(f"{path.name}.damaged-{int(time.time())}")
            for suffix in ("", "-wal", "-shm"):
                if Path(f"{path}{suffix}").exists():
                    os.replace(f"{path}{suffix}", f"{aside}{suffix}")
            log.warning("the embedding cache %s was damaged (%s): moved to %s, starting an empty one",
                        path, exc, aside)
            self._db = _open_cache(path)
        self._lock = threading.Lock()
        self.computed = 0  # how many texts were actually embedded (for "nothing re-embedded" checks)

    @staticmethod
    def _key(text: str, title: str | None) -> str:
        return hashlib.sha256(f"{title or ''}\x00{text}".encode()).hexdigest()

    def _lookup(self, keys: list[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        with self._lock:
            for i in range(0, len(keys), 500):
                part = keys[i:i + 500]
                rows = self._db.execute(
                    f"SELECT key, vector FROM embeddings WHERE model=? AND key IN ({','.join('?' * len(part))})",
                    [self.model_id, *part]).fetchall()
                found.update((k, np.frombuffer(v, dtype=np.float32)) for k, v in rows)
        return found

    def cached(self, texts: list[str]) -> dict[str, np.ndarray]:
        """The vectors the cache holds for ``texts`` (documents without a title), by text;
        nothing is embedded."""
        keys = {self._key(t, None): t for t in texts}
        return {keys[k]: v for k, v in self._lookup(list(keys)).items()}

    def embed_documents(self, texts, titles=None, progress=None):
        titles = list(titles or [None] * len(texts))
        keys = [self._key(t, h) for t, h in zip(texts, titles)]
        found = self._lookup(keys)
        # Shortest first: each batch holds texts of about one length, so little of it is padding.
        missing = sorted((i for i, k in enumerate(keys) if k not in found), key=lambda i: len(texts[i]))
        step = 32
        for i in range(0, len(missing), step):
            idx = missing[i:i + step]
            vecs = self.inner.embed_documents([texts[j] for j in idx], [titles[j] for j in idx])
            with self._lock:
                self._db.executemany("INSERT OR REPLACE INTO embeddings VALUES (?, ?, ?)",
                                     [(self.model_id, keys[j], v.astype(np.float32).tobytes())
                                      for j, v in zip(idx, vecs)])
            for j, v in zip(idx, vecs):
                found[keys[j]] = v
            self.computed += len(idx)
            if progress:
                progress(len(idx))
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return np.stack([found[k] for k in keys]).astype(np.float32)

    def embed_queries(self, texts):
        return self.inner.embed_queries(texts)


class LangChainEmbeddings(Embeddings):
    """The project's embedder behind LangChain's interface (what langchain-chroma is given)."""

    def __init__(self, embedder: Embedder):
        self.embedder = embedder

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embedder.embed_documents(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embedder.embed_queries([text])[0].tolist()

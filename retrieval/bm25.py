"""A compact BM25 (Okapi) index over pre-tokenised chunks, vectorised with NumPy.

Postings hold precomputed per-(term, chunk) weights, so a query is a few array additions:
fast enough for 50,000 chunks without a search engine.
"""

from __future__ import annotations

from collections import Counter, defaultdict

import numpy as np


class BM25:
    def __init__(self, docs: list[list[str]], k1: float = 1.2, b: float = 0.75):
        self.n = len(docs)
        lengths = np.array([len(d) for d in docs], dtype=np.float32)
        avg = float(lengths.mean()) if self.n else 1.0
        norm = k1 * (1 - b + b * lengths / max(avg, 1e-9))
        rows: dict[str, list[int]] = defaultdict(list)
        tfs: dict[str, list[int]] = defaultdict(list)
        for i, doc in enumerate(docs):
            for term, tf in Counter(doc).items():
                rows[term].append(i)
                tfs[term].append(tf)
        self.postings: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for term, idx in rows.items():
            idx_arr = np.asarray(idx, dtype=np.int32)
            tf = np.asarray(tfs[term], dtype=np.float32)
            df = len(idx)
            idf = np.log(1 + (self.n - df + 0.5) / (df + 0.5))
            self.postings[term] = (idx_arr, (idf * tf * (k1 + 1) / (tf + norm[idx_arr])).astype(np.float32))

    def scores(self, query: list[str]) -> np.ndarray:
        out = np.zeros(self.n, dtype=np.float32)
        for term in set(query):
            posting = self.postings.get(term)
            if posting is not None:
                out[posting[0]] += posting[1]
        return out

    def top(self, query: list[str], k: int) -> list[tuple[int, float]]:
        scores = self.scores(query)
        if not self.n or k <= 0:
            return []
        k = min(k, self.n)
        idx = np.argpartition(-scores, k - 1)[:k]
        idx = idx[np.argsort(-scores[idx])]
        return [(int(i), float(scores[i])) for i in idx if scores[i] > 0]

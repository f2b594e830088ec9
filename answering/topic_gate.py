"""The topic gate: a question closer in meaning to what the bot is not for (weather, football,
recipes…, prompts/topics.toml) than to anything it is for, by a margin, is refused without the
LLM."""

from __future__ import annotations

import threading

import numpy as np

from answering.prompts import topics
from core.rules import Rules, rule

TOPIC_GATE = rule(
    "topic-gate", "decide",
    "a question about something the bot is not for is refused, whatever words it shares with "
    "the documents (the margin keeps borderline questions answerable)",
    setting="off_topic_margin", off=0.0)


class TopicGate:
    def __init__(self, embedder, prototypes: dict | None = None):
        self.embedder = embedder
        self._data = prototypes
        self._vectors: tuple[np.ndarray, np.ndarray] | None = None  # embedded on first use
        self._lock = threading.Lock()

    def usable(self, rules: Rules) -> bool:
        # The gate compares meanings: only with a real embedding model, never the hashing fake.
        return (rules.value(TOPIC_GATE, 0.0) or 0.0) > 0 and not self.embedder.model_id.startswith("hash")

    def off_topic(self, qvec, rules: Rules) -> bool:
        on, off = self._prototypes()
        q = np.asarray(qvec, dtype=np.float32)
        return float((off @ q).max()) > float((on @ q).max()) + rules.value(TOPIC_GATE, 0.0)

    def _prototypes(self) -> tuple[np.ndarray, np.ndarray]:
        with self._lock:
            if self._vectors is None:
                data = self._data or topics()
                embed = self.embedder.embed_documents
                self._vectors = (np.asarray(embed(data["on_topic"]), dtype=np.float32),
                                 np.asarray(embed(data["off_topic"]), dtype=np.float32))
            return self._vectors

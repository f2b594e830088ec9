"""The time a question may take to its final answer (``PARTYBOT_ANSWER_BUDGET_S``).

When the model is slow, the stages that would overrun the budget are left out in a known order:
the machine translations of a fallback first, then the strict retry. A model call that is still
running when the budget ends is cut off (its connection closed, so a local server stops
generating), and the member gets the best checked thing there is: the quoted sentences, their
pieces in the asker's language, or a refusal. Never silence.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable

# Kept back from the last model call for what follows it: checking, the fallback, citations.
RESERVE_S = 1.0
# What one sentence's machine translation is expected to take before one has been timed (the
# local 1.5B model on 2 cores: 60-80 tokens at about 35 tokens/s, after reading the prompt).
TRANSLATION_EXPECTED_S = 4.0


@dataclass
class Budget:
    """``seconds`` from ``start`` (a ``clock`` reading); 0 or less: no limit."""

    seconds: float
    start: float
    clock: Callable[[], float] = field(default=time.perf_counter, repr=False)

    @property
    def limited(self) -> bool:
        return self.seconds > 0

    def left(self) -> float:
        return self.seconds - (self.clock() - self.start) if self.limited else math.inf

    def allows(self, expected_s: float) -> bool:
        """Whether a stage expected to take ``expected_s`` ends inside the budget."""
        return self.left() - RESERVE_S >= expected_s

    def call_timeout(self) -> float | None:
        """How long the next model call may run (None: no limit)."""
        return max(0.1, self.left() - RESERVE_S) if self.limited else None

    def spent(self) -> bool:
        return self.left() <= RESERVE_S


def bounded(chat, seconds: float | None):
    """``chat`` whose requests give up after ``seconds``, without a retry, by closing the
    connection (a llama.cpp server then stops generating). The model, its parameters and so its
    replies and their cache keys are unchanged. Chat models without an OpenAI client (the
    scripted fake) are returned as they are; the answer path's own timer bounds them."""
    if seconds is None:
        return chat
    root, aroot = getattr(chat, "root_client", None), getattr(chat, "root_async_client", None)
    if root is None or not hasattr(chat, "model_copy"):
        return chat
    update = {"client": root.with_options(timeout=seconds, max_retries=0).chat.completions}
    if aroot is not None:
        update["async_client"] = aroot.with_options(timeout=seconds, max_retries=0).chat.completions
    return chat.model_copy(update=update)

"""The answer path's interfaces, as Protocols.

- ``LLMBackend``: a chat backend as ``partybot.backends.build_backend`` makes it, per
  ``PARTYBOT_LLM_BACKEND`` (local, openai, extractive, or the scripted fake).
- ``Answering``: the answerer's public contract, all that the front ends and the composition root
  (``partybot.compose``) rely on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, AsyncIterator, Protocol

if TYPE_CHECKING:
    from answering.types import Answer, StreamEvent


class LLMBackend(Protocol):
    """``chat``: a LangChain chat model, or a lazy handle ``answering.llm.resolve_chat`` resolves,
    or None (no LLM: the extractive backend). ``name`` is recorded with every answer."""

    chat: Any
    name: str

    def close(self) -> None: ...


class Answering(Protocol):
    backend: LLMBackend

    def answer(self, question: str, lang: str | None = None) -> Answer: ...

    def astream(self, question: str, lang: str | None = None) -> AsyncIterator[StreamEvent]: ...

    def warm_up(self) -> None: ...

"""The model's part, measured: a chat model that replies with the evaluation's reference answers.

``partybot eval FILE... --reference-replies`` runs the same answer path (retrieval, decisions,
prompts, checks, repairs, fallbacks) with every reply of the model replaced by the reference
answer of the question asked — or the not-in-sources signal for a question the sources do not
answer. What the scores gain over the local model's run is the model's part; what they still
miss is ours (retrieval, the decisions, the checks, the quoted answers that need no model).
"""

from __future__ import annotations

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import Field

from answering.checks import NOT_IN_SOURCES
from answering.llm import ChatBackend
from partybot.evaluation import Case


class ReferenceChat(BaseChatModel):
    """Replies to a prompt holding one of ``replies``' questions with that question's reply."""

    replies: dict[str, str] = Field(default_factory=dict)  # question (whitespace squashed) -> reply

    @property
    def _llm_type(self) -> str:
        return "reference"

    def _generate(self, messages, stop=None, run_manager=None, **kwargs) -> ChatResult:
        user = " ".join(next((str(m.content) for m in reversed(messages) if m.type == "human"), "").split())
        # the longest question the prompt holds (one question may be part of another)
        asked = max((q for q in self.replies if q and q in user), key=len, default=None)
        reply = self.replies[asked] if asked else NOT_IN_SOURCES
        return ChatResult(generations=[ChatGeneration(
            message=AIMessage(reply, response_metadata={"finish_reason": "stop"}))])


def reference_backend(cases: list[Case]) -> ChatBackend:
    """A backend named like the local one, so that every decision is the local model's run's."""
    missing = [c.id for c in cases if c.answerable and not c.raw.get("reference_answer")]
    if missing:
        raise ValueError(f"no reference_answer for {', '.join(missing[:5])}: nothing to reply with")
    replies = {" ".join(c.question.split()): (c.raw["reference_answer"] if c.answerable else NOT_IN_SOURCES)
               for c in cases}
    return ChatBackend(ReferenceChat(replies=replies), "local:reference-answers")

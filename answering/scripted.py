"""The scripted chat model: a deterministic fake LLM whose replies are queued.

``PARTYBOT_LLM_BACKEND=scripted`` reads the replies from ``PARTYBOT_LLM_SCRIPT``, so a demo, a
test or a bug report can replay exactly what a model said, through the real answer path, from
the command line. Tests may also build one in code (``ScriptedChat(replies=[...])``) and read
what it was sent (``calls``).

The script file: ``*.jsonl`` holds one JSON value per line, a string (the reply) or an object
``{"reply": "..."}`` or ``{"error": "..."}`` (the call raises, as a failing server would); any
other file holds one reply per non-blank line. When the replies are used up the model raises a
``ModelError`` saying so, or, with ``PARTYBOT_LLM_SCRIPT_CYCLE=true``, starts over.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Literal

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import Field, PrivateAttr

from core.errors import ConfigError, ModelError


class ScriptedChat(BaseChatModel):
    """Replays ``replies`` in order (an ``Exception`` in the list is raised instead) and records
    the messages of every call in ``calls``. ``exhausted``: what a call past the last reply gets:
    ``"empty"`` (an empty reply), ``"cycle"`` (the replies again) or ``"fail"`` (a ModelError)."""

    replies: list = Field(default_factory=list)
    calls: list = Field(default_factory=list)
    exhausted: Literal["empty", "cycle", "fail"] = "empty"
    source: str = "the script"  # named in the error when the replies run out
    chunk_chars: int = 7  # streamed in pieces of this many characters
    _played: list = PrivateAttr(default_factory=list)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def next_reply(self, messages) -> str:
        with self._lock:
            self.calls.append(messages)
            if not self.replies and self.exhausted == "cycle" and self._played:
                self.replies, self._played = self._played, []
            if not self.replies:
                if self.exhausted == "fail":
                    raise ModelError(f"the scripted LLM has no replies left in {self.source} after "
                                     f"{len(self.calls) - 1} calls: add replies, or set PARTYBOT_LLM_SCRIPT_CYCLE=true")
                return ""
            reply = self.replies.pop(0)
            self._played.append(reply)
        if isinstance(reply, Exception):
            raise reply
        return reply

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        return ChatResult(generations=[ChatGeneration(message=AIMessage(self.next_reply(messages)))])

    def _stream(self, messages, stop=None, run_manager=None, **kwargs):
        text = self.next_reply(messages)
        for i in range(0, len(text), self.chunk_chars):
            yield ChatGenerationChunk(message=AIMessageChunk(content=text[i:i + self.chunk_chars]))


def load_script(path: Path) -> list:
    """The replies of a script file (see the module's docstring); errors name the file and line."""
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"PARTYBOT_LLM_SCRIPT: cannot read {path}: {exc.strerror or exc}") from None
    if path.suffix != ".jsonl":
        return [line for line in raw.splitlines() if line.strip()]
    replies: list = []
    for n, line in enumerate(raw.splitlines(), 1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"PARTYBOT_LLM_SCRIPT: {path}, line {n}: not JSON ({exc.msg})") from None
        if isinstance(value, str):
            replies.append(value)
        elif isinstance(value, dict) and isinstance(value.get("reply"), str):
            replies.append(value["reply"])
        elif isinstance(value, dict) and isinstance(value.get("error"), str):
            replies.append(ModelError(value["error"]))
        else:
            raise ConfigError(f'PARTYBOT_LLM_SCRIPT: {path}, line {n}: expected a string, {{"reply": "..."}} '
                              'or {"error": "..."}')
    return replies


def scripted_chat(settings) -> ScriptedChat:
    """The scripted model the settings name (``PARTYBOT_LLM_SCRIPT``, ``PARTYBOT_LLM_SCRIPT_CYCLE``)."""
    if not settings.llm_script:
        raise ConfigError("PARTYBOT_LLM_BACKEND=scripted needs PARTYBOT_LLM_SCRIPT: a file of the replies "
                          "to give, one per line (or a .jsonl file of JSON strings)")
    path = Path(settings.llm_script)
    replies = load_script(path)
    if not replies:
        raise ConfigError(f"PARTYBOT_LLM_SCRIPT: {path} holds no replies")
    return ScriptedChat(replies=replies, exhausted="cycle" if settings.llm_script_cycle else "fail",
                        source=str(path))

"""LLM backends, all as LangChain chat models, chosen by ``PARTYBOT_LLM_BACKEND``.

- ``local`` (default): the fetched Qwen2.5-Coder GGUF served by llama.cpp *inside this process*
  (``xllamacpp``: llama.cpp's OpenAI-compatible server bound to a free loopback port), driven by
  ``ChatOpenAI``. No network beyond 127.0.0.1; started once, on first use, off the event loop.
- ``openai``: any OpenAI-compatible endpoint (``LLM_BASE_URL``, ``LLM_MODEL``, ``LLM_API_KEY``):
  vLLM, Ollama, llama.cpp's server, a hosted API.
- ``extractive``: no LLM; the backend's ``chat`` is None and the answerer quotes sentences.
- ``scripted``: the deterministic fake (``answering/scripted.py``): replies queued in the file
  ``PARTYBOT_LLM_SCRIPT``, for demos and tests of the whole path without a model.

``partybot.backends.build_backend`` builds the one the settings ask for.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from dataclasses import dataclass

from core.errors import ModelError

log = logging.getLogger(__name__)


@dataclass
class ChatBackend:
    chat: object | None  # a LangChain BaseChatModel, or None for the extractive backend
    name: str  # what is recorded with every answer, e.g. "local:qwen2.5-coder-1.5b-instruct-q4_k_m"
    server: "LocalServer | None" = None

    def close(self) -> None:
        if self.server:
            self.server.close()


class LocalServer:
    """llama.cpp's OpenAI-compatible server on loopback, one slot per parallel request.

    ``native``: the ``llama-server`` built for this CPU by ``partybot models fetch``
    (partybot/llamaserver.py), as a child process: about twice as fast at reading prompts as the
    prebuilt wheel, run by ``process`` (``partybot.llamaserver.ServerProcess``, given by the
    composition root, partybot.backends). ``inprocess``: the prebuilt ``xllamacpp`` wheel inside
    this process (no compiler needed)."""

    def __init__(self, gguf: str, *, threads: int, ctx: int, parallel: int = 1, binary: str | None = None,
                 process=None):
        if binary and process is None:
            raise ValueError("a native llama-server binary needs the process class that runs it")
        self.gguf = gguf
        self.threads = threads
        self.ctx = ctx
        self.parallel = parallel
        self.binary = binary
        self.process = process
        self.runtime = "native" if binary else "inprocess"
        self._server = None
        self._lock = threading.Lock()
        self.base_url: str | None = None

    def start(self) -> str:
        with self._lock:
            if self._server is not None:
                return self.base_url
            t = time.perf_counter()
            if self.binary:
                server = self.process(self.binary, self.gguf, port=_free_port(), threads=self.threads,
                                      ctx=self.ctx, parallel=self.parallel)
                self.base_url = server.start()
                self._server = server
            else:
                self._server, self.base_url = self._start_inprocess()
            log.info("local LLM (%s) ready at %s in %.1f s", self.runtime, self.base_url, time.perf_counter() - t)
            return self.base_url

    def _start_inprocess(self):
        import xllamacpp

        params = xllamacpp.CommonParams()
        params.model.path = self.gguf
        params.n_ctx = self.ctx * self.parallel
        params.n_parallel = self.parallel
        params.cpuparams.n_threads = self.threads
        params.cpuparams_batch.n_threads = self.threads
        params.hostnames = ["127.0.0.1"]
        params.port = _free_port()
        params.cache_prompt = True  # the fixed instructions prefix is reused between questions
        # llama.cpp logs every request at INFO on stderr; keep that for `-v` debugging only.
        params.verbosity = 1 if log.isEnabledFor(logging.DEBUG) else -1
        try:
            server = xllamacpp.Server(params)
        except Exception as exc:  # the binding raises plain RuntimeErrors
            raise ModelError(f"cannot start the local LLM from {self.gguf}: {exc}") from exc
        return server, server.listening_address.rstrip("/") + "/v1"

    def close(self) -> None:
        with self._lock:
            server, self._server = self._server, None
            if server is not None and self.binary:
                server.close()
            # the in-process binding stops its loop when the object is released


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _chat_openai(base_url: str, model: str, api_key: str, settings, *, lazy_base=None):
    from langchain_openai import ChatOpenAI

    extra = {"repeat_penalty": 1.1} if lazy_base == "local" else None
    return ChatOpenAI(base_url=base_url, model=model, api_key=api_key or "not-needed",
                      temperature=settings.llm_temperature, max_tokens=settings.llm_max_tokens,
                      timeout=settings.llm_timeout_s, max_retries=1, streaming=False, extra_body=extra)


class LazyLocalChat:
    """Builds the ChatOpenAI client the first time it is needed (starting the local server)."""

    def __init__(self, server: LocalServer, settings):
        self.server = server
        self.settings = settings
        self._chat = None
        self._lock = threading.Lock()

    def get(self):
        with self._lock:
            if self._chat is None:
                base = self.server.start()
                self._chat = _chat_openai(base, "local", "", self.settings, lazy_base="local")
            return self._chat


def resolve_chat(backend: ChatBackend):
    """The LangChain chat model (starting the local server on first use), or None."""
    chat = backend.chat
    if isinstance(chat, LazyLocalChat):
        return chat.get()
    return chat

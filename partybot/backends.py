"""The backends the settings ask for: the embedder and the chat model (with the local model's
server). The composition root (partybot.compose) and scripts/ build them here, where the model
registry (partybot.models) and the llama-server build (partybot.llamaserver) are known; the
layers below receive what is built.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable

from core.errors import ConfigError, ModelError
from partybot.llamaserver import ServerProcess, installed
from partybot.models import MODELS, is_installed, model_path, resolve_embedding_model
from answering.llm import ChatBackend, LazyLocalChat, LocalServer, _chat_openai
from answering.scripted import scripted_chat
from vectorstore.embeddings import CachedEmbedder, Embedder, HashEmbedder, SentenceTransformerEmbedder

log = logging.getLogger(__name__)


def build_embedder(settings) -> CachedEmbedder:
    """The embedder the settings ask for, with the cache under the data directory."""
    if settings.embedder == "hash":
        inner: Embedder = HashEmbedder()
    else:
        path = resolve_embedding_model(settings.embedding_model, settings.models_path)
        log.info("loading embedding model %s", path)
        inner = SentenceTransformerEmbedder(path, batch_size=settings.embed_batch_size,
                                            threads=settings.embed_threads,
                                            model_id=Path(settings.embedding_model).name)
    return CachedEmbedder(inner, settings.data_dir / "embeddings.sqlite3")


def _extractive(settings) -> ChatBackend:
    return ChatBackend(None, "extractive")


def _openai(settings) -> ChatBackend:
    if not settings.llm_base_url:
        raise ConfigError("PARTYBOT_LLM_BACKEND=openai needs LLM_BASE_URL (e.g. http://127.0.0.1:8000/v1) "
                          "and LLM_MODEL")
    chat = _chat_openai(settings.llm_base_url, settings.llm_model_name or "default",
                        settings.llm_api_key or "", settings)
    return ChatBackend(chat, f"openai:{settings.llm_model_name or 'default'}")


def _local(settings) -> ChatBackend:
    name = settings.llm_model
    if name in MODELS:
        if not is_installed(name, settings.models_path):
            raise ModelError(f"the local LLM {name!r} is not in {settings.models_path}: run "
                             f"`partybot models fetch {name}` (or `make models`), or set "
                             f"PARTYBOT_LLM_BACKEND=extractive")
        gguf = str(model_path(name, settings.models_path))
    else:
        gguf = name  # a path to a .gguf file
    server = LocalServer(gguf, threads=settings.llm_threads, ctx=settings.llm_ctx,
                         parallel=settings.llm_parallel, binary=native_server(settings),
                         process=ServerProcess)
    return ChatBackend(LazyLocalChat(server, settings), f"local:{name.rsplit('/', 1)[-1]}", server)


def _scripted(settings) -> ChatBackend:
    return ChatBackend(scripted_chat(settings), f"scripted:{Path(settings.llm_script).name}")


# PARTYBOT_LLM_BACKEND -> how to build it. The fake is registered like the real ones.
BACKENDS: dict[str, Callable[..., ChatBackend]] = {
    "local": _local, "openai": _openai, "extractive": _extractive, "scripted": _scripted,
}


def build_backend(settings) -> ChatBackend:
    make = BACKENDS.get(settings.llm_backend)
    if make is None:
        raise ConfigError(f"unknown PARTYBOT_LLM_BACKEND {settings.llm_backend!r}: use {', '.join(BACKENDS)}")
    return make(settings)


def native_server(settings) -> str | None:
    """The llama-server built for this CPU, per PARTYBOT_LLM_RUNTIME: ``auto`` uses it when built,
    ``native`` requires it, ``inprocess`` never uses it."""
    if settings.llm_runtime == "inprocess":
        return None
    binary = installed(settings.models_path)
    if binary is None and settings.llm_runtime == "native":
        raise ModelError("PARTYBOT_LLM_RUNTIME=native but llama-server is not built for this CPU in "
                         f"{settings.models_path}: run `partybot models fetch` (or `make models`)")
    if binary is None:
        log.warning("llama-server is not built for this CPU: the local model runs on the slower prebuilt "
                    "runtime (run `partybot models fetch` to build it)")
    return str(binary) if binary else None

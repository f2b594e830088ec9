"""Conversation logs: every turn the bot answers, kept for review (SQLAlchemy).

SQLite (WAL) under the data directory by default; PostgreSQL (or anything SQLAlchemy speaks)
when ``DATABASE_URL`` says so. The schema is versioned by numbered migrations recorded in
``schema_migrations``; :meth:`LogStore.migrate` applies the missing ones in order, each in its
own transaction, so a new release upgrades an old database in place.

Users are pseudonymised (an HMAC of the Telegram id under a key kept in the data directory)
when ``LOG_PSEUDONYMIZE`` is on. All methods are blocking: callers on an event loop use
``asyncio.to_thread``.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import logging
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Callable, Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

log = logging.getLogger(__name__)

metadata = sa.MetaData()

turns = sa.Table(
    "turns", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("user_ref", sa.String(80), nullable=False, index=True),
    sa.Column("chat_id", sa.String(40), nullable=False),
    sa.Column("chat_type", sa.String(20), nullable=False, default="private"),
    sa.Column("lang", sa.String(8), nullable=False),
    sa.Column("question", sa.Text, nullable=False),
    sa.Column("answer", sa.Text, nullable=False),
    sa.Column("citations", sa.Text, nullable=False, default="[]"),  # JSON
    sa.Column("passages", sa.Text, nullable=False, default="[]"),  # JSON: retrieved, with scores
    sa.Column("model", sa.String(200), nullable=False, default=""),
    sa.Column("prompt_version", sa.String(80), nullable=False, default=""),
    sa.Column("mode", sa.String(20), nullable=False, default=""),
    sa.Column("abstained", sa.Boolean, nullable=False, default=False),
    sa.Column("grounded", sa.Boolean, nullable=False, default=False),
    sa.Column("relevance", sa.Float, nullable=False, default=0.0),
    sa.Column("first_content_ms", sa.Float),
    sa.Column("total_ms", sa.Float),
    sa.Column("timings", sa.Text, nullable=False, default="{}"),  # JSON
    sa.Column("checks", sa.Text, nullable=False, default="[]"),  # JSON
    sa.Column("feedback", sa.SmallInteger),  # 1 = 👍, -1 = 👎
    sa.Column("feedback_reason", sa.Text),
    sa.Column("feedback_at", sa.DateTime(timezone=True)),
)

user_prefs = sa.Table(
    "user_prefs", metadata,
    sa.Column("user_ref", sa.String(80), primary_key=True),
    sa.Column("lang", sa.String(8), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

schema_migrations = sa.Table(
    "schema_migrations", metadata,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
)


def _m001_initial(conn: Connection) -> None:
    # Migrations build their own frozen copy of the tables: the query tables above may grow
    # columns later (added by later migrations), and migration 1 must keep creating release 1's.
    frozen = sa.MetaData()
    turns.to_metadata(frozen)
    user_prefs.to_metadata(frozen)
    frozen.create_all(conn)


def _m002_feedback_index(conn: Connection) -> None:
    conn.execute(sa.text("CREATE INDEX ix_turns_feedback ON turns (feedback)"))


# Append only; never edit a released migration.
MIGRATIONS: list[tuple[int, str, Callable[[Connection], None]]] = [
    (1, "turns and user preferences", _m001_initial),
    (2, "index on feedback", _m002_feedback_index),
]

FEEDBACK_LABEL = {1: "up", -1: "down"}


def now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes for timezone-aware columns: they were stored in UTC.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # noqa: ANN001
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    return sa.create_engine(url, pool_pre_ping=True)


class LogStore:
    def __init__(self, url: str, *, pseudonymize: bool = False, key: bytes | None = None):
        self.url = url
        self.engine = make_engine(url)
        self.pseudonymize = pseudonymize
        self._key = key or b""
        self.migrate()

    @classmethod
    def from_settings(cls, settings) -> "LogStore":
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        url = settings.database_url or f"sqlite:///{settings.data_dir / 'logs.sqlite3'}"
        key = _load_key(settings.data_dir / "log_pseudonym.key") if settings.log_pseudonymize else None
        return cls(url, pseudonymize=settings.log_pseudonymize, key=key)

    # -- schema ------------------------------------------------------------------------------
    def migrate(self) -> list[int]:
        with self.engine.begin() as conn:
            schema_migrations.create(conn, checkfirst=True)
        applied: list[int] = []
        with self.engine.connect() as conn:
            done = {r[0] for r in conn.execute(sa.select(schema_migrations.c.version))}
        for version, name, step in MIGRATIONS:
            if version in done:
                continue
            with self.engine.begin() as conn:
                step(conn)
                conn.execute(schema_migrations.insert().values(version=version, name=name, applied_at=now()))
            log.info("log database: applied migration %d (%s)", version, name)
            applied.append(version)
        return applied

    def schema_version(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.max(schema_migrations.c.version))).scalar() or 0

    def close(self) -> None:
        self.engine.dispose()

    # -- users -------------------------------------------------------------------------------
    def user_ref(self, user_id: int | str) -> str:
        if not self.pseudonymize:
            return str(user_id)
        digest = hmac.new(self._key, str(user_id).encode(), hashlib.sha256).hexdigest()
        return "u_" + digest[:24]

    def get_lang(self, user_id: int | str) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(
                sa.select(user_prefs.c.lang).where(user_prefs.c.user_ref == self.user_ref(user_id))
            ).scalar()

    def set_lang(self, user_id: int | str, lang: str | None) -> None:
        ref = self.user_ref(user_id)
        with self.engine.begin() as conn:
            conn.execute(user_prefs.delete().where(user_prefs.c.user_ref == ref))
            if lang:
                conn.execute(user_prefs.insert().values(user_ref=ref, lang=lang, updated_at=now()))

    # -- turns -------------------------------------------------------------------------------
    def log_turn(self, *, user_id: int | str, chat_id: int | str, chat_type: str, answer: Any,
                 first_content_ms: float | None = None, total_ms: float | None = None) -> int:
        """Store one answered question (an :class:`retrieval.answer.Answer`); returns its id."""
        row = dict(
            created_at=now(), user_ref=self.user_ref(user_id), chat_id=str(chat_id), chat_type=chat_type,
            lang=answer.lang, question=answer.question, answer=answer.text,
            citations=json.dumps([_plain(c) for c in answer.citations], ensure_ascii=False),
            passages=json.dumps(answer.passages, ensure_ascii=False, default=str),
            model=answer.model, prompt_version=answer.prompt_version, mode=answer.mode,
            abstained=bool(answer.abstained), grounded=bool(answer.grounded),
            relevance=float(answer.relevance or 0.0), first_content_ms=first_content_ms, total_ms=total_ms,
            timings=json.dumps(answer.timings), checks=json.dumps(answer.checks, ensure_ascii=False),
        )
        with self.engine.begin() as conn:
            return int(conn.execute(turns.insert().values(**row)).inserted_primary_key[0])

    def get_turn(self, turn_id: int) -> dict | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(turns).where(turns.c.id == turn_id)).mappings().first()
        return _decode(row) if row else None

    def set_feedback(self, turn_id: int, value: int, reason: str | None = None) -> bool:
        values: dict[str, Any] = {"feedback": value, "feedback_at": now()}
        if reason is not None:
            values["feedback_reason"] = reason[:2000]
        with self.engine.begin() as conn:
            return conn.execute(turns.update().where(turns.c.id == turn_id).values(**values)).rowcount == 1

    def count(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(turns)).scalar() or 0

    def iter_turns(self, since: datetime | None = None) -> Iterable[dict]:
        q = sa.select(turns).order_by(turns.c.id)
        if since is not None:
            q = q.where(turns.c.created_at >= since)
        with self.engine.connect() as conn:
            for row in conn.execute(q).mappings():
                yield _decode(row)

    def purge_older_than(self, days: int) -> int:
        cutoff = now() - timedelta(days=days)
        with self.engine.begin() as conn:
            return conn.execute(turns.delete().where(turns.c.created_at < cutoff)).rowcount

    # -- reporting ---------------------------------------------------------------------------
    def stats(self, days: int = 7) -> dict:
        """Questions per day, abstention rate and feedback by language over the last ``days``."""
        since = now() - timedelta(days=days)
        per_day: dict[str, int] = {}
        by_lang: dict[str, dict[str, int]] = {}
        total = abstained = 0
        for t in self.iter_turns(since):
            day = t["created_at"].date().isoformat()
            per_day[day] = per_day.get(day, 0) + 1
            s = by_lang.setdefault(t["lang"], {"questions": 0, "abstained": 0, "up": 0, "down": 0})
            s["questions"] += 1
            total += 1
            if t["abstained"]:
                s["abstained"] += 1
                abstained += 1
            if t["feedback"] in FEEDBACK_LABEL:
                s[FEEDBACK_LABEL[t["feedback"]]] += 1
        return {"days": days, "questions": total, "abstention_rate": (abstained / total) if total else 0.0,
                "per_day": dict(sorted(per_day.items())), "by_lang": dict(sorted(by_lang.items()))}

    def export(self, fmt: str = "jsonl", since: datetime | None = None) -> bytes:
        rows = list(self.iter_turns(since))
        if fmt == "jsonl":
            return "".join(json.dumps(_jsonable(r), ensure_ascii=False) + "\n" for r in rows).encode()
        if fmt == "csv":
            buf = io.StringIO()
            cols = [c.name for c in turns.columns]
            w = csv.DictWriter(buf, fieldnames=cols)
            w.writeheader()
            for r in rows:
                flat = _jsonable(r)
                w.writerow({k: json.dumps(v, ensure_ascii=False) if isinstance(v, (list, dict)) else v
                            for k, v in flat.items()})
            return ("\ufeff" + buf.getvalue()).encode()  # BOM: spreadsheet apps then read UTF-8
        raise ValueError(f"unknown export format {fmt!r} (csv or jsonl)")


def _plain(obj: Any) -> dict:
    from dataclasses import asdict, is_dataclass

    return asdict(obj) if is_dataclass(obj) else dict(obj)


def _decode(row) -> dict:
    d = dict(row)
    for k in ("citations", "passages", "timings", "checks"):
        d[k] = json.loads(d[k] or "null")
    for k in ("created_at", "feedback_at"):
        d[k] = _aware(d[k])
    d["abstained"] = bool(d["abstained"])
    d["grounded"] = bool(d["grounded"])
    return d


def _jsonable(d: dict) -> dict:
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in d.items()}


def _load_key(path: Path) -> bytes:
    """The pseudonymisation key: made once, kept beside the logs (losing it unlinks old turns)."""
    if path.exists():
        return bytes.fromhex(path.read_text().strip())
    key = secrets.token_bytes(32)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(key.hex())
    tmp.chmod(0o600)
    tmp.replace(path)
    return key

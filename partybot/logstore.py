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
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any, Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from partybot.keyfile import load_or_create_key
from partybot.logschema import MIGRATIONS, VERDICTS, review_sessions, reviews, schema_migrations, turns, user_prefs
from vectorstore.sqlite import enable_wal

log = logging.getLogger(__name__)

FEEDBACK_LABEL = {1: "up", -1: "down"}
REVIEW_COLUMNS = ["verdict", "note", "corrected_answer", "reviewer", "reviewed_at", "eval_case_id", "eval_added_at"]


@dataclass
class TurnFilter:
    """What the review list shows; every field left at its default filters nothing."""

    date_from: date | None = None
    date_to: date | None = None  # inclusive
    lang: str | None = None
    abstained: bool | None = None
    feedback: str | None = None  # "up", "down", "none" (no feedback given)
    below: float | None = None  # retrieval relevance under this ("low retrieval score")
    unreviewed: bool = False
    verdict: str | None = None
    text: str | None = None  # in the question or the answer
    newest_first: bool = True
    tz: tzinfo = UTC  # the dates are days in this time zone

    def _start_of(self, d: date) -> datetime:
        return datetime.combine(d, time.min, self.tz).astimezone(UTC)

    def where(self) -> list:
        c, out = turns.c, []
        if self.date_from:
            out.append(c.created_at >= self._start_of(self.date_from))
        if self.date_to:
            out.append(c.created_at < self._start_of(self.date_to + timedelta(days=1)))
        if self.lang:
            out.append(c.lang == self.lang)
        if self.abstained is not None:
            out.append(c.abstained.is_(self.abstained))
        if self.feedback == "none":
            out.append(c.feedback.is_(None))
        elif self.feedback in ("up", "down"):
            out.append(c.feedback == (1 if self.feedback == "up" else -1))
        if self.below is not None:
            out.append(c.relevance < self.below)
        if self.unreviewed:
            out.append(reviews.c.turn_id.is_(None))
        if self.verdict:
            out.append(reviews.c.verdict == self.verdict)
        if self.text:
            needle = self.text.strip().lower()
            out.append(sa.or_(sa.func.lower(c.question).contains(needle, autoescape=True),
                              sa.func.lower(c.answer).contains(needle, autoescape=True)))
        return out


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
            enable_wal(cur)
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    return sa.create_engine(url, pool_pre_ping=True)


class LogStore:
    def __init__(self, url: str, *, pseudonymize: bool = False, key: bytes | None = None, upgrade: bool = True):
        """``upgrade=False`` leaves the schema as it is (a database as an older release left it)."""
        self.url = url
        self.engine = make_engine(url)
        self.pseudonymize = pseudonymize
        self._key = key or b""
        if upgrade:
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
        old = sa.select(turns.c.id).where(turns.c.created_at < cutoff)
        with self.engine.begin() as conn:
            conn.execute(reviews.delete().where(reviews.c.turn_id.in_(old)))
            return conn.execute(turns.delete().where(turns.c.created_at < cutoff)).rowcount

    # -- review ------------------------------------------------------------------------------
    def _reviewed_select(self, flt: TurnFilter):
        cols = [turns] + [reviews.c[k] for k in REVIEW_COLUMNS]
        q = sa.select(*cols).select_from(turns.outerjoin(reviews, reviews.c.turn_id == turns.c.id))
        where = flt.where()
        return q.where(*where) if where else q

    def find_turns(self, flt: TurnFilter | None = None, *, offset: int = 0,
                   limit: int | None = None) -> tuple[list[dict], int]:
        """Turns matching ``flt`` (with their review, if any), a page of them and the total."""
        flt = flt or TurnFilter()
        q = self._reviewed_select(flt)
        c = turns.c
        order = (c.created_at.desc(), c.id.desc()) if flt.newest_first else (c.created_at.asc(), c.id.asc())
        page = q.order_by(*order).offset(offset)
        if limit is not None:
            page = page.limit(limit)
        with self.engine.connect() as conn:
            total = conn.execute(sa.select(sa.func.count()).select_from(q.subquery())).scalar() or 0
            rows = [_decode(r) for r in conn.execute(page).mappings()]
        return rows, int(total)

    def get_review(self, turn_id: int) -> dict | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(reviews).where(reviews.c.turn_id == turn_id)).mappings().first()
        if not row:
            return None
        d = dict(row)
        for k in ("reviewed_at", "eval_added_at"):
            d[k] = _aware(d[k])
        return d

    def save_review(self, turn_id: int, *, verdict: str | None, note: str | None = None,
                    corrected_answer: str | None = None, reviewer: str = "") -> dict:
        """Mark a turn reviewed (again): the latest review replaces the previous one, except that
        a turn once added to the eval set stays recorded as added."""
        if verdict is not None and verdict not in VERDICTS:
            raise ValueError(f"unknown verdict {verdict!r}: one of {', '.join(VERDICTS)}")
        values = dict(verdict=verdict, note=(note or "").strip()[:10000] or None,
                      corrected_answer=(corrected_answer or "").strip()[:20000] or None,
                      reviewer=reviewer[:80], reviewed_at=now())
        with self.engine.begin() as conn:
            if conn.execute(sa.select(turns.c.id).where(turns.c.id == turn_id)).first() is None:
                raise KeyError(turn_id)
            updated = conn.execute(reviews.update().where(reviews.c.turn_id == turn_id).values(**values)).rowcount
            if not updated:
                conn.execute(reviews.insert().values(turn_id=turn_id, **values))
        return self.get_review(turn_id) or {}

    def mark_eval_case(self, turn_id: int, case_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(reviews.update().where(reviews.c.turn_id == turn_id)
                         .values(eval_case_id=case_id, eval_added_at=now()))

    def dashboard(self, days: int = 30, tz: tzinfo = UTC) -> dict:
        """Per day (in ``tz``): questions, abstentions, latency percentiles; per language: 👍/👎."""
        start = (now().astimezone(tz) - timedelta(days=days - 1)).date()
        flt = TurnFilter(date_from=start, newest_first=False, tz=tz)
        per_day = {(start + timedelta(days=i)).isoformat(): {"questions": 0, "abstained": 0, "latency": []}
                   for i in range(days)}
        by_lang: dict[str, dict[str, int]] = {}
        q = self._reviewed_select(flt).order_by(turns.c.id)
        with self.engine.connect() as conn:
            for r in conn.execute(q).mappings():
                day = per_day.get(_aware(r["created_at"]).astimezone(tz).date().isoformat())
                if day is None:
                    continue
                day["questions"] += 1
                day["abstained"] += int(bool(r["abstained"]))
                if r["total_ms"] is not None:
                    day["latency"].append(float(r["total_ms"]))
                s = by_lang.setdefault(r["lang"], {"questions": 0, "up": 0, "down": 0})
                s["questions"] += 1
                if r["feedback"] in FEEDBACK_LABEL:
                    s[FEEDBACK_LABEL[r["feedback"]]] += 1
        out_days = []
        for d, v in per_day.items():
            lat = sorted(v["latency"])
            out_days.append({"day": d, "questions": v["questions"], "abstained": v["abstained"],
                             "p50": _pct(lat, 50), "p90": _pct(lat, 90), "p99": _pct(lat, 99)})
        return {"days": out_days, "by_lang": dict(sorted(by_lang.items()))}

    # -- review sessions ---------------------------------------------------------------------
    def start_review_session(self, session_id: str, *, reviewer: str, expires_at: datetime) -> None:
        """Record a new logged-in session of the review app; the expired ones go."""
        with self.engine.begin() as conn:
            conn.execute(review_sessions.delete().where(review_sessions.c.expires_at <= now()))
            conn.execute(review_sessions.insert().values(id_hash=_session_hash(session_id), reviewer=reviewer[:80],
                                                         created_at=now(), expires_at=expires_at))

    def review_session_live(self, session_id: str) -> bool:
        """Whether the session was started, has not ended and has not expired."""
        c = review_sessions.c
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(c.id_hash).where(c.id_hash == _session_hash(session_id),
                                                          c.expires_at > now())).first()
        return row is not None

    def end_review_session(self, session_id: str) -> bool:
        with self.engine.begin() as conn:
            return conn.execute(review_sessions.delete().where(
                review_sessions.c.id_hash == _session_hash(session_id))).rowcount == 1

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

    def export(self, fmt: str = "jsonl", flt: TurnFilter | None = None) -> bytes:
        """All turns (or those ``flt`` selects, oldest first) with their reviews, as CSV or JSONL."""
        rows, _ = self.find_turns(replace(flt or TurnFilter(), newest_first=False))
        if fmt == "jsonl":
            return "".join(json.dumps(_jsonable(r), ensure_ascii=False) + "\n" for r in rows).encode()
        if fmt == "csv":
            buf = io.StringIO()
            cols = [c.name for c in turns.columns] + REVIEW_COLUMNS
            w = csv.DictWriter(buf, fieldnames=cols)
            w.writeheader()
            for r in rows:
                flat = _jsonable(r)
                w.writerow({k: _cell(json.dumps(v, ensure_ascii=False) if isinstance(v, (list, dict)) else v)
                            for k, v in flat.items()})
            return ("\ufeff" + buf.getvalue()).encode()  # BOM: spreadsheet apps then read UTF-8
        raise ValueError(f"unknown export format {fmt!r} (csv or jsonl)")


def _plain(obj: Any) -> dict:
    from dataclasses import asdict, is_dataclass

    return asdict(obj) if is_dataclass(obj) else dict(obj)


def _cell(value: Any) -> Any:
    """A CSV cell that a spreadsheet will not run: questions are untrusted input, and a cell
    starting with = + - @ would be taken for a formula."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    k = (len(values) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def _decode(row) -> dict:
    d = dict(row)
    for k in ("citations", "passages", "timings", "checks"):
        d[k] = json.loads(d[k] or "null")
    for k in ("created_at", "feedback_at", "reviewed_at", "eval_added_at"):
        if k in d:
            d[k] = _aware(d[k])
    d["abstained"] = bool(d["abstained"])
    d["grounded"] = bool(d["grounded"])
    return d


def _session_hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def _jsonable(d: dict) -> dict:
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in d.items()}


def _load_key(path: Path) -> bytes:
    """The pseudonymisation key, kept beside the logs (losing it unlinks old turns)."""
    return load_or_create_key(path)

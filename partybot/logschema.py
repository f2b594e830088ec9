"""The conversation log's schema: its tables, and the numbered migrations that build them.

Append a migration for every change; never edit a released one (each carries a frozen copy of
the columns it creates, so it builds what it built when it was released).
"""

from __future__ import annotations

from typing import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

metadata = sa.MetaData()

# Row ids (turns.id) are SQL INTEGERs: 32-bit on PostgreSQL, which refuses to even compare one
# with a larger number ("integer out of range"); SQLite's driver cannot bind a number past 2**63 - 1
# (OverflowError). Callers check an id from outside against this before asking.
ID_MAX = 2**31 - 1

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
    sa.Column("trace", sa.Text, nullable=False, server_default="[]"),  # JSON: the stages run (migration 5)
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

# A reviewer's judgement of one turn (the review web app). Kept apart from ``turns`` so that
# what the bot said stays exactly as it was logged.
reviews = sa.Table(
    "reviews", metadata,
    sa.Column("turn_id", sa.Integer, sa.ForeignKey("turns.id", ondelete="CASCADE"), primary_key=True,
              autoincrement=False),
    sa.Column("verdict", sa.String(20)),  # see VERDICTS; NULL: reviewed, no verdict given
    sa.Column("note", sa.Text),
    sa.Column("corrected_answer", sa.Text),
    sa.Column("reviewer", sa.String(80), nullable=False, default=""),
    sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("eval_case_id", sa.String(80)),  # set once the turn became an eval case
    sa.Column("eval_added_at", sa.DateTime(timezone=True)),
)

VERDICTS = {
    "correct": "correct",
    "wrong": "wrong",
    "should_abstain": "should have abstained",
    "should_answer": "should have answered",
}

# The review app's logged-in sessions. The session cookie carries a random session id; this
# table keeps only its SHA-256 (reading the database gives nobody a session). A session is live
# while its row is here and unexpired: logging out deletes the row, and starting a session
# deletes the expired ones, so they do not pile up.
review_sessions = sa.Table(
    "review_sessions", metadata,
    sa.Column("id_hash", sa.String(64), primary_key=True),
    sa.Column("reviewer", sa.String(80), nullable=False, default=""),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False, index=True),
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
    sa.Table("turns", frozen, *(_column(c) for c in turns.columns if c.name not in _TURNS_LATER))
    user_prefs.to_metadata(frozen)
    frozen.create_all(conn)


_TURNS_LATER = ("trace",)  # columns of turns that later migrations add


def _column(c: sa.Column) -> sa.Column:
    return sa.Column(c.name, c.type, primary_key=c.primary_key, autoincrement=c.autoincrement,
                     nullable=c.nullable, index=c.index, default=c.default.arg if c.default is not None else None)


def _m002_feedback_index(conn: Connection) -> None:
    conn.execute(sa.text("CREATE INDEX ix_turns_feedback ON turns (feedback)"))


def _m003_reviews(conn: Connection) -> None:
    frozen = sa.MetaData()
    sa.Table("turns", frozen, sa.Column("id", sa.Integer, primary_key=True))  # for the foreign key
    reviews.to_metadata(frozen).create(conn)


def _m004_review_sessions(conn: Connection) -> None:
    frozen = sa.MetaData()
    sa.Table("review_sessions", frozen,
             sa.Column("id_hash", sa.String(64), primary_key=True),
             sa.Column("reviewer", sa.String(80), nullable=False),
             sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
             sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False, index=True)).create(conn)


def _m005_turn_trace(conn: Connection) -> None:
    conn.execute(sa.text("ALTER TABLE turns ADD COLUMN trace TEXT NOT NULL DEFAULT '[]'"))


# Append only; never edit a released migration.
MIGRATIONS: list[tuple[int, str, Callable[[Connection], None]]] = [
    (1, "turns and user preferences", _m001_initial),
    (2, "index on feedback", _m002_feedback_index),
    (3, "reviews of turns", _m003_reviews),
    (4, "review app sessions", _m004_review_sessions),
    (5, "the stages each answer ran", _m005_turn_trace),
]

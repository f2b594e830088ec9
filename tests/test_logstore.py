"""Conversation logs: migrations, turns, feedback, pseudonymisation, retention, export."""

import csv
import io
import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from partybot import logstore
from partybot.logstore import LogStore
from retrieval.answer import Answer, Citation


def _answer(question="Câu hỏi?", lang="vi", abstained=False) -> Answer:
    cites = [] if abstained else [Citation(1, "d1", "a.txt", "Quy định 37", ["37-QĐ/TW"], "Điều 2", "quote")]
    return Answer(question, "Trả lời [1].", lang, abstained, not abstained, cites,
                  [{"text": "p", "score": 0.8, "source": "a.txt", "locator": "Điều 2"}], "m", "answer.vi@2",
                  "abstain" if abstained else "llm", timings={"total_ms": 12.0}, relevance=0.8)


@pytest.fixture
def logs(tmp_path):
    store = LogStore(f"sqlite:///{tmp_path / 'logs.sqlite3'}")
    yield store
    store.close()


def test_migrations_are_numbered_applied_once_and_recorded(tmp_path):
    url = f"sqlite:///{tmp_path / 'l.sqlite3'}"
    a = LogStore(url)
    assert a.schema_version() == logstore.MIGRATIONS[-1][0]
    assert a.migrate() == []  # nothing left to do
    a.close()
    b = LogStore(url)  # reopening an existing database applies nothing and keeps the data
    assert b.schema_version() == logstore.MIGRATIONS[-1][0]
    b.close()
    with sa.create_engine(url).connect() as conn:
        assert conn.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"


def test_an_old_database_is_upgraded_in_place(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    engine = logstore.make_engine(url)
    with engine.begin() as conn:  # a database made by release 1 (migration 1 only), with a turn
        logstore.schema_migrations.create(conn)
        logstore.MIGRATIONS[0][2](conn)
        conn.execute(logstore.schema_migrations.insert().values(version=1, name="x", applied_at=logstore.now()))
    engine.dispose()
    first = LogStore(url, upgrade=False)  # release 1's code path writes a turn into release 1's schema
    assert first.schema_version() == 1
    tid = first.log_turn(user_id=1, chat_id=1, chat_type="private", answer=_answer())
    first.close()
    store = LogStore(url)
    assert store.schema_version() == logstore.MIGRATIONS[-1][0] and store.get_turn(tid)["question"] == "Câu hỏi?"
    with store.engine.connect() as conn:
        assert "ix_turns_feedback" in {i["name"] for i in sa.inspect(conn).get_indexes("turns")}
    store.close()


def test_a_turn_keeps_everything_a_reviewer_needs(logs):
    tid = logs.log_turn(user_id=77, chat_id=-100, chat_type="group", answer=_answer(),
                        first_content_ms=350.0, total_ms=4200.0)
    t = logs.get_turn(tid)
    assert t["user_ref"] == "77" and t["chat_id"] == "-100" and t["chat_type"] == "group"
    assert (t["lang"], t["question"], t["answer"]) == ("vi", "Câu hỏi?", "Trả lời [1].")
    assert t["citations"][0]["codes"] == ["37-QĐ/TW"] and t["passages"][0]["score"] == 0.8
    assert (t["model"], t["prompt_version"], t["mode"]) == ("m", "answer.vi@2", "llm")
    assert t["abstained"] is False and t["grounded"] is True
    assert (t["first_content_ms"], t["total_ms"]) == (350.0, 4200.0) and t["created_at"].tzinfo
    assert logs.set_feedback(tid, -1, "sai số liệu") and not logs.set_feedback(tid + 99, 1)
    t = logs.get_turn(tid)
    assert (t["feedback"], t["feedback_reason"]) == (-1, "sai số liệu") and t["feedback_at"]


def test_pseudonymised_users_are_stable_and_not_the_id(tmp_path):
    from partybot.settings import Settings

    s = Settings(data_dir=tmp_path, embedder="hash", log_pseudonymize=True, _env_file=None)
    a = LogStore.from_settings(s)
    ref = a.user_ref(123456789)
    assert ref != "123456789" and "123456789" not in ref and ref == a.user_ref(123456789)
    tid = a.log_turn(user_id=123456789, chat_id=5, chat_type="private", answer=_answer())
    a.set_lang(123456789, "ar")
    a.close()
    b = LogStore.from_settings(s)  # the key persists: the same user maps to the same reference
    assert b.user_ref(123456789) == ref and b.get_turn(tid)["user_ref"] == ref and b.get_lang(123456789) == "ar"
    assert "123456789" not in b.export("jsonl").decode()
    b.close()


def test_language_preference(logs):
    assert logs.get_lang(5) is None
    logs.set_lang(5, "ar")
    logs.set_lang(5, "vi")
    assert logs.get_lang(5) == "vi"
    logs.set_lang(5, None)
    assert logs.get_lang(5) is None


def test_retention_purges_only_old_turns(logs):
    old = logs.log_turn(user_id=1, chat_id=1, chat_type="private", answer=_answer())
    new = logs.log_turn(user_id=1, chat_id=1, chat_type="private", answer=_answer())
    with logs.engine.begin() as conn:
        conn.execute(logstore.turns.update().where(logstore.turns.c.id == old)
                     .values(created_at=logstore.now() - timedelta(days=400)))
    assert logs.purge_older_than(365) == 1
    assert logs.get_turn(old) is None and logs.get_turn(new) is not None


def test_stats_and_exports(logs):
    a = logs.log_turn(user_id=1, chat_id=1, chat_type="private", answer=_answer())
    logs.log_turn(user_id=2, chat_id=2, chat_type="private", answer=_answer("سؤال؟", "ar", abstained=True))
    logs.set_feedback(a, 1)
    s = logs.stats(7)
    assert s["questions"] == 2 and s["abstention_rate"] == 0.5 and sum(s["per_day"].values()) == 2
    assert s["by_lang"]["vi"] == {"questions": 1, "abstained": 0, "up": 1, "down": 0}
    assert s["by_lang"]["ar"]["abstained"] == 1
    rows = [json.loads(line) for line in logs.export("jsonl").decode().splitlines()]
    assert [r["lang"] for r in rows] == ["vi", "ar"] and rows[0]["citations"][0]["source"] == "a.txt"
    table = list(csv.DictReader(io.StringIO(logs.export("csv").decode("utf-8-sig"))))
    assert table[1]["question"] == "سؤال؟" and json.loads(table[0]["citations"])[0]["n"] == 1
    with pytest.raises(ValueError):
        logs.export("xml")


def test_review_sessions_live_until_ended_or_expired_and_expired_ones_are_cleared(logs):
    later = logstore.now() + timedelta(hours=12)
    logs.start_review_session("sid-a", reviewer="Lan", expires_at=later)
    logs.start_review_session("sid-b", reviewer="Mai", expires_at=logstore.now() - timedelta(seconds=1))
    assert logs.review_session_live("sid-a") and not logs.review_session_live("sid-b")
    assert not logs.review_session_live("sid-forged")
    with logs.engine.connect() as conn:  # only a hash of the id is kept
        hashes = [r[0] for r in conn.execute(sa.select(logstore.review_sessions.c.id_hash))]
    assert len(hashes) == 2 and "sid-a" not in hashes and all(len(h) == 64 for h in hashes)
    assert logs.end_review_session("sid-a") and not logs.review_session_live("sid-a")
    assert not logs.end_review_session("sid-a")
    logs.start_review_session("sid-c", reviewer="", expires_at=later)  # clears the expired sid-b away
    with logs.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(logstore.review_sessions)).scalar() == 1

"""The log store against a real PostgreSQL server that this test starts on loopback.

Needs PostgreSQL's server programs (Debian: `apt-get install postgresql`; `.ci/run` installs them
when missing). As root, the server runs as the `postgres` user, since PostgreSQL refuses root.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.test_logstore import _answer

pytestmark = pytest.mark.server


def _bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def _until_it_answers(url: str, deadline: float) -> None:
    import psycopg

    while True:
        try:
            with psycopg.connect(url.replace("postgresql+psycopg", "postgresql"), connect_timeout=2) as conn:
                conn.execute("SELECT 1")
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@pytest.fixture(scope="module")
def postgres_url(tmp_path_factory):
    initdb, postgres = _bin("initdb"), _bin("postgres")
    if not (initdb and postgres):
        pytest.fail("PostgreSQL server programs not found: apt-get install postgresql (see .ci/run)")
    root = tmp_path_factory.mktemp("pg")
    data = root / "data"
    as_user: list[str] = []
    if os.geteuid() == 0:
        as_user = ["runuser", "-u", "postgres", "--"]
        shutil.chown(root, "postgres")
        os.chmod(root, 0o755)
        for parent in list(root.parents)[:3]:  # pytest's temp folders are 0700
            os.chmod(parent, os.stat(parent).st_mode | 0o011)
    subprocess.run([*as_user, initdb, "-D", str(data), "-U", "partybot", "--auth=trust", "-E", "UTF8",
                    "--locale=C.UTF-8"], check=True, capture_output=True)
    port = free_port()
    proc = subprocess.Popen([*as_user, postgres, "-D", str(data), "-h", "127.0.0.1", "-p", str(port),
                             "-k", str(root)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        if proc.poll() is not None:
            pytest.fail("postgres did not start: " + proc.stderr.read().decode(errors="replace"))
        time.sleep(0.1)
    url = f"postgresql+psycopg://partybot@127.0.0.1:{port}/postgres"
    _until_it_answers(url, deadline)  # the port opens before the server accepts sessions
    yield url
    proc.terminate()
    proc.wait(20)


def test_turns_feedback_and_migrations_on_postgresql(postgres_url):
    from partybot.logstore import MIGRATIONS, LogStore

    store = LogStore(postgres_url)
    assert store.schema_version() == MIGRATIONS[-1][0]
    tid = store.log_turn(user_id=9, chat_id=-100123, chat_type="supergroup", answer=_answer("سؤال؟", "ar"),
                         first_content_ms=310.0, total_ms=5100.0)
    assert store.set_feedback(tid, -1, "خطأ")
    store.set_lang(9, "ar")
    store.close()
    again = LogStore(postgres_url)  # a restart: migrations are not re-applied, nothing is lost
    assert again.migrate() == []
    turn = again.get_turn(tid)
    assert (turn["question"], turn["feedback"], turn["feedback_reason"]) == ("سؤال؟", -1, "خطأ")
    assert turn["created_at"].tzinfo is not None and turn["citations"][0]["source"] == "a.txt"
    assert again.get_lang(9) == "ar" and again.stats(7)["by_lang"]["ar"]["down"] == 1
    assert "سؤال؟" in again.export("jsonl").decode()
    # the review app's queries: filters, a review, the dashboard
    from partybot.logstore import TurnFilter

    again.save_review(tid, verdict="wrong", note="ملاحظة", reviewer="Mai")
    rows, total = again.find_turns(TurnFilter(lang="ar", feedback="down", abstained=False, below=0.9, text="سؤال",
                                              verdict="wrong"))
    assert total == 1 and rows[0]["verdict"] == "wrong" and rows[0]["reviewed_at"].tzinfo is not None
    assert again.find_turns(TurnFilter(unreviewed=True))[1] == 0
    assert again.dashboard(7)["days"][-1]["questions"] == 1
    # the review app's sessions (migration 4): live until ended or expired
    from datetime import timedelta

    from partybot.logstore import now

    again.start_review_session("sid-1", reviewer="Mai", expires_at=now() + timedelta(hours=1))
    again.start_review_session("sid-2", reviewer="Mai", expires_at=now() - timedelta(seconds=1))
    assert again.review_session_live("sid-1") and not again.review_session_live("sid-2")
    assert again.end_review_session("sid-1") and not again.review_session_live("sid-1")
    assert again.purge_older_than(0) >= 1 and again.get_turn(tid) is None and again.get_review(tid) is None
    again.close()

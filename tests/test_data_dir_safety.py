"""One writer at a time, and crashes that heal: the data directory's writer lock, the catalog's
migration race, kill -9 at each step of a write, two ingests at once, the bot beside a CLI
ingest. Real processes, real Chroma, the hashing embedder: seconds, in the default suite."""

import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "data" / "samples"


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("PARTYBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PARTYBOT_EMBEDDER", "hash")
    monkeypatch.chdir(tmp_path)
    for name in ("one", "two"):
        shutil.copytree(SAMPLES, tmp_path / name)
    return tmp_path


def cli(*args, failpoint=None, **kw) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    env.pop("PARTYBOT_FAILPOINT", None)
    if failpoint:
        env["PARTYBOT_FAILPOINT"] = failpoint
    return subprocess.run([sys.executable, "-m", "partybot.cli", *args], capture_output=True, text=True,
                          env=env, timeout=120, **kw)


def start(*args) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "partybot.cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=dict(os.environ, PYTHONPATH=str(REPO)))


def _stderr_until(proc: subprocess.Popen, text: str, timeout: float) -> str:
    """What ``proc`` wrote to stderr up to the line holding ``text`` (or until it ended or
    ``timeout`` passed)."""
    import select

    said, deadline = "", time.monotonic() + timeout
    while text not in said and time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stderr], [], [], 1.0)
        if ready:
            line = proc.stderr.readline()
            if not line:
                break
            said += line
    return said


def agree(expect_docs: int) -> None:
    """The catalog and Chroma agree, the catalog lists the documents, and retrieval works."""
    check = cli("docs", "check")
    assert check.returncode == 0, check.stdout + check.stderr
    listed = cli("docs", "list").stdout.splitlines()
    assert len(listed) == expect_docs, listed
    ask = cli("ask", "Chỉ thị 24-CT/TU của Thành ủy Hà Nội", "--retrieval-only", "--json")
    assert ask.returncode == 0 and '"passages"' in ask.stdout, ask.stderr


def test_a_crash_at_any_step_of_a_write_heals_on_the_next_write(env):
    assert cli("ingest", "one").returncode == 0
    for point in ("put:after_vectors", "put:after_catalog"):
        (env / "one" / "000_4ddb1c029ae9f81a.txt").open("a").write(f"\n\nĐoạn mới {point}.\n")
        crashed = cli("ingest", "one", failpoint=point)
        assert crashed.returncode == -signal.SIGKILL
        check = cli("docs", "check")  # orphans: the new version's vectors, or the replaced one's
        assert check.returncode == 1 and not re.search(r"orphan vectors .*: 0$", check.stdout, re.M), check.stdout
        healed = cli("ingest", "two")  # any write repairs first
        assert healed.returncode == 0 and "repaired the index" in healed.stderr, healed.stderr
        agree(10)
    # A crash while removing: the catalog row is gone, the text still sits in Chroma.
    crashed = cli("docs", "remove", "two/004_941d1d55c515185c.txt", failpoint="remove:after_catalog")
    assert crashed.returncode == -signal.SIGKILL
    assert cli("docs", "check").returncode == 1
    repaired = cli("docs", "check", "--repair")
    assert repaired.returncode == 0 and "— removed" in repaired.stdout, repaired.stdout
    agree(9)


def test_a_crash_mid_ingest_at_any_moment_leaves_an_index_the_next_write_repairs(env):
    """kill -9 at moments that fall inside Chroma's own writes too, not only between steps."""
    for delay in (0.3, 0.8, 1.3):
        proc = start("ingest", "one", "two")
        time.sleep(delay)
        proc.kill()
        proc.communicate()
        assert cli("ingest", "one", "two").returncode == 0
        agree(10)


def test_two_ingests_at_once_take_turns(env):
    """Both on a new data directory (the catalog and Chroma are created by whichever comes first),
    then both again on the existing one; each time both succeed and the index is whole."""
    for _ in range(2):
        first, second = start("ingest", "one"), start("ingest", "two")
        outs = [p.communicate(timeout=120) for p in (first, second)]
        assert first.returncode == 0 and second.returncode == 0, outs
        agree(10)
        (env / "one" / "000_4ddb1c029ae9f81a.txt").open("a").write("\n\nĐoạn mới.\n")
        (env / "two" / "000_4ddb1c029ae9f81a.txt").open("a").write("\n\nĐoạn khác.\n")


def test_a_second_writer_fails_fast_with_no_wait_or_waits_saying_who_writes(env):
    from vectorstore.lock import WriterLock

    lock = WriterLock(env / "data")
    with lock.hold("an admin's test ingest"):
        busy = cli("ingest", "one", "--no-wait")
        assert busy.returncode == 1
        assert "another writer is using this data directory: an admin's test ingest (pid" in busy.stderr
        assert cli("docs", "remove", "x", "--no-wait").returncode == 1
        waiting = start("ingest", "one")
        said = _stderr_until(waiting, "waiting:", timeout=120)  # a condition, not a fixed sleep
        assert "waiting: an admin's test ingest (pid" in said, said
        assert waiting.poll() is None  # still waiting for the lock
    out, err = waiting.communicate(timeout=120)
    assert waiting.returncode == 0, said + err
    assert len(cli("docs", "list").stdout.splitlines()) == 5


def test_readers_never_block_on_a_writer(env):
    from vectorstore.lock import WriterLock

    assert cli("ingest", "one").returncode == 0
    with WriterLock(env / "data").hold("a long ingest"):
        t = time.monotonic()
        assert cli("ask", "Thành ủy Hà Nội", "--retrieval-only").returncode == 0
        assert cli("docs", "list").returncode == 0
        assert time.monotonic() - t < 60


def test_the_bot_and_a_cli_ingest_at_once(env):
    """The bot's process keeps Chroma open: it must not write over what a CLI ingest wrote, and
    its answers must find the CLI's documents by meaning, not only by words."""
    from partybot.bot.serving import Deps, Gate, RateLimiter
    from partybot.compose import build
    from partybot.settings import Settings

    settings = Settings(_env_file=None)
    svc = build(settings)
    deps = Deps(settings, svc, None, Gate(1, 1), RateLimiter(6))
    try:
        cli_ingest = start("ingest", "two")
        upload = (SAMPLES / "004_941d1d55c515185c.txt").read_bytes()
        outcome = deps.ingest_upload(upload + "\n\nتحديث.".encode(), "quang-ninh.txt", "text/plain")
        out, err = cli_ingest.communicate(timeout=120)
        assert cli_ingest.returncode == 0 and outcome.ok, (err, outcome.error)
        agree(6)
        # In the bot, a document the CLI added is found by its vector too.
        result = svc.search.search("ما هو القرار الذي أصدرته كوانغ نينه بشأن التحول الرقمي؟", k=10)
        assert any(p.source.startswith("two/") and p.dense > 0 for p in result.passages)
        assert deps.remove_document(svc.catalog.find("quang-ninh.txt")[0].doc_id)
        agree(5)
    finally:
        svc.close()


def test_two_processes_opening_a_new_catalog_at_once_do_not_collide(tmp_path):
    """The second one found version 0, then 'table documents already exists' (a raw traceback)."""
    from vectorstore.catalog import MIGRATIONS, Catalog

    path = tmp_path / "catalog.sqlite3"
    first = sqlite3.connect(path, isolation_level=None)
    first.execute("PRAGMA journal_mode=WAL")
    first.execute("BEGIN IMMEDIATE")  # the first process is migrating
    opened: list = []
    second = threading.Thread(target=lambda: opened.append(Catalog(path)))
    second.start()
    time.sleep(0.5)  # the second has read version 0 and waits for the write lock
    for number, script in enumerate(MIGRATIONS, start=1):
        for statement in script.split(";"):
            if statement.strip():
                first.execute(statement)
        first.execute(f"PRAGMA user_version={number}")
    first.execute("COMMIT")
    second.join(timeout=60)
    assert opened and opened[0].documents() == []
    opened[0].close()


def test_chunks_without_vectors_are_restored_from_the_cache(services, settings):
    """A catalog chunk whose vector is gone is invisible to the dense search: `docs check` says
    so, and the next write embeds it again — from the embedding cache, not the model."""
    from partybot.cli_docs import ingest_items

    ingest_items([str(SAMPLES)], settings, services, quiet=True)
    lost = services.catalog.chunk_ids(services.catalog.documents()[0].doc_id)[:3]
    services.store.delete(lost)
    health = services.index.check()
    assert health.missing == sorted(lost) and not health.orphans
    computed = services.embedder.computed
    again = ingest_items([str(SAMPLES)], settings, services, quiet=True)  # all unchanged
    assert {o.result.status for o in again} == {"unchanged"}
    assert services.index.check().consistent
    assert services.embedder.computed == computed  # from the cache
    assert set(services.store.vectors(lost)) == set(lost)


def test_a_data_dir_no_one_may_write_to_is_read_and_refuses_writes_clearly():
    """A directory where no lock file can be made (here /proc/self, read-only even for root):
    a reader goes on (nobody can write there, so reloading is safe), a writer is told why not."""
    from core.errors import PartybotError
    from vectorstore.lock import WriterLock

    lock = WriterLock(Path("/proc/self"))
    with lock.try_shared() as free:
        assert free
    with pytest.raises(PartybotError, match=r"cannot write to the data directory /proc/self: "):
        with lock.hold("partybot ingest"):
            pass


def test_the_lock_is_reentrant_per_data_directory_and_exclusive_across_threads(tmp_path):
    from vectorstore.lock import WriterBusy, WriterLock

    a, b = WriterLock(tmp_path), WriterLock(tmp_path)  # two objects, one data directory
    with a.hold("outer"):
        with b.hold("inner"):  # the same thread: enters, does not wait for itself
            assert a.held and b.held
        assert a.held
        refused = []

        def other_thread() -> None:
            try:
                with b.hold("other", wait=False):
                    pass
            except WriterBusy as exc:
                refused.append(str(exc))

        t = threading.Thread(target=other_thread)
        t.start()
        t.join(10)
        assert refused and "outer (pid" in refused[0]  # another thread: refused, told who holds it
    assert not a.held and not b.held

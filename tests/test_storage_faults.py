"""A full disk, a read-only data directory, damaged files: one line saying what happened and what
to do, never a traceback; a writer stops at once and releases the lock; a catalog that cannot be
read is never taken for an empty one, and nothing is deleted until it has been read.

Real processes, real Chroma, the hashing embedder. A small tmpfs or a read-only bind mount where
this machine lets the test mount one (root); a simulated ENOSPC at the storage seam everywhere."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "data" / "samples"


def cli(data: Path, *args, failpoint: str | None = None) -> subprocess.CompletedProcess:
    """A command in a process of its own (for Chroma's files: an embedded Chroma keeps what it
    opened, damaged or not, for the life of the process)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARTYBOT_")}
    env.update(PYTHONPATH=str(REPO), PARTYBOT_DATA_DIR=str(data), PARTYBOT_EMBEDDER="hash",
               PARTYBOT_LLM_BACKEND="extractive")
    if failpoint:
        env["PARTYBOT_FAILPOINT"] = failpoint
    return subprocess.run([sys.executable, "-m", "partybot.cli", *args], capture_output=True, text=True,
                          env=env, timeout=180)


@dataclass
class Said:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def run(capsys, monkeypatch):
    """A command in this process (fast): ``run(data, *args, failpoint=None)``."""
    from partybot.cli import main

    def _run(data: Path, *args, failpoint: str | None = None) -> Said:
        monkeypatch.setenv("PARTYBOT_DATA_DIR", str(data))
        monkeypatch.setenv("PARTYBOT_EMBEDDER", "hash")
        monkeypatch.setenv("PARTYBOT_LLM_BACKEND", "extractive")
        if failpoint:
            monkeypatch.setenv("PARTYBOT_FAILPOINT", failpoint)
        else:
            monkeypatch.delenv("PARTYBOT_FAILPOINT", raising=False)
        capsys.readouterr()
        code = main(list(args))
        out = capsys.readouterr()
        return Said(code, out.out, out.err)

    return _run


def one_line(result, *words: str) -> str:
    """The command failed with a one-line error holding ``words``, and no traceback."""
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    for word in words:
        assert word in errors[0], errors[0]
    return errors[0]


def _mount(*args: str) -> bool:
    if os.geteuid() != 0 or not shutil.which("mount"):
        return False
    return subprocess.run(["mount", *args], capture_output=True).returncode == 0


@pytest.fixture
def mounts():
    done: list[Path] = []
    yield done
    for path in reversed(done):
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    """The five samples, indexed once for the module (each test gets a copy)."""
    base = tmp_path_factory.mktemp("pristine")
    assert cli(base / "data", "ingest", str(SAMPLES)).returncode == 0
    return base / "data"


@pytest.fixture
def indexed(pristine, tmp_path) -> Path:
    data = tmp_path / "data"
    shutil.copytree(pristine, data)
    return data


ANSWERS = """
import sys
from partybot.compose import build
from partybot.settings import Settings
with build(Settings()) as app:
    health = app.index.check()
    hits = app.search.search("Chỉ thị 24-CT/TU của Thành ủy Hà Nội", k=1).passages
    ok = health.consistent and len(app.catalog.documents()) == 5 and "24-CT/TU" in hits[0].text
    print(health, len(app.catalog.documents()), hits[0].source if hits else None)
sys.exit(0 if ok else 1)
"""


def _answers_every_sample(data: Path) -> None:
    """The catalog and the vectors agree, all five samples are listed, and a search finds one."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARTYBOT_")}
    env.update(PYTHONPATH=str(REPO), PARTYBOT_DATA_DIR=str(data), PARTYBOT_EMBEDDER="hash")
    result = subprocess.run([sys.executable, "-c", ANSWERS], capture_output=True, text=True, env=env, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr


# -- a full disk --------------------------------------------------------------------------------
def test_a_full_disk_stops_the_batch_at_once_and_leaves_what_docs_check_expects(tmp_path, run):
    data = tmp_path / "data"
    full = run(data, "ingest", str(SAMPLES), failpoint="put:after_vectors=ENOSPC")
    one_line(full, "disk", "full", "free some space")
    assert "stopped at" in full.stderr and "0 of 5" in full.stderr, full.stderr
    assert full.stderr.count("is full") == 1  # not once per document
    # the lock is free again, and the orphan vectors are what `docs check` reports and repairs
    check = run(data, "docs", "check", "--no-wait")
    assert check.returncode == 1 and "orphan vectors" in check.stdout, check.stderr
    assert run(data, "ingest", str(SAMPLES)).returncode == 0
    _answers_every_sample(data)


def test_a_real_full_disk_and_then_freed_space(tmp_path, mounts):
    small = tmp_path / "small"
    small.mkdir()
    if not _mount("-t", "tmpfs", "-o", "size=3m", "tmpfs", str(small)):
        pytest.skip("no tmpfs can be mounted here (needs root); the simulated ENOSPC test covers it")
    mounts.append(small)
    shutil.copytree(SAMPLES, tmp_path / "docs")
    data = small / "data"
    full = cli(data, "ingest", str(tmp_path / "docs"))
    one_line(full, "disk", "full")
    assert "stopped at" in full.stderr
    result = cli(data, "ask", "Chỉ thị 24", "--retrieval-only")  # works, or says in one line the disk is full
    assert "Traceback" not in result.stderr, result.stderr
    assert _mount("-o", "remount,size=64m", str(small))
    assert cli(data, "ingest", str(tmp_path / "docs")).returncode == 0  # a write repairs first
    _answers_every_sample(data)


# -- a read-only data directory -----------------------------------------------------------------
def test_a_read_only_data_directory_gets_one_line_on_every_command(indexed, tmp_path, mounts, run):
    view = tmp_path / "ro"
    view.mkdir()
    if _mount("--bind", "-o", "ro", str(indexed), str(view)):
        mounts.append(view)
        if os.access(view, os.W_OK):  # an old mount(8) binds first and ignores "ro"
            assert _mount("-o", "remount,bind,ro", str(view))
    else:  # not root: the permissions say it instead
        shutil.copytree(indexed, view, dirs_exist_ok=True)
        for root, dirs, files in os.walk(view):
            for name in dirs + files:
                os.chmod(Path(root) / name, 0o555 if name in dirs else 0o444)
        os.chmod(view, 0o555)
    for command in (("docs", "list"), ("docs", "check"), ("ask", "Chỉ thị 24", "--retrieval-only"),
                    ("ingest", str(SAMPLES))):
        one_line(run(view, *command), "read-only", "writable")


# -- damaged files ------------------------------------------------------------------------------
def _damage(path: Path, how: str) -> None:
    if how == "zero":
        path.write_bytes(b"")
    elif how == "truncated":
        path.write_bytes(path.read_bytes()[:40000])
    elif how == "garbage-head":
        with path.open("r+b") as f:
            f.write(b"GARBAGE" * 8)
    elif how == "garbage-inside":
        with path.open("r+b") as f:
            f.seek(8192)
            f.write(os.urandom(8192))
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


@pytest.mark.parametrize("how", ["zero", "truncated", "garbage-head"])
def test_a_damaged_catalog_is_reported_and_never_taken_for_an_empty_one(indexed, how, run):
    vectors = indexed / "chroma" / "chroma.sqlite3"
    kept = indexed.parent / "catalog.copy"
    shutil.copyfile(indexed / "catalog.sqlite3", kept)
    _damage(indexed / "catalog.sqlite3", how)
    for command in (("docs", "list"), ("docs", "check", "--repair"), ("ingest", str(SAMPLES)),
                    ("ask", "Chỉ thị 24", "--retrieval-only")):
        one_line(run(indexed, *command), "catalog", "damaged", "partybot restore")
    count = sqlite3.connect(vectors).execute("SELECT count(*) FROM embeddings").fetchone()[0]
    assert count == 63  # not one vector deleted
    shutil.copyfile(kept, indexed / "catalog.sqlite3")
    if how == "zero":  # the same healing for each
        _answers_every_sample(indexed)


def test_a_foreign_or_newer_catalog_is_reported_and_left_as_it_is(indexed, run):
    catalog = indexed / "catalog.sqlite3"
    db = sqlite3.connect(catalog)
    db.execute("PRAGMA user_version=99")
    db.close()
    one_line(run(indexed, "docs", "list"), "newer partybot", "upgrade")
    catalog.unlink()
    db = sqlite3.connect(catalog)
    db.execute("CREATE TABLE notes (x)")
    db.close()
    one_line(run(indexed, "ingest", str(SAMPLES)), "not a partybot catalog")
    assert sqlite3.connect(catalog).execute("SELECT name FROM sqlite_master").fetchall() == [("notes",)]


def test_damaged_vectors_are_reported_with_what_to_do(indexed):
    _damage(indexed / "chroma" / "chroma.sqlite3", "garbage-inside")
    for command in (("docs", "check"), ("ask", "Chỉ thị 24", "--retrieval-only")):
        one_line(cli(indexed, *command), "vector index", "damaged", "--repair")
    shutil.move(indexed / "chroma", indexed.parent / "chroma.damaged")  # as the message says
    assert cli(indexed, "docs", "check", "--repair").returncode == 0
    _answers_every_sample(indexed)


def test_a_damaged_embedding_cache_is_set_aside_and_started_anew(indexed, run):
    _damage(indexed / "embeddings.sqlite3", "garbage-head")
    result = run(indexed, "ask", "Chỉ thị 24-CT/TU", "--retrieval-only")
    assert result.returncode == 0 and "24-CT/TU" in result.stdout, result.stderr
    assert "embedding cache" in result.stderr and "Traceback" not in result.stderr
    assert list(indexed.glob("embeddings.sqlite3.damaged-*"))


def test_a_repair_refuses_to_delete_most_of_the_index_without_force(indexed, run):
    (indexed / "catalog.sqlite3").rename(indexed.parent / "catalog.lost")  # lost: a new, empty one is made
    one_line(run(indexed, "ingest", str(SAMPLES / "000_4ddb1c029ae9f81a.txt")), "Nothing was deleted", "--force")
    one_line(run(indexed, "docs", "check", "--repair"), "of 5 documents")
    count = sqlite3.connect(indexed / "chroma" / "chroma.sqlite3").execute("SELECT count(*) FROM embeddings")
    assert count.fetchone()[0] == 63
    forced = run(indexed, "docs", "check", "--repair", "--force")
    assert forced.returncode == 0 and "63 — removed" in forced.stdout, forced.stdout


def test_one_crashed_write_is_still_repaired_without_force(tmp_path, run):
    """The guard does not stand in the way of the ordinary case: the orphans of one document."""
    data = tmp_path / "data"
    full = run(data, "ingest", str(SAMPLES / "000_4ddb1c029ae9f81a.txt"), failpoint="put:after_vectors=ENOSPC")
    one_line(full, "full")  # 13 orphan vectors of 13
    repaired = run(data, "docs", "check", "--repair")
    assert repaired.returncode == 0 and "13 — removed" in repaired.stdout, repaired.stdout


def test_an_unforeseen_error_is_one_line_naming_the_log_and_a_wrong_setting_too(indexed):
    bad = subprocess.run([sys.executable, "-m", "partybot.cli", "docs", "list"], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(REPO), "PARTYBOT_DATA_DIR": str(indexed),
                              "PARTYBOT_BOT_QUEUE_MAX": "many"}, timeout=60)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert bad.stderr.startswith("error: a setting is wrong (bot_queue_max:"), bad.stderr
    # stdout closed before the command prints (`partybot ask … | head -0`): no BrokenPipeError
    proc = subprocess.Popen([sys.executable, "-m", "partybot.cli", "ask", "Hà Nội", "--retrieval-only"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(REPO), "PARTYBOT_DATA_DIR": str(indexed),
                                 "PARTYBOT_EMBEDDER": "hash"})
    proc.stdout.close()
    said = proc.stderr.read()
    proc.wait(60)
    assert "Traceback" not in said and "BrokenPipe" not in said, said

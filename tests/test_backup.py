"""`partybot backup` and `partybot restore`: taken while a reader (the bot) has the index open,
checked before anything is restored, and after a restore over damaged files every document
answers again, in the running reader too."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "data" / "samples"
QUERIES = {  # a sample document, and words only it holds
    "000_4ddb1c029ae9f81a.txt": "التوجيه رقم 24-CT/TU بشأن تعزيز الانضباط",
    "003_eeaed4cf06070700.txt": "قرى الحدود في مقاطعة كوانج بينه أعضاء من الحزب",
}


def cli(data: Path, *args) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARTYBOT_")}
    env.update(PYTHONPATH=str(REPO), PARTYBOT_DATA_DIR=str(data), PARTYBOT_EMBEDDER="hash")
    return subprocess.run([sys.executable, "-m", "partybot.cli", *args], capture_output=True, text=True,
                          env=env, timeout=180)


def top_source(data: Path, query: str) -> str:
    result = cli(data, "ask", query, "--retrieval-only", "--json", "-k", "1")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["passages"][0]["source"].rsplit("/", 1)[-1]


@pytest.fixture
def reader(tmp_path, monkeypatch):
    """A data directory with the samples, and a reader holding it open as the bot would."""
    from partybot.compose import build
    from partybot.settings import Settings

    data = tmp_path / "data"
    shutil.copytree(SAMPLES, tmp_path / "docs")
    assert cli(data, "ingest", str(tmp_path / "docs")).returncode == 0
    app = build(Settings(data_dir=data, embedder="hash", _env_file=None))
    assert app.search.search(QUERIES["000_4ddb1c029ae9f81a.txt"], k=1).passages
    yield data, app
    app.close()


def test_backup_damage_restore_and_every_document_answers_again(reader, tmp_path):
    data, app = reader
    backup = cli(data, "backup", str(tmp_path / "bk"))
    assert backup.returncode == 0 and "5 document(s)" in backup.stdout, backup.stderr
    manifest = json.loads((tmp_path / "bk" / "manifest.json").read_text())
    assert manifest["documents"] == 5 and manifest["vectors"] == manifest["chunks"] == 63
    # damage both the catalog and the vectors
    with (data / "catalog.sqlite3").open("r+b") as f:
        f.write(b"GARBAGE" * 16)
    with (data / "chroma" / "chroma.sqlite3").open("r+b") as f:
        f.seek(8192)
        f.write(os.urandom(8192))
    assert "damaged" in cli(data, "docs", "list").stderr
    restored = cli(data, "restore", str(tmp_path / "bk"))
    assert restored.returncode == 0 and "restored 5 document(s)" in restored.stdout, restored.stderr
    check = cli(data, "docs", "check")
    assert check.returncode == 0 and "ok:" in check.stdout, check.stdout + check.stderr
    for name, query in QUERIES.items():
        assert top_source(data, query) == name


def test_a_restore_into_the_live_catalog_is_seen_by_a_running_reader(reader, tmp_path):
    data, app = reader
    assert cli(data, "backup", str(tmp_path / "bk")).returncode == 0
    assert cli(data, "docs", "remove", "003_eeaed4cf06070700.txt").returncode == 0
    assert cli(data, "restore", str(tmp_path / "bk")).returncode == 0
    hits = app.search.search(QUERIES["003_eeaed4cf06070700.txt"], k=1).passages  # the reader, never restarted
    assert hits and hits[0].source.endswith("003_eeaed4cf06070700.txt")
    assert len(app.catalog.documents()) == 5


def test_a_damaged_or_foreign_backup_changes_nothing(reader, tmp_path):
    data, _ = reader
    assert cli(data, "backup", str(tmp_path / "bk")).returncode == 0
    refused = cli(data, "backup", str(tmp_path / "bk"))
    assert refused.returncode == 1 and "not empty" in refused.stderr
    assert cli(data, "docs", "remove", "003_eeaed4cf06070700.txt").returncode == 0
    with (tmp_path / "bk" / "vectors.sqlite3").open("r+b") as f:
        f.seek(4096)
        f.write(b"\0" * 64)
    damaged = cli(data, "restore", str(tmp_path / "bk"))
    assert damaged.returncode == 1 and "damaged" in damaged.stderr and "Traceback" not in damaged.stderr
    foreign = cli(data, "restore", str(tmp_path))
    assert foreign.returncode == 1 and "not a partybot backup" in foreign.stderr
    assert len(cli(data, "docs", "list").stdout.splitlines()) == 4  # as it was

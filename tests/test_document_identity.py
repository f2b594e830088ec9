"""A document is its source as given: two files of one name are two documents, a copy is
reported, `docs remove` matches literally, and names are printed with control characters escaped."""

import json

import pytest

from partybot.cli import main

TEXT_A = "Quy định 37-QĐ/TW về những điều đảng viên không được làm.\n\nĐiều 1. Nói, viết trái Cương lĩnh."
TEXT_B = "Nghị quyết 18-NQ/TW về tinh gọn bộ máy.\n\nĐiều 1. Sắp xếp tổ chức bộ máy."


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("PARTYBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PARTYBOT_EMBEDDER", "hash")
    monkeypatch.chdir(tmp_path)  # the ingest root: sources are paths relative to it
    for folder, text in (("a", TEXT_A), ("b", TEXT_B)):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "same.txt").write_text(text, encoding="utf-8")
    return tmp_path


def _statuses(out: str) -> list[str]:
    """The status word of each document line of `partybot ingest` (not its closing summary)."""
    return [line.split()[0] for line in out.splitlines() if line and not line[0].isdigit()]


def _docs(capsys) -> list[dict]:
    capsys.readouterr()
    assert main(["docs", "list", "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_two_files_of_one_name_in_two_folders_are_two_documents(env, capsys):
    assert main(["ingest", "a/same.txt", "b/same.txt"]) == 0
    assert _statuses(capsys.readouterr().out) == ["added", "added"]
    docs = _docs(capsys)
    assert sorted(d["source"] for d in docs) == ["a/same.txt", "b/same.txt"]
    assert len({d["doc_id"] for d in docs}) == 2
    # A folder holding both: the same two documents, unchanged on every run (not "updated" twice).
    for _ in range(2):
        assert main(["ingest", "."]) == 0
        assert _statuses(capsys.readouterr().out) == ["unchanged", "unchanged"]
    # The same path written another way is the same document.
    assert main(["ingest", "./a/../a/same.txt", str(env / "a" / "same.txt")]) == 0
    assert _statuses(capsys.readouterr().out) == ["unchanged"]
    assert len(_docs(capsys)) == 2


def test_the_same_text_under_two_names_is_reported(env, capsys):
    (env / "copy.txt").write_text(TEXT_A, encoding="utf-8")
    assert main(["ingest", "a/same.txt", "copy.txt"]) == 0
    _, err = capsys.readouterr()
    assert "same text as a/same.txt" in err
    assert main(["docs", "check"]) == 0
    assert "same text under 2 names: a/same.txt, copy.txt" in capsys.readouterr().out


def test_a_data_dir_from_before_paths_keeps_its_documents(env, capsys):
    """Older versions named a document by its base name: ingesting the file again renames the
    document instead of adding a second copy of it."""
    from partybot.compose import build
    from partybot.settings import Settings
    from ingest.pipeline import prepare

    svc = build(Settings(_env_file=None))
    svc.index.put(prepare(TEXT_A, "same.txt"))  # as the old pipeline stored it
    svc.close()
    assert main(["ingest", "a/same.txt"]) == 0
    assert _statuses(capsys.readouterr().out) == ["updated"]
    assert [d["source"] for d in _docs(capsys)] == ["a/same.txt"]


def test_docs_remove_matches_literally(env, capsys):
    assert main(["ingest", "a", "b"]) == 0
    before = _docs(capsys)
    for pattern in ("_", "%", "a/%", "_/same.txt", "same.txt", "ab"):
        assert main(["docs", "remove", pattern]) == 1, pattern  # no match, or ambiguous: nothing removed
    assert "2 documents match 'same.txt'" in capsys.readouterr().err
    assert len(_docs(capsys)) == 2
    assert main(["docs", "remove", "b/same.txt"]) == 0
    assert main(["docs", "remove", before[0]["doc_id"][:6]]) == 0
    assert _docs(capsys) == []


def test_control_characters_in_names_are_shown_escaped(env, capsys):
    weird = env / "bad\nname\x1b[31m\u202etxt.exe.txt"
    weird.write_text(TEXT_B, encoding="utf-8")
    assert main(["ingest", str(weird.relative_to(env))]) == 0
    out, err = capsys.readouterr()
    assert "bad\\nname\\x1b[31m\\u202etxt.exe.txt" in out
    assert main(["docs", "list"]) == 0
    out = capsys.readouterr().out
    assert "bad\\nname\\x1b[31m" in out
    for raw in ("\x1b", "\u202e", "bad\nname"):
        assert raw not in out + err


def test_a_document_without_a_title_line_is_titled_by_its_file_name_not_its_folders(env, capsys):
    """The title goes into every chunk's embedding: the folders a file sits in ('/srv/…/seeds/')
    would move its vectors and say nothing about it."""
    deep = env / "srv" / "seeds"
    deep.mkdir(parents=True)
    (deep / "004.txt").write_text("Một đoạn mở đầu rất dài " * 20 + "\n\nĐoạn hai.", encoding="utf-8")
    assert main(["ingest", "srv"]) == 0
    [doc] = _docs(capsys)
    assert doc["source"] == "srv/seeds/004.txt" and doc["title"] == "004.txt"

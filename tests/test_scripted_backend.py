"""The scripted chat backend (``PARTYBOT_LLM_BACKEND=scripted``): replies queued in a file, played
through the real answer path, from code and from the command line."""

import json

import pytest

from core.errors import ConfigError, ModelError
from partybot.cli import main
from answering.llm import resolve_chat
from partybot.backends import BACKENDS, build_backend
from test_answer import GOOD_AR, HANOI, Q_AR


def _script(path, lines):
    path.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), encoding="utf-8")
    return path


def test_it_is_registered_like_the_other_backends():
    assert set(BACKENDS) == {"local", "openai", "extractive", "scripted"}


def test_replies_come_in_order_then_fail_clearly(settings, tmp_path):
    settings.llm_backend = "scripted"
    settings.llm_script = _script(tmp_path / "replies.jsonl", ["one", {"reply": "two"}, {"error": "server down"}])
    backend = build_backend(settings)
    assert backend.name == "scripted:replies.jsonl"
    chat = resolve_chat(backend)
    assert [chat.invoke("q").content for _ in range(2)] == ["one", "two"]
    with pytest.raises(ModelError, match="server down"):
        chat.invoke("q")
    with pytest.raises(ModelError, match=r"no replies left in .*replies\.jsonl after 3 calls.*SCRIPT_CYCLE"):
        chat.invoke("q")
    assert len(chat.calls) == 4


def test_a_text_script_has_one_reply_per_line_and_may_cycle(settings, tmp_path):
    (tmp_path / "replies.txt").write_text("first\n\nsecond\n", encoding="utf-8")
    settings.llm_backend, settings.llm_script, settings.llm_script_cycle = "scripted", tmp_path / "replies.txt", True
    chat = resolve_chat(build_backend(settings))
    assert [chat.invoke("q").content for _ in range(5)] == ["first", "second", "first", "second", "first"]
    assert "".join(c.content for c in chat.stream("q")) == "second"  # streamed in pieces


@pytest.mark.parametrize("content, message", [
    (None, "needs PARTYBOT_LLM_SCRIPT"),
    ("", "holds no replies"),
    ('"fine"\n{not json\n', "line 2: not JSON"),
    ('"fine"\n42\n', 'line 2: expected a string'),
])
def test_a_missing_or_broken_script_is_one_clear_error(settings, tmp_path, content, message):
    settings.llm_backend = "scripted"
    if content is not None:
        settings.llm_script = tmp_path / "s.jsonl"
        settings.llm_script.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        build_backend(settings)


def test_the_cli_answers_with_the_scripted_model(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PARTYBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PARTYBOT_EMBEDDER", "hash")
    assert main(["ingest", "data/samples"]) == 0
    capsys.readouterr()
    monkeypatch.setenv("PARTYBOT_LLM_BACKEND", "scripted")
    monkeypatch.setenv("PARTYBOT_LLM_SCRIPT", str(_script(tmp_path / "demo.jsonl", [GOOD_AR])))
    assert main(["ask", Q_AR, "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert (answer["mode"], answer["model"], answer["text"]) == ("llm", "scripted:demo.jsonl", GOOD_AR)
    assert answer["cited_docs"] == [HANOI]

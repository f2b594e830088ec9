"""The `partybot` command line, in-process, with the fake embedder chosen by setting."""

import io
import json
import re

import pytest

from conftest import REPO, SAMPLES
from fake_openai import FakeOpenAI
from partybot.cli import main
from test_answer import GOOD_AR, Q_AR

REQUIRED_PRED_KEYS = {"id", "answer", "abstained", "language", "cited_docs", "citations", "retrieved"}


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("PARTYBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PARTYBOT_EMBEDDER", "hash")
    return tmp_path


def test_ingest_reports_each_bad_file_on_one_line_and_goes_on(env, capsys):
    batch = env / "batch"
    batch.mkdir()
    (batch / "good.txt").write_text("Quy định 37-QĐ/TW về những điều đảng viên không được làm.\n\n"
                                    "Điều 1. Nói, viết, làm trái Cương lĩnh chính trị.", encoding="utf-8")
    (batch / "empty.md").write_text("   \n")
    (batch / "junk.pdf").write_bytes(b"\x00\x01\x02 not a pdf at all \xff\xfe" * 50)
    (env / "notes.xyz").write_text("unsupported")
    code = main(["ingest", str(batch), str(env / "notes.xyz"), str(env / "missing.txt")])
    out, err = capsys.readouterr()
    assert code == 1
    failed = [line for line in err.splitlines() if line.startswith("FAILED")]
    assert len(failed) == 4
    for name in ("empty.md", "junk.pdf", "notes.xyz", "missing.txt"):
        assert sum(name in line for line in failed) == 1, (name, failed)
    assert "1 document(s) indexed" in out and "4 failed" in out

    main(["docs", "list", "--json"])
    docs = json.loads(capsys.readouterr().out)
    assert [d["source"] for d in docs] == [(batch / "good.txt").as_posix()]  # outside the working directory: absolute
    assert "37-QĐ/TW" in json.dumps(docs, ensure_ascii=False) or any("37" in k for k in docs[0]["codes"])


def test_docs_list_remove_and_ask_json(env, capsys):
    assert main(["ingest", str(SAMPLES)]) == 0
    capsys.readouterr()
    assert main(["ingest", str(SAMPLES)]) == 0
    assert "5 unchanged, 0 failed" in capsys.readouterr().out

    assert main(["docs", "list"]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert len(listing) == 5
    doc_id = listing[0].split()[0]

    assert main(["ask", "Chỉ thị 24-CT/TU của Thành ủy Hà Nội nói về gì?", "--retrieval-only", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["lang"] == "vi" and result["passages"]
    first = result["passages"][0]
    assert {"source", "locator", "codes", "score", "text"} <= set(first)
    assert "24-CT/TU" in " ".join(result["codes"])

    assert main(["docs", "remove", doc_id]) == 0
    assert "removed" in capsys.readouterr().out
    assert main(["docs", "remove", doc_id]) == 1
    assert "no document matches" in capsys.readouterr().err
    main(["docs", "list"])
    assert len(capsys.readouterr().out.splitlines()) == 4


def test_eval_writes_predictions_and_prints_metrics(env, capsys):
    main(["ingest", str(SAMPLES)])
    capsys.readouterr()
    out_file = env / "pred.jsonl"
    assert main(["eval", str(REPO / "eval" / "project.jsonl"), "--retrieval-only", "--out", str(out_file)]) == 0
    printed = capsys.readouterr().out
    for label in ("hit@1", "hit@5", "mrr@10", "vi", "ar", "en"):
        assert label in printed
    preds = [json.loads(line) for line in out_file.read_text(encoding="utf-8").splitlines()]
    assert len(preds) == 16
    for p in preds:
        assert REQUIRED_PRED_KEYS <= set(p)
        assert all({"doc", "text", "score", "locator"} <= set(r) for r in p["retrieved"])


def test_settings_errors_are_one_clear_line(env, capsys, monkeypatch):
    monkeypatch.setenv("PARTYBOT_EMBEDDER", "sentence-transformers")
    monkeypatch.setenv("PARTYBOT_MODELS_DIR", str(env / "no-models"))
    assert main(["ask", "anything", "--retrieval-only"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "partybot models fetch" in err


def test_questions_against_an_empty_index_say_what_to_do(env, capsys):
    assert main(["ask", "Chỉ thị 24 nói về gì?", "--retrieval-only"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "no documents yet" in err and "partybot ingest" in err
    assert main(["eval", str(REPO / "eval" / "project.jsonl"), "--retrieval-only"]) == 1
    assert "no documents yet" in capsys.readouterr().err


def test_review_refuses_to_start_without_a_password(env, capsys, monkeypatch):
    monkeypatch.chdir(env)  # no .env here
    monkeypatch.delenv("REVIEW_PASSWORD", raising=False)
    monkeypatch.delenv("REVIEW_TOKEN", raising=False)
    assert main(["review", "--port", "1"]) == 1
    assert "set REVIEW_PASSWORD" in capsys.readouterr().err


# The chat's five questions and the model's scripted replies to each: the second question's first
# reply states a number that is in no source (the sources say 25), so it gets the stricter retry.
CHAT = [
    (Q_AR, [GOOD_AR]),
    ("Chỉ thị 24-CT/TU của Thành ủy Hà Nội nói về gì?",
     ["Chỉ thị 24-CT/TU ngày 7/8/2023 chỉ rõ 31 biểu hiện né tránh trách nhiệm [1].",
      "Chỉ thị 24-CT/TU ngày 7/8/2023 về tăng cường kỷ luật, kỷ cương, trách nhiệm trong hệ thống chính trị "
      "thành phố, chỉ rõ 25 biểu hiện né tránh trách nhiệm [1]."]),
    ("متى صدر القرار رقم 04-NQ/TU لهانوي وما موضوعه؟",
     ["صدر القرار رقم 04-NQ/TU بتاريخ 31 مايو 2021 "
      "بشأن التركيز على بناء وتحسين جودة الكوادر على جميع المستويات [1]."]),
    ("What is Resolution 28-NQ/TW about?",
     ["Resolution 28-NQ/TW is about continuing to innovate the Party's leadership and governance methods "
      "over the political system in the new period [1]."]),
    ("NQ 39/NQ-TW của Bộ Chính trị ban hành ngày nào?",
     ["Nghị quyết 39 của Bộ Chính trị ban hành ngày 18/7/2023 [1]."]),
]


def test_chat_answers_every_question_with_the_model_on_one_event_loop(env, capsys, monkeypatch):
    """The `openai` backend's async HTTP client keeps connections bound to the event loop that
    opened them: with a loop per question, the question after a retried answer was answered
    without the model ("LLM call failed: Event loop is closed")."""
    assert main(["ingest", str(SAMPLES)]) == 0
    with FakeOpenAI([reply for _, replies in CHAT for reply in replies]) as llm:
        monkeypatch.setenv("PARTYBOT_LLM_BACKEND", "openai")
        monkeypatch.setenv("LLM_BASE_URL", llm.base_url)
        monkeypatch.setenv("LLM_MODEL", "fake")
        monkeypatch.setattr("sys.stdin", io.StringIO("".join(f"{q}\n" for q, _ in CHAT)))
        capsys.readouterr()
        assert main(["chat"]) == 0
    out, err = capsys.readouterr()
    footers = re.findall(r"^\((\S+), (?:not )?grounded; ([^,]+), ", err, re.M)  # (mode, model) per answer
    llm_modes = ["llm", "llm-retry", "llm", "llm", "llm"]
    assert footers == [(mode, "openai:fake") for mode in llm_modes], err
    assert out.count("… (checking the answer against the sources)") == 1
    assert GOOD_AR in out and "Nghị quyết 39-NQ/TW của Bộ Chính trị ban hành ngày 18/7/2023" in out
    # each question streamed once; the retry asked again, with the stricter prompt, not streamed
    asked = [q for q, replies in CHAT for _ in replies]
    assert [r["path"] for r in llm.requests] == ["/v1/chat/completions"] * len(asked)
    assert [r["stream"] for r in llm.requests] == [True, True, False, True, True, True]
    assert [q in r["messages"][-1]["content"] for q, r in zip(asked, llm.requests)] == [True] * len(asked)
    assert ["broke the rules" in r["messages"][0]["content"] for r in llm.requests] == [
        False, False, True, False, False, False]


def test_eval_with_reference_replies_runs_the_same_path_with_the_reference_answers(env, capsys):
    main(["ingest", str(SAMPLES)])
    capsys.readouterr()
    out_file = env / "pred.jsonl"
    cases = REPO / "eval" / "project.jsonl"
    assert main(["eval", str(cases), "--reference-replies", "--out", str(out_file)]) == 0
    assert "local:reference-answers" in capsys.readouterr().out
    refs = {r["id"]: r for r in map(json.loads, cases.read_text(encoding="utf-8").splitlines())}
    generated = [p for p in map(json.loads, out_file.read_text(encoding="utf-8").splitlines())
                 if p["mode"].startswith("llm")]
    assert generated and all(p["model"] == "local:reference-answers" for p in generated)
    for p in generated:  # the reply is the reference answer (with the repairs: citations, code spelling)
        if p["mode"] == "llm" and not p["abstained"]:
            first = refs[p["id"]]["reference_answer"].split()[:3]
            assert " ".join(first) in p["answer"], (p["id"], p["answer"])
    bare = env / "bare.jsonl"
    bare.write_text(json.dumps({"id": "x-1", "lang": "en", "question": "Who?", "gold_docs": ["a.txt"]}) + "\n")
    assert main(["eval", str(bare), "--reference-replies"]) == 2
    assert "no reference_answer for x-1" in capsys.readouterr().err

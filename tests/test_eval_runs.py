"""Evaluation runs keep their work: predictions appended as made, a stopped run resumed,
retrieval-only runs in parallel, progress with an estimate and the running figures."""

import io
import json
import threading
from types import SimpleNamespace

import pytest

from partybot.eval_runs import Predictions, run_answer_eval, run_retrieval_eval
from partybot.evaluation import Case
from partybot.progress import Progress


def _cases(n: int) -> list[Case]:
    return [Case(f"q{i}", "en", "fact", f"question {i}?", ["a.txt"], [f"span {i}"], [f"fact{i}"], {})
            for i in range(n)]


class _Answer:
    def __init__(self, question: str, abstained: bool = False):
        n = question.split()[1].rstrip("?")
        self.d = {"text": f"fact{n} [1]", "abstained": abstained, "lang": "en", "cited_docs": ["a.txt"],
                  "citations": [{"source": "a.txt", "quote": f"fact{n}"}],
                  "passages": [{"source": "a.txt", "text": f"span {n}", "score": 1.0, "locator": "",
                                "dense": 1.0}],
                  "mode": "extractive", "model": "", "prompt_version": "", "checks": [],
                  "timings": {"total_ms": 10.0 * (int(n) + 1)}}

    def to_dict(self):
        return self.d


def _passages(question: str):
    n = question.split()[1].rstrip("?")
    return SimpleNamespace(lang="en", timings={}, passages=[
        SimpleNamespace(source="a.txt", text=f"span {n}", score=1.0, locator="", dense=1.0)])


def test_a_stopped_answer_run_resumes_where_it_stopped(tmp_path):
    cases, out, asked = _cases(6), tmp_path / "pred.jsonl", []

    def stopping(q):
        if len(asked) == 3:
            raise KeyboardInterrupt  # the run is stopped while the fourth question is answered
        asked.append(q)
        return _Answer(q)

    with pytest.raises(KeyboardInterrupt):
        run_answer_eval(cases, stopping, out=out)
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == ["q0", "q1", "q2"]
    with out.open("a") as f:
        f.write('{"id": "q3", "answer": "cut sh')  # a line the stopped run was writing

    asked.clear()
    report = run_answer_eval(cases, lambda q: asked.append(q) or _Answer(q), out=out, resume=True)
    assert asked == [f"question {i}?" for i in (3, 4, 5)]  # only what the stopped run had not done
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [p["id"] for p in lines] == [c.id for c in cases]
    assert report["resumed"] == 3 and report["answers"]["all"]["n"] == 6
    assert report["answers"]["all"]["fact_recall"] == 1.0 and report["retrieval"]["all"]["hit@1"] == 1.0


def test_without_resume_the_output_starts_anew_and_other_sets_predictions_are_dropped(tmp_path):
    out = tmp_path / "pred.jsonl"
    out.write_text(json.dumps({"id": "other", "retrieved": []}) + "\n")
    run_retrieval_eval(_cases(2), lambda q, k: _passages(q), out=out, resume=True)
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == ["q0", "q1"]
    run_retrieval_eval(_cases(1), lambda q, k: _passages(q), out=out)
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == ["q0"]
    assert Predictions.peek(tmp_path / "missing.jsonl", _cases(1)) == {}


def test_parallel_retrieval_gives_the_serial_predictions_in_order(tmp_path):
    cases, seen, lock = _cases(12), set(), threading.Lock()
    barrier = threading.Barrier(3, timeout=10)

    def search(q, k):
        with lock:
            seen.add(threading.get_ident())
        if q in ("question 0?", "question 1?", "question 2?"):
            barrier.wait()  # passes only if three questions are searched at once
        return _passages(q)

    serial = run_retrieval_eval(cases, lambda q, k: _passages(q), out=tmp_path / "one.jsonl")
    parallel = run_retrieval_eval(cases, search, out=tmp_path / "three.jsonl", jobs=3)
    assert len(seen) == 3
    assert (tmp_path / "one.jsonl").read_text() == (tmp_path / "three.jsonl").read_text()
    assert serial["retrieval"] == parallel["retrieval"]


def test_progress_shows_an_estimate_and_the_running_figures():
    now, stream = [0.0], io.StringIO()
    bar = Progress(10, "eval", "q", done=2, stream=stream, every_s=30, clock=lambda: now[0], tty=False)
    now[0] = 10.0
    bar.update({"facts": 0.5})  # 10 s in: nothing printed yet
    assert stream.getvalue() == ""
    now[0] = 40.0
    bar.update({"facts": 0.625, "abst": float("nan")})
    # 2 done by this run in 40 s, 6 left: about 2 minutes
    assert stream.getvalue().strip() == "eval: 4/10 q, 40s, about 2m00s left; facts 0.625, abst -"
    for _ in range(6):
        bar.update()
    assert stream.getvalue().splitlines()[-1].startswith("eval: 10/10 q, 40s, about 0s left; facts 0.625")


def test_eval_options_that_cannot_work_say_so(capsys, tmp_path):
    from partybot.cli import main

    qs = tmp_path / "q.jsonl"
    qs.write_text(json.dumps({"id": "a", "lang": "en", "question": "?"}) + "\n")
    assert main(["eval", str(qs), "--resume"]) == 2
    assert "--resume" in capsys.readouterr().err
    assert main(["eval", str(qs), "--jobs", "2"]) == 2
    assert "--retrieval-only" in capsys.readouterr().err

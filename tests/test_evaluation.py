import json

import pytest

from partybot.evaluation import first_hit_rank, is_hit, load_cases, retrieval_metrics, span_overlap
from tests.conftest import REPO, SAMPLES, SHARED_EVAL

DOC = "Câu một nói về A. Câu hai nói về B. Câu ba nói về C."


def test_span_overlap_rules():
    span = "Câu hai nói về B."
    assert span_overlap(DOC, span) == len(span)
    assert is_hit("Câu một nói về A. Câu hai nói về", [span])  # prefix of the span, over half of it
    assert not is_hit("Câu một nói về A. Câu hai", [span])  # under half
    assert is_hit("nói về B. Câu ba nói về C.", [span])  # suffix of the span, over half
    assert not is_hit("Câu ba nói về C.", [span])


def test_first_hit_rank_and_metrics():
    assert first_hit_rank(["x", "y Câu hai nói về B. z"], ["Câu hai nói về B."]) == 2
    m = retrieval_metrics([("vi", 1), ("vi", 3), ("ar", None), ("en", 6)])
    assert m["all"]["hit@1"] == 0.25 and m["all"]["hit@3"] == 0.5 and m["all"]["hit@5"] == 0.5
    assert m["vi"]["mrr@10"] == pytest.approx((1 + 1 / 3) / 2)
    assert m["ar"]["hit@5"] == 0.0


def test_load_cases_rejects_bad_lines(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="bad.jsonl:1"):
        load_cases(bad)


@pytest.mark.parametrize("path", [REPO / "eval" / "project.jsonl", SHARED_EVAL])
def test_eval_sets_gold_spans_are_in_their_documents(path):
    from text.normalize import clean_display

    if not path.exists():
        pytest.skip(f"{path} not present")
    docs = {p.name: p.read_text(encoding="utf-8") for p in SAMPLES.glob("*.txt")}
    cases = load_cases(path)
    assert cases
    ids = [c.id for c in cases]
    assert len(ids) == len(set(ids))
    for c in cases:
        assert c.lang in ("vi", "ar", "en")
        if not any(d in docs for d in c.gold_docs) and c.id.startswith("rv-"):
            continue  # a reviewed turn about a document added in production, not a sample
        for span in c.gold_spans:
            # in the file, or in its display form (what was ingested: reviewed cases quote that)
            assert any(span in docs.get(d, "") or span in clean_display(docs.get(d, "")) for d in c.gold_docs), \
                (c.id, span[:40])
        assert bool(c.gold_docs) == (c.type != "unanswerable")


def test_retrieval_eval_writes_predictions(services, tmp_path):
    from ingest.pipeline import prepare
    from partybot.eval_runs import run_retrieval_eval

    for f in sorted(SAMPLES.glob("*.txt")):
        services.index.put(prepare(f.read_text(encoding="utf-8"), f.name))
    cases = load_cases(REPO / "eval" / "project.jsonl")
    out = tmp_path / "pred.jsonl"
    report = run_retrieval_eval(cases, lambda q, k: services.search.search(q, k=k), k=5, out=out)
    preds = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [p["id"] for p in preds] == [c.id for c in cases]
    assert set(preds[0]) >= {"id", "answer", "abstained", "language", "cited_docs", "citations", "retrieved"}
    assert set(preds[0]["retrieved"][0]) >= {"doc", "text", "score", "locator"}
    assert report["retrieval"]["all"]["n"] == sum(1 for c in cases if c.answerable)


def test_readable_answers_are_in_the_askers_script_quotes_included():
    from partybot.evaluation import Case, answer_language, answer_metrics, readable

    quoting = "Theo nguồn, Đảng bộ Hà Nội có hơn 480 nghìn đảng viên: «تضم لجنة الحزب في هانوي أكثر من 480 ألف عضو» [1]"
    assert answer_language(quoting) == "vi"  # in Vietnamese by the language rule (quotes aside) …
    assert not readable(quoting, "vi")  # … but a Vietnamese reader cannot read the quotation
    assert readable("Đảng bộ Hà Nội có hơn 480 nghìn đảng viên, chiếm hơn 9% cả nước [1].", "vi")
    with_code = "أصدر المكتب السياسي القرار رقم 39-NQ/TW بتاريخ 18 يوليو 2023 بشأن مقاطعة نغي آن [1]"
    assert readable(with_code, "ar")  # codes (and names) in Latin letters are few
    assert not readable("Hanoi has more than 480,000 party members [1].", "ar")  # not in Arabic at all
    assert not readable("Hanoi has more than 480,000 party members [1].", "vi")

    case = Case("x", "vi", "fact", "?", ["a.txt"], [], [], {})
    pred = {"answer": quoting, "abstained": False, "cited_docs": ["a.txt"]}
    m = answer_metrics([(case, pred)])
    assert m["vi"]["language_ok"] == 1.0 and m["vi"]["readable"] == 0.0

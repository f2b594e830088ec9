"""Document facts, the registry and answers that respect validity (which document is in force).

The fixtures (tests/fixtures/validity) are other documents than the development data: a
regulation in the official layout (Vietnamese), news in English and Arabic, and a local
directive; ``expected.json`` says what each states, ``questions.jsonl`` asks about it.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from answering.llm import ChatBackend
from answering.pipeline import Answerer
from answering.scripted import ScriptedChat
from answering.types import Found, Question
from answering.validity import AUTHORITY, PREFER_IN_FORCE, REPLACED_NOTICE, VALIDITY_ANSWER, Validity
from core.rules import Rules
from ingest.facts import document_facts, genre, own_code
from ingest.pipeline import prepare
from partybot.cli_docs import ingest_items
from partybot.evaluation import fact_found
from retrieval.hybrid import Passage
from retrieval.registry import Registry
from text.codes import find_codes, parse_key
from text.relations import asks_about_version

FIXTURES = Path(__file__).parent / "fixtures" / "validity"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))
QUESTIONS = [json.loads(line) for line in (FIXTURES / "questions.jsonl").read_text(encoding="utf-8").splitlines()
             if line.strip()]


def _registry(*names: str) -> Registry:
    docs = [prepare((FIXTURES / n).read_text(encoding="utf-8"), n).doc for n in names]
    return Registry.from_documents(docs, {})


@pytest.fixture(scope="module")
def registry() -> Registry:
    return _registry(*EXPECTED["documents"])


def _code(display: str):
    return find_codes(display)[0]


@pytest.mark.parametrize("name", sorted(EXPECTED["documents"]))
def test_each_document_is_read_as_the_regulation_itself_or_news(name):
    text = (FIXTURES / name).read_text(encoding="utf-8")
    assert genre(text) == EXPECTED["documents"][name]["genre"]


@pytest.mark.parametrize("display", sorted(EXPECTED["codes"]))
def test_the_registry_holds_what_the_documents_state_about_each_code(registry, display):
    want = EXPECTED["codes"][display]
    (rec,) = registry.find(_code(display))
    status = registry.status(rec)
    assert status.state == want["status"]
    assert sorted(r.other.display for r in status.by) == sorted(want["replaced_by"])
    for kind, acting, field in [("replaces", True, "replaces"), ("amends", True, "amends"),
                                ("amends", False, "amended_by"), ("implements", True, "implements"),
                                ("implements", False, "implemented_by")]:
        assert sorted(r.other.display for r in rec.related(kind, acting)) == sorted(want[field]), field
    assert (rec.issued() or (None,))[0] == want["issued"]
    assert (rec.effective() or (None,))[0] == want["effective"]
    assert rec.level == want["level"]


def test_words_that_only_look_like_a_relation_make_none(registry):
    for subject, kind, other in EXPECTED["not_relations"]:
        for rec in registry.find(_code(subject)):
            assert other not in [r.other.display for r in rec.related(kind, True, sure=0.0)], (subject, kind, other)


def test_every_fact_keeps_the_sentence_it_was_read_from():
    text = (FIXTURES / "qd37_official_vi.md").read_text(encoding="utf-8")
    facts = document_facts(text, own_code(text))
    replaces = next(f for f in facts if f.kind == "replaces")
    assert "thay thế Quy định số 47-QĐ/TW" in text[replaces.start:replaces.end]
    assert replaces.code == "37-qd/tw" and replaces.value == "47-qd/tw" and replaces.confidence >= 0.5


@pytest.mark.parametrize("sentence, relation", [
    ("Quy định 102-QĐ/TW đã được thay thế bằng Quy định 69-QĐ/TW.", ("69-qd/tw", "replaces", "102-qd/tw")),
    ("Regulation 07-QĐi/TW was replaced by Regulation 69-QĐ/TW in 2022.", ("69-qd/tw", "replaces", "7-qdi/tw")),
    ("Regulation 22-QĐ/TW amends Regulation 15-QĐ/TW.", ("22-qd/tw", "amends", "15-qd/tw")),
    ("Regulation 37-QĐ/TW took the place of Regulation 47-QĐ/TW.", ("37-qd/tw", "replaces", "47-qd/tw")),
    ("فقد حلّت محلها اللائحة 69-QĐ/TW بدلًا من اللائحة 102-QĐ/TW.", None),  # no acting code before
    ("وفي عام 2024 عدّلت اللائحة 114-QĐ/TW بعض أحكام اللائحة 80-QĐ/TW.", ("114-qd/tw", "amends", "80-qd/tw")),
    ("Theo Quy định 37-QĐ/TW, không ai có thể thay thế vai trò nêu gương.", None),
])
def test_relations_read_in_either_voice_and_word_order(sentence, relation):
    found = [(f.code, f.kind, f.value) for f in document_facts(sentence, None)
             if f.kind in ("replaces", "amends", "implements")]
    if relation is None:
        assert ("37-qd/tw", "replaces") not in [(c, k) for c, k, _ in found]
    else:
        assert relation in found


def test_a_code_that_two_documents_date_differently_names_two_documents():
    a = prepare("Thành ủy ban hành Nghị quyết số 09-NQ/TU ngày 27/02/2012 về công tác đảng.", "a.txt").doc
    b = prepare("Tỉnh ủy ban hành Nghị quyết số 09-NQ/TU ngày 05/02/2022 về chuyển đổi số.", "b.txt").doc
    (rec,) = Registry.from_documents([a, b], {}).find(_code("09-NQ/TU"))
    assert rec.issue_years() == ["2012", "2022"]


def test_a_replacement_chain_leads_to_the_text_in_force_and_different_replacements_are_a_dispute():
    chain = Registry.from_documents([
        prepare("Quy định 30-QĐ/TW thay thế Quy định 45-QĐ/TW. Quy định 22-QĐ/TW thay thế Quy định 30-QĐ/TW.", "n.txt").doc], {})
    status = chain.status(chain.find(_code("45-QĐ/TW"))[0])
    assert status.state == "replaced" and status.current.display == "22-QĐ/TW"
    assert [c.display for c in status.chain] == ["30-QĐ/TW", "22-QĐ/TW"]
    dispute = Registry.from_documents([prepare("Quy định 5-QĐ/TW thay thế Quy định 3-QĐ/TW.", "x.txt").doc,
                                       prepare("Quy định 6-QĐ/TW thay thế Quy định 3-QĐ/TW.", "y.txt").doc], {})
    assert dispute.status(dispute.find(_code("03-QĐ/TW"))[0]).state == "disputed"


@pytest.mark.parametrize("question, kind", [
    ("Quy định 102-QĐ/TW còn hiệu lực không?", "status"),
    ("Is Regulation 07-QĐi/TW still in force?", "status"),
    ("التوجيه 35 لسا شغال ولا انلغى؟", "status"),
    ("has reg 22 been amended since 2021?", "amends"),
    ("Văn bản nào hướng dẫn thực hiện Quy định 69?", "implements"),
    ("What replaced Regulation 30-QĐ/TW?", "replaces"),
    ("Đảng viên không được làm gì theo Quy định 37?", None),
    ("Quy định 69 bổ sung những hành vi vi phạm nào?", None),  # "bổ sung" here: what it adds
    ("What is Regulation 144 meant to achieve?", None),
    ("Nâng cao hiệu lực lãnh đạo theo Nghị quyết 18 như thế nào?", None),  # "hiệu lực": effectiveness
    ("عضو الحزب الذي لا يزال تحت الاختبار وفق اللائحة 37 ماذا يُمنع عليه؟", None),  # "still" on probation
])
def test_a_question_about_standing_is_told_from_one_about_content(question, kind):
    assert asks_about_version(question) == kind


# -- answers ------------------------------------------------------------------------------------
@pytest.fixture
def answerer(services, settings):
    ingest_items([str(FIXTURES)], settings, services, quiet=True)
    return Answerer(services.search, ChatBackend(ScriptedChat(), "local:test"), settings)


@pytest.mark.parametrize("case", QUESTIONS, ids=[q["id"] for q in QUESTIONS])
def test_version_questions_are_answered_from_what_the_documents_state(answerer, case):
    a = answerer.answer(case["question"], lang=case["lang"])
    if case["type"] == "unanswerable":  # codes no document names: the sources cannot say
        assert a.mode == "registry" and a.abstained and not a.citations, a.text
        return
    assert a.mode == "registry" and not a.abstained, a.text
    for fact in case["answer_facts"]:
        assert fact_found(fact, a.text), (fact, a.text)
    assert {Path(c.source).name for c in a.citations} <= set(case["gold_docs"]) and a.citations


def test_an_answer_about_a_replaced_document_opens_with_what_replaced_it(answerer):
    a = answerer.answer("Quy định 47-QĐ/TW cấm đảng viên làm những gì?", lang="vi")
    assert a.text.startswith("Lưu ý: Quy định 47-QĐ/TW đã được thay thế bằng Quy định 37-QĐ/TW")
    assert any(Path(c.source).name == "qd37_official_vi.md" for c in a.citations)
    off = answerer.with_rules(Rules(answerer.settings, off={REPLACED_NOTICE.name}))
    assert "Lưu ý" not in off.answer("Quy định 47-QĐ/TW cấm đảng viên làm những gì?", lang="vi").text


def test_a_question_on_what_an_amendment_changed_gets_the_relation_and_that_the_sources_stop_there(answerer):
    a = answerer.answer("What amendments did Regulation 114-QĐ/TW make to Regulation 80-QĐ/TW?", lang="en")
    assert a.mode == "registry" and a.abstained
    assert a.text.count("114-QĐ/TW") == 1 and "do not say what it changed" in a.text
    yes = answerer.answer("Has Regulation 80-QĐ/TW been amended?", lang="en")
    assert not yes.abstained and "Regulation 114-QĐ/TW" in yes.text


def test_with_the_rule_off_a_status_question_goes_the_ordinary_way(answerer):
    off = answerer.with_rules(Rules(answerer.settings, off={VALIDITY_ANSWER.name}))
    assert off.answer("Is Regulation 47-QĐ/TW still in force?", lang="en").mode != "registry"


def test_a_code_the_sources_never_date_or_replace_is_not_called_in_force(answerer):
    a = answerer.answer("Is Directive 35-CT/TW still in force?", lang="en")
    assert a.mode == "registry" and a.abstained
    assert "do not say whether" in a.text


# -- ranking ------------------------------------------------------------------------------------
class _Search:
    def __init__(self, docs, registry):
        self.docs, self._registry = docs, registry

    def registry(self):
        return self._registry

    def document(self, doc_id):
        return self.docs.get(doc_id)


def _passage(doc_id: str, score: float) -> Passage:
    return Passage(f"{doc_id}-1", doc_id, f"{doc_id}.md", None, "text", "", [], "vi", score=score)


def _question(text: str) -> Question:
    return Question(text, "vi", "vi", tuple(find_codes(text)), frozenset(), None, frozenset())


def test_the_regulation_text_and_the_text_in_force_come_before_news_and_replaced_texts(settings):
    official = prepare((FIXTURES / "qd37_official_vi.md").read_text(encoding="utf-8"), "official").doc
    news = prepare("Tin tức: Quy định 37-QĐ/TW nêu những điều đảng viên không được làm. Quy định 37-QĐ/TW "
                   "có nhiều điểm mới.", "news").doc
    replaced = prepare("Quy định 47-QĐ/TW về những điều đảng viên không được làm, bản cũ.", "old").doc
    docs = {d.doc_id: d for d in (official, news, replaced)}
    registry = Registry.from_documents(docs.values(), {})
    validity = Validity(_Search(docs, registry))
    found = Found(result=None, passages=(_passage(replaced.doc_id, 0.80), _passage(news.doc_id, 0.79),
                                         _passage(official.doc_id, 0.78)))
    q = _question("Đảng viên không được làm gì?")
    order = [p.doc_id for p in validity.rerank(q, found, Rules(settings)).passages]
    assert order == [official.doc_id, news.doc_id, replaced.doc_id]
    off = Rules(settings, off={AUTHORITY.name, PREFER_IN_FORCE.name})
    assert [p.doc_id for p in validity.rerank(q, found, off).passages] == [p.doc_id for p in found.passages]
    far = replace(found, passages=(_passage(replaced.doc_id, 0.80), _passage(official.doc_id, 0.40)))
    assert validity.rerank(q, far, Rules(settings)).passages[0].doc_id == replaced.doc_id  # not about as well


def test_a_local_document_comes_after_a_central_one_unless_the_question_names_the_place(settings):
    central = prepare("Chỉ thị 35-CT/TW của Bộ Chính trị về đại hội đảng bộ các cấp.", "central").doc
    local = prepare((FIXTURES / "ct24_local_vi.md").read_text(encoding="utf-8"), "local").doc
    docs = {d.doc_id: d for d in (central, local)}
    validity = Validity(_Search(docs, Registry.from_documents(docs.values(), {})))
    found = Found(result=None, passages=(_passage(local.doc_id, 0.80), _passage(central.doc_id, 0.78)))
    first = validity.rerank(_question("Chuẩn bị đại hội đảng bộ các cấp thế nào?"), found, Rules(settings))
    assert first.passages[0].doc_id == central.doc_id
    named = validity.rerank(_question("Hà Nội chuẩn bị đại hội đảng bộ các cấp thế nào?"), found, Rules(settings))
    assert named.passages[0].doc_id == local.doc_id


def test_parse_key_reads_the_politburo_regulation_codes():
    assert parse_key(_code("07-QĐi/TW").key).display == "07-QĐi/TW"


# -- partybot docs show -------------------------------------------------------------------------
def test_docs_show_lists_every_code_and_prints_one_record_cited(tmp_path, monkeypatch, capsys):
    from partybot.cli import main

    monkeypatch.setenv("PARTYBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PARTYBOT_EMBEDDER", "hash")
    assert main(["ingest", str(FIXTURES)]) == 0
    capsys.readouterr()
    assert main(["docs", "show"]) == 0
    listing = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}
    assert set(listing) == set(EXPECTED["codes"])
    assert "replaced by 37-QĐ/TW" in listing["47-QĐ/TW"] and "replaced by 22-QĐ/TW" in listing["45-QĐ/TW"]
    assert "in force (as stated)" in listing["37-QĐ/TW"] and "text ingested" in listing["37-QĐ/TW"]
    assert main(["docs", "show", "QĐ 47", "--lang", "vi"]) == 0
    out = capsys.readouterr().out
    assert "đã được thay thế bằng Quy định 37-QĐ/TW" in out and "[1] " in out and "qd37_official_vi.md" in out
    assert main(["docs", "show", "47-QĐ/TW", "--json"]) == 0
    (record,) = json.loads(capsys.readouterr().out)
    assert record["status"] == "replaced" and record["current"] == "37-QĐ/TW"
    assert main(["docs", "show", "99-QĐ/TW"]) == 1
    assert "99-QĐ/TW" in capsys.readouterr().err


def test_when_a_named_document_was_issued_is_answered_only_if_a_document_dates_it(answerer):
    from answering.validity import ISSUE_DATE_KNOWN

    a = answerer.answer("When was Directive 35-CT/TW on Party congresses signed?", lang="en")
    assert a.mode == "registry" and a.abstained and "do not say when Directive 35-CT/TW was issued" in a.text
    dated = answerer.answer("Chỉ thị 24-CT/TU được ban hành ngày nào?", lang="vi")
    assert dated.mode != "registry" and not dated.abstained
    from text.relations import asks_issue

    assert asks_issue("quy dinh 69 do ai ky, ngay nao?") and not asks_issue("Đảng viên bị kỷ luật khi nào?")
    off = answerer.with_rules(Rules(answerer.settings, off={ISSUE_DATE_KNOWN.name}))
    assert off.answer("When was Directive 35-CT/TW on Party congresses signed?", lang="en").mode != "registry"

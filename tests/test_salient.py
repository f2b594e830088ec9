"""What a question asks for must be in what answers it: a person for "who", the year it names, a
place the index holds however it is spelled; a quote that holds none of it is no answer; a code
dated differently only by a nearby sentence is one document."""

from __future__ import annotations

import pytest

from answering.llm import ChatBackend
from answering.pipeline import Answerer
from answering.scripted import ScriptedChat
from core.rules import Rules
from partybot.cli_docs import ingest_items

PLAN = ("Kế hoạch số 12-KH/TU ngày 05/3/2023 của Tỉnh ủy Quảng Bình về phát triển đảng viên. "
        "Năm 2023, toàn tỉnh kết nạp 1.250 đảng viên mới. Kế hoạch do Ban Thường vụ Tỉnh ủy ban hành "
        "và được phổ biến tới các chi bộ.")
NEWS = ("تعقد لجنة الحزب في مقاطعة نغي آن اجتماعات شهرية. وفي عام 2024 انضم إلى الحزب في المقاطعة "
        "أكثر من 3 آلاف عضو جديد، وفق الخطة 40-KH/TU.")
# one regulation, three pages: a date written near its code is the replaced one's
PAGES = {
    "reg.txt": "Quy định số 22-QĐ/TW ngày 28/7/2021 của Ban Chấp hành Trung ương về kiểm tra, giám sát.",
    "news1.txt": "Quy định 22-QĐ/TW thay thế Quy định số 30-QĐ/TW ngày 26/7/2016 về công tác kiểm tra.",
    "news2.txt": "Theo Quy định 22-QĐ/TW, ủy ban kiểm tra các cấp giám sát thường xuyên đảng viên.",
}


@pytest.fixture
def answerer(tmp_path, services, settings):
    files = {"plan.txt": PLAN, "news.txt": NEWS, **PAGES}
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    ingest_items([str(tmp_path / n) for n in files], settings, services, quiet=True)
    reply = "Kế hoạch do ông Nguyễn Văn Tùng ký [1]."
    return Answerer(services.search, ChatBackend(ScriptedChat(replies=[reply, reply]), "local:test"), settings)


def _decided(answer) -> dict:
    return next(t for t in answer.trace if t["stage"] == "decide")


def test_who_signed_is_refused_when_no_source_names_a_person(answerer):
    a = answerer.answer("Ai ký Kế hoạch 12-KH/TU của Tỉnh ủy Quảng Bình?")
    assert a.abstained and _decided(a).get("why") == "asked kind not in sources"
    assert "Nguyễn Văn Tùng" not in a.text


def test_a_year_no_document_found_mentions_is_refused(answerer):
    from answering.decide import YEAR_IN_EVIDENCE

    a = answerer.answer("Năm 2019 tỉnh Quảng Bình kết nạp bao nhiêu đảng viên mới?")
    assert a.abstained and _decided(a).get("why") == "year not in sources" and "2019" in a.text
    kept = answerer.answer("Năm 2023 tỉnh Quảng Bình kết nạp bao nhiêu đảng viên mới?")
    assert _decided(kept).get("why") != "year not in sources"
    off = answerer.with_rules(Rules(answerer.settings, off={YEAR_IN_EVIDENCE.name}))
    assert _decided(off.answer("Năm 2019 tỉnh Quảng Bình kết nạp bao nhiêu đảng viên mới?")).get("why") != \
        "year not in sources"


def test_an_unaccented_place_finds_the_document_on_it_in_another_script(answerer, settings):
    from answering.retrieve import PLACE_IN_INDEX, retrieve
    from answering.understand import understand

    q = understand("dang bo tinh nghe an hop bao lau mot lan?", None, Rules(settings))
    assert q.places == {"nghe an"}
    found = retrieve(q, answerer.search, k=1, rules=Rules(settings))
    assert found.passages[0].source.endswith("news.txt")  # the Arabic article on نغي آن
    off = retrieve(q, answerer.search, k=1, rules=Rules(settings, off={PLACE_IN_INDEX.name}))
    assert not any(p.source.endswith("news.txt") for p in off.passages)
    a = answerer.answer("dang bo tinh nghe an hop bao lau mot lan?")
    assert _decided(a).get("why") != "place not in sources"


def test_many_pages_about_one_code_are_one_document(answerer):
    d = answerer.decide.ambiguity(tuple(__import__("text.codes", fromlist=["find_codes"]).find_codes("22-QĐ/TW")))
    assert d == []


def test_a_quote_holding_no_number_does_not_answer_how_many(answerer, settings):
    from answering.quote import QUOTE_HOLDS_KIND
    from answering.types import Decision

    sources = tuple(answerer.search.passages_of(next(iter(
        p.doc_id for p in answerer.search.search("Kế hoạch 12-KH/TU", k=3).passages if p.source.endswith("plan.txt")))))
    from answering.quote import pick_sentences
    from answering.understand import understand

    q = understand("Có bao nhiêu chi bộ được phổ biến kế hoạch?", None, Rules(settings))
    decision = Decision("answer", compose="quote", sources=sources,
                        excerpts=("Kế hoạch do Ban Thường vụ Tỉnh ủy ban hành và được phổ biến tới các chi bộ "
                                  "đúng hạn.",))
    assert pick_sentences(q, decision, Rules(settings)) == []
    assert pick_sentences(q, decision, Rules(settings, off={QUOTE_HOLDS_KIND.name}))

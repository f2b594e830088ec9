"""Answerability: a question about a province or city is answered from documents about it."""

from __future__ import annotations

import pytest

from answering.decide import PLACE_IN_SOURCES
from answering.llm import ChatBackend
from answering.pipeline import Answerer
from answering.scripted import ScriptedChat
from core.rules import Rules
from partybot.cli_docs import ingest_items
from text.transliteration import place_name, places_in

HANOI = ("Đảng bộ Hà Nội hiện có hơn 480 nghìn đảng viên, sinh hoạt tại 37 đảng bộ trực thuộc. "
         "Thành ủy Hà Nội chú trọng phát triển đảng viên trong doanh nghiệp.")
QUANG_NINH = ("تحقق مقاطعة كوانغ نينه نموًا اقتصاديًا بخانة العشرات منذ سبع سنوات متتالية. "
              "وتضم لجنة الحزب في المقاطعة أكثر من 100 ألف عضو.")


@pytest.fixture
def answerer(tmp_path, services, settings):
    for name, text in (("hanoi.txt", HANOI), ("quangninh.txt", QUANG_NINH)):
        (tmp_path / name).write_text(text, encoding="utf-8")
    ingest_items([str(tmp_path / "hanoi.txt"), str(tmp_path / "quangninh.txt")], settings, services, quiet=True)
    return Answerer(services.search, ChatBackend(ScriptedChat(replies=["Hà Nội có hơn 480 nghìn đảng viên [1]."]),
                                                 "local:test"), settings)


def test_places_are_read_in_latin_letters_and_in_arabic_transliteration():
    assert places_in("Đảng bộ tỉnh Nghệ An có bao nhiêu đảng viên?") == {"nghe an"}
    assert places_in(QUANG_NINH) == {"quang ninh"}
    assert places_in("how many members in hanoi and ha long?") == {"ha noi", "quang ninh"}
    assert places_in("Quy định 69 có áp dụng với đảng viên đã qua đời không?") == set()
    assert place_name("nghe an", "vi") == "Nghệ An" and place_name("nghe an", "en") == "Nghe An"


def test_a_place_no_document_found_mentions_is_not_answered_with_another_place(answerer):
    a = answerer.answer("Đảng bộ tỉnh Nghệ An hiện có bao nhiêu đảng viên?")
    assert a.abstained and "Nghệ An" in a.text and not a.citations
    assert {"stage": "decide", "action": "abstain", "why": "place not in sources"}.items() <= a.trace[2].items()
    other = answerer.answer("How many party members does Quang Ninh province have?")
    assert not any(t.get("why") == "place not in sources" for t in other.trace)
    off = answerer.with_rules(Rules(answerer.settings, off={PLACE_IN_SOURCES.name}))
    assert not any(t.get("why") == "place not in sources"
                   for t in off.answer("Đảng bộ tỉnh Nghệ An hiện có bao nhiêu đảng viên?").trace)


def _source_files(answerer, answer) -> set[str]:
    decided = next(t for t in answer.trace if t["stage"] == "decide")
    return {answerer.search.passage(c).source.rsplit("/", 1)[-1] for c in decided.get("sources", [])}


def test_the_sources_are_the_documents_that_name_the_place_asked_about(answerer):
    from answering.decide import NAMED_IN_EVIDENCE

    question = "Đảng bộ tỉnh Quảng Ninh có bao nhiêu đảng viên?"  # shares its words with the Hanoi text
    a = answerer.answer(question)
    assert _source_files(answerer, a) == {"quangninh.txt"}, a.trace[2]
    off = answerer.with_rules(Rules(answerer.settings, off={NAMED_IN_EVIDENCE.name}))
    assert "hanoi.txt" in _source_files(off, off.answer(question))

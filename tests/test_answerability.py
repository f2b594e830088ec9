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


def _answerer_replying(services, settings, *replies):
    return Answerer(services.search, ChatBackend(ScriptedChat(replies=list(replies)), "local:test"), settings)


ARABIC_REPLY = "تضم لجنة الحزب في المقاطعة أكثر من 100 ألف عضو [1]."  # fails the language check


def test_a_reader_of_another_script_gets_what_survives_the_checks_not_a_quote(answerer, services, settings):
    from answering.pipeline import MACHINE_TRANSLATION, READABLE_FALLBACK
    from partybot.evaluation import readable

    question = "Đảng bộ tỉnh Quảng Ninh có bao nhiêu đảng viên?"
    mt = "Đảng bộ tỉnh có hơn 100 nghìn đảng viên."
    a = _answerer_replying(services, settings, ARABIC_REPLY, ARABIC_REPLY, mt, mt).answer(question)
    assert a.mode == "pieces" and not a.abstained and readable(a.text, "vi"), a.text
    assert "100.000" in a.text and "Quảng Ninh" in a.text and "[1]" in a.text
    assert "Bản dịch máy" in a.text and mt in a.text and a.citations
    # a translation that gives a number the sentence does not is left out; the pieces stay
    wrong = _answerer_replying(services, settings, ARABIC_REPLY, ARABIC_REPLY, "Có 250 nghìn đảng viên.",
                               "Có 250 nghìn đảng viên.").answer(question)
    assert wrong.mode == "pieces" and "250" not in wrong.text and "100.000" in wrong.text
    rules = Rules(settings)
    no_mt = _answerer_replying(services, settings, ARABIC_REPLY, ARABIC_REPLY).with_rules(
        rules.without(MACHINE_TRANSLATION.name)).answer(question)
    assert no_mt.mode == "pieces" and "Bản dịch máy" not in no_mt.text
    quoted = _answerer_replying(services, settings, ARABIC_REPLY, ARABIC_REPLY).with_rules(
        rules.without(READABLE_FALLBACK.name)).answer(question)
    assert quoted.mode == "extractive" and not readable(quoted.text, "vi")


def test_a_quote_in_a_language_the_asker_does_not_read_is_not_the_answer_either(answerer, services, settings):
    # a Vietnamese sentence is in an English reader's script, not in their language
    bad = "Hanoi has 999 party members [1]."
    # (asked in Vietnamese words by a member who reads English: the fake embedder matches words)
    a = _answerer_replying(services, settings, bad, bad).answer("Đảng bộ Hà Nội có bao nhiêu đảng viên?", lang="en")
    assert a.mode == "pieces" and "480,000" in a.text and "đảng viên" not in a.text, a.text

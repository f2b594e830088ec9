"""Precision before recall: what an answer states must be in what it cites, in a script its reader
reads, and a relation it states must exist in that direction (issue: answers that hold on unseen
data). Also the measurements of it: wrong facts stated, relations and dates read at ingest."""

from __future__ import annotations

import json

from answering import checks
from core.rules import Rules
from ingest.pipeline import prepare
from partybot.evaluation import unsupported_facts
from partybot.facts_eval import evaluate, report
from retrieval.registry import Registry
from text.scripts import foreign_letters


def test_foreign_letters_by_reader():
    assert foreign_letters("Pháp Đảng和个人 quy định", "vi") == "和个人"
    assert foreign_letters("Liên đoàn Kurdistan الفيتنامية [1]", "en") == "الفيتنامية"
    assert foreign_letters("Quyết định kỷ luật được ban hành ngày 25/10/2021, ưu tiên ổn định", "vi") == ""
    assert foreign_letters("صدرت اللائحة 37-QĐ/TW في 2021", "ar") == ""
    assert foreign_letters("صدرت اللائحة 新 في 2021", "ar") == "新"


def test_script_check_fails_han_and_arabic_outside_quotes_only():
    sources = ["Quy định 37-QĐ/TW gồm 19 điều."]
    kw = dict(lang="vi", evidence=sources, question="Quy định 37 có bao nhiêu điều?", n_sources=1)
    bad = checks.check("Quy định 37-QĐ/TW có 19 điều和个人 [1].", **kw)
    assert any(p.startswith("letters of another script") for p in bad)
    assert not any(p.startswith("letters of another script")
                   for p in checks.check("Quy định 37-QĐ/TW có 19 điều «هذه» [1].", **kw))
    off = Rules().without(checks.SCRIPT.name)
    assert not any(p.startswith("letters of another script")
                   for p in checks.check("Quy định 37-QĐ/TW có 19 điều和个人 [1].", rules=off, **kw))


def test_a_number_must_be_in_the_source_it_cites_not_another():
    per_source = ["Đảng bộ tỉnh có 135 tổ chức cơ sở đảng.", "Quy định 41-QĐ/TW về miễn nhiệm, từ chức."]
    from partybot.settings import Settings

    on = Rules(Settings(check_cited_sources=True, _env_file=None))
    kw = dict(lang="vi", evidence=per_source, question="Đảng bộ tỉnh có bao nhiêu tổ chức cơ sở?",
              n_sources=2, per_source=per_source, rules=on)
    assert checks.check("Đảng bộ tỉnh có 135 tổ chức cơ sở đảng [1].", **kw) == []
    wrong = checks.check("Đảng bộ tỉnh có 135 tổ chức cơ sở đảng [2].", **kw)
    assert any(p.startswith("numbers in no source") for p in wrong)
    # without the rule, any given source is enough
    kw["rules"] = on.without(checks.CITED.name)
    assert not any(p.startswith("numbers in no source")
                   for p in checks.check("Đảng bộ tỉnh có 135 tổ chức cơ sở đảng [2].", **kw))
    kw["rules"] = Rules()  # the default: off (the local model cites one source for figures of two)
    assert not any(p.startswith("numbers in no source")
                   for p in checks.check("Đảng bộ tỉnh có 135 tổ chức cơ sở đảng [2].", **kw))


def _registry(*texts: str) -> Registry:
    return Registry.from_documents([prepare(t, f"d{i}.txt").doc for i, t in enumerate(texts)], {})


def test_a_reversed_relation_is_a_wrong_fact():
    registry = _registry("Quy định 377-QĐ/TW ngày 08/10/2025 thay thế Quy định 41-QĐ/TW ngày 03/11/2021.")

    def known(code, kind, other):
        from text.codes import parse_key
        return any(r.other.matches(o.code) for rec in registry.find(parse_key(code))
                   for o in registry.find(parse_key(other)) for r in rec.related(kind, acting=True, sure=0.0))

    right = "Quy định 41-QĐ/TW đã được thay thế bằng Quy định 377-QĐ/TW [1]."
    reversed_ = "Quy định 377-QĐ/TW đã được thay thế bằng Quy định 41-QĐ/TW [1]."
    assert checks.unstated_relations(right, known) == []
    assert checks.unstated_relations(reversed_, known) == ["41-QĐ/TW replaces 377-QĐ/TW"]
    problems = checks.check(reversed_, lang="vi", evidence=[right], question="Quy định 377 thay thế quy định nào?",
                            n_sources=1, relation_known=known)
    assert any(p.startswith("relations in no source") for p in problems)
    assert checks.ungrounded([problems, problems])  # twice: the honest reply is a refusal


def test_unsupported_facts_measure_what_the_cited_passages_do_not_carry():
    cited = ["Hà Nội có hơn 480 ألف đảng viên, ban hành ngày 06/7/2022 theo Quy định 69-QĐ/TW."]
    assert unsupported_facts("Hà Nội có hơn 480.000 đảng viên (6/7/2022, 69-QĐ/TW) [1].", "", cited) == []
    assert unsupported_facts("Tầm nhìn đến năm 2045 [1].", "", ["tầm nhìn đến năm 2050"]) == ["2045"]
    assert unsupported_facts("Theo Quy định 377-QĐ/TW [1].", "", cited) == ["377", "377-QĐ/TW"]
    assert unsupported_facts("Điều 51 quy định … [1]", "Điều 51 nói gì?", cited) == []  # the question's own


def test_facts_eval_counts_right_reversed_and_wrongly_dated(tmp_path):
    registry = Registry.from_documents([prepare(
        "Quy định số 22-QĐ/TW ngày 28/7/2021 thay thế Quy định số 30-QĐ/TW ngày 26/7/2016.", "a.txt").doc], {})
    rel = tmp_path / "relations.jsonl"
    rel.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in [
        {"doc": "a.txt", "sentence": "", "subject": "22-QĐ/TW", "relation": "replaces", "object": "30-QĐ/TW"},
    ]), encoding="utf-8")
    codes = tmp_path / "codes.jsonl"
    codes.write_text("\n".join(json.dumps(c, ensure_ascii=False) for c in [
        {"code": "22-QĐ/TW", "issued": "2021-07-28", "doc": "a.txt"},
        {"code": "30-QĐ/TW", "issued": "2016-07-26", "doc": "a.txt"},
    ]), encoding="utf-8")
    result = evaluate(registry, [rel], [codes])
    assert result["precision"] == 1.0 and result["recall"] == 1.0 and result["reversed"] == 0
    assert result["dates_right"] == 2 and not result["dates_wrong"]
    # gold the other way round: the reading counts as reversed
    rel.write_text(json.dumps({"doc": "a.txt", "sentence": "", "subject": "30-QĐ/TW", "relation": "replaces",
                               "object": "22-QĐ/TW"}, ensure_ascii=False), encoding="utf-8")
    result = evaluate(registry, [rel], [])
    assert result["reversed"] == 1 and result["precision"] == 0.0
    assert "reversed 1" in report(result, details=True)


def test_reply_cache_answers_the_same_prompt_from_disk(tmp_path):
    from langchain_core.globals import get_llm_cache, set_llm_cache
    from langchain_core.language_models.fake_chat_models import FakeListChatModel

    from partybot.reply_cache import SQLiteReplyCache

    previous = get_llm_cache()
    cache = SQLiteReplyCache(tmp_path / "replies.sqlite")
    set_llm_cache(cache)
    try:
        model = FakeListChatModel(responses=["first", "second"])
        assert model.invoke("same prompt").content == "first"
        assert model.invoke("same prompt").content == "first"  # from the cache, not the next reply
        assert model.invoke("another prompt").content == "second"
        assert len(cache) == 2
        reopened = SQLiteReplyCache(tmp_path / "replies.sqlite")  # a later run reads what was kept
        assert len(reopened) == 2
    finally:
        set_llm_cache(previous)


def test_the_local_servers_port_is_not_part_of_the_reply_cache_key(tmp_path):
    """The local model's server takes a free loopback port at each start; the next run must find
    the replies the last one kept. A remote endpoint stays part of the key (another model)."""
    from langchain_openai import ChatOpenAI

    from partybot.reply_cache import SQLiteReplyCache, model_key

    def llm_string(url):
        return ChatOpenAI(base_url=url, model="local", api_key="x", temperature=0)._get_llm_string()

    first, second = llm_string("http://127.0.0.1:41234/v1"), llm_string("http://127.0.0.1:39001/v1")
    assert first != second and model_key(first) == model_key(second)
    assert model_key(llm_string("http://gpu-box:8000/v1")) != model_key(llm_string("http://gpu-box:8001/v1"))
    cache = SQLiteReplyCache(tmp_path / "replies.sqlite")
    cache.update("prompt", first, ["reply"])
    assert cache.lookup("prompt", second) == ["reply"]

"""The answer budget: a slow model is cut off and the member still gets the best checked answer;
the fallback's translation is left out first, then the retry. Over real HTTP (a fake
OpenAI-compatible server that answers slowly), so the cut is a closed connection."""

from __future__ import annotations

import asyncio

import pytest
from langchain_openai import ChatOpenAI

from answering.budget import RESERVE_S, Budget, bounded
from answering.llm import ChatBackend
from answering.pipeline import Answerer
from fake_openai import FakeOpenAI
from partybot.cli_docs import ingest_items
from test_answerability import ARABIC_REPLY, HANOI, QUANG_NINH

QUESTION = "Đảng bộ tỉnh Quảng Ninh có bao nhiêu đảng viên?"  # its source is in Arabic
MT = "Đảng bộ tỉnh có hơn 100 nghìn đảng viên."


@pytest.fixture
def corpus(tmp_path, services, settings):
    for name, text in (("hanoi.txt", HANOI), ("quangninh.txt", QUANG_NINH)):
        (tmp_path / name).write_text(text, encoding="utf-8")
    ingest_items([str(tmp_path / "hanoi.txt"), str(tmp_path / "quangninh.txt")], settings, services, quiet=True)
    return services


def _answerer(services, settings, llm: FakeOpenAI, budget_s: float) -> Answerer:
    settings.answer_budget_s = budget_s
    chat = ChatOpenAI(base_url=llm.base_url, model="fake", api_key="x", temperature=0, max_retries=1, timeout=60)
    return Answerer(services.search, ChatBackend(chat, "local:test"), settings)


def _stages(answer, key: str) -> list:
    return [t[key] for t in answer.trace if key in t]


def test_a_model_slower_than_the_budget_is_cut_off_and_the_checked_fallback_goes_out(corpus, settings):
    with FakeOpenAI([ARABIC_REPLY], delays=[30]) as llm:
        a = _answerer(corpus, settings, llm, 2.0).answer(QUESTION)
        assert len(llm.requests) == 1  # no retry of the timed-out call, no retry after it
    assert a.timings["total_ms"] < 30_000  # the member did not wait for the model
    assert a.mode == "pieces" and "100.000" in a.text and a.citations, a.text
    assert "answer budget" in _stages(a, "over") and any("answer budget spent" in c for c in a.checks)


def test_the_retry_is_left_out_when_the_first_reply_took_longer_than_what_is_left(corpus, settings):
    with FakeOpenAI([ARABIC_REPLY, ARABIC_REPLY, MT, MT], delays=[1.5]) as llm:
        a = _answerer(corpus, settings, llm, 3.0).answer(QUESTION)
        assert len(llm.requests) == 1
    assert "answer budget" in _stages(a, "skipped")
    assert a.mode == "pieces" and "Bản dịch máy" not in a.text  # no time left to translate either


def test_the_translation_goes_first_the_retry_stays(corpus, settings):
    with FakeOpenAI([ARABIC_REPLY, ARABIC_REPLY, MT, MT], delays=[0, 2.0]) as llm:
        a = _answerer(corpus, settings, llm, 5.0).answer(QUESTION)
        assert len(llm.requests) == 2  # the answer and its retry; not the translation
    assert "skipped: answer budget" in _stages(a, "translation")
    assert a.mode == "pieces" and "100.000" in a.text and "Bản dịch máy" not in a.text
    with FakeOpenAI([ARABIC_REPLY, ARABIC_REPLY, MT, MT]) as llm:
        unhurried = _answerer(corpus, settings, llm, 0).answer(QUESTION)  # 0: no limit
        assert len(llm.requests) >= 3
    assert "Bản dịch máy" in unhurried.text and MT in unhurried.text


def test_a_streamed_reply_cut_off_is_taken_back_and_the_fallback_follows(corpus, settings):
    async def events(answerer):
        return [e async for e in answerer.astream(QUESTION)]

    with FakeOpenAI([ARABIC_REPLY], delays=[30]) as llm:
        got = asyncio.run(events(_answerer(corpus, settings, llm, 2.0)))
    kinds = [e.kind for e in got]
    assert kinds[0] == "sources" and kinds[-1] == "final"
    if "delta" in kinds:  # what was shown of the cut reply is taken back before the final answer
        assert kinds.index("reset") > kinds.index("delta")
    final = got[-1].answer
    assert final.mode == "pieces" and "answer budget" in _stages(final, "over")


def test_the_budget_counts_from_the_question():
    now = [100.0]
    b = Budget(10.0, start=100.0, clock=lambda: now[0])
    assert b.left() == 10.0 and b.allows(9.5 - RESERVE_S) and not b.allows(9.6)
    now[0] = 108.0
    assert b.call_timeout() == pytest.approx(2.0 - RESERVE_S) and not b.spent()
    now[0] = 109.9
    assert b.spent() and b.call_timeout() == 0.1  # never a zero or negative timeout
    unlimited = Budget(0, start=0.0, clock=lambda: 1e9)
    assert unlimited.call_timeout() is None and unlimited.allows(1e6) and not unlimited.spent()


def test_a_bounded_client_keeps_the_model_and_its_cache_key():
    chat = ChatOpenAI(base_url="http://127.0.0.1:9/v1", model="m", api_key="x", max_retries=1, timeout=60)
    cut = bounded(chat, 2.5)
    assert cut.client._client.timeout == 2.5 and cut.client._client.max_retries == 0
    assert chat.client._client.timeout == 60 and chat.client._client.max_retries == 1  # the original unchanged
    assert cut._get_llm_string() == chat._get_llm_string()  # same replies from the reply cache
    assert bounded(chat, None) is chat

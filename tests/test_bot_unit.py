"""The bot's handlers, fed real ``Update`` objects through ``Application.process_update`` with
the network swapped for a request that records every Bot API call (no HTTP, no Telegram)."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import time
from pathlib import Path

import pytest
from pydantic import SecretStr
from telegram import Update
from telegram.request import BaseRequest

from partybot.bot import render
from partybot.bot.app import RedactingFormatter, RedactToken, build_application
from partybot.bot.context import BotContext, BotData
from partybot.bot.serving import Gate, RateLimiter, safe_file_name
from partybot.cli import ingest_items
from partybot.compose import build
from partybot.logstore import LogStore
from answering.llm import ChatBackend
from answering.scripted import ScriptedChat
from tests.test_answer import GOOD_AR, HANOI, Q_AR

TOKEN = "123456:UNIT-token-abcdefghijklmnopqrstuvwxyz"
ADMIN = 42
BOT = {"id": 7000001, "is_bot": True, "first_name": "PartyBot", "username": "party_test_bot"}


class RecordingRequest(BaseRequest):
    def __init__(self):
        self.calls: list[tuple[str, dict]] = []
        self._ids = itertools.count(500)
        self.fail: dict[str, Exception] = {}

    async def initialize(self):
        pass

    async def shutdown(self):
        pass

    @property
    def read_timeout(self):
        return 1.0

    async def do_request(self, url, method, request_data=None, read_timeout=None, write_timeout=None,
                         connect_timeout=None, pool_timeout=None):
        name = url.rsplit("/", 1)[-1]
        params = dict(request_data.parameters) if request_data else {}
        self.calls.append((name, params))
        if name == "getMe":
            result = BOT
        elif name in ("sendMessage", "editMessageText", "sendDocument"):
            chat_id = params.get("chat_id", 1)
            result = {"message_id": params.get("message_id") or next(self._ids), "date": int(time.time()),
                      "chat": {"id": chat_id, "type": "private"}, "from": BOT, "text": params.get("text", "")}
        else:
            result = True
        return 200, json.dumps({"ok": True, "result": result}).encode()

    def texts(self, method="sendMessage") -> list[str]:
        return [p.get("text", "") for m, p in self.calls if m == method]


@pytest.fixture
def indexed(samples_copy):
    """The sample corpus, answered by the scripted model (the same chat object for every call,
    so each test queues its replies in ``harness.chat.replies``)."""
    services = build(samples_copy, chat_backend=ChatBackend(ScriptedChat(replies=[]), "scripted:test"))
    yield services
    services.close()


@pytest.fixture
def harness(settings, indexed, tmp_path):
    settings.telegram_bot_token = SecretStr(TOKEN)
    settings.admin_ids_raw = str(ADMIN)
    settings.bot_edit_interval_s = 0.0
    chat = indexed.backend.chat
    logs = LogStore(f"sqlite:///{tmp_path / 'logs.sqlite3'}")
    rec = RecordingRequest()
    app = build_application(settings, indexed, logs, request=rec, updates_request=RecordingRequest())

    class H:
        pass

    h = H()
    h.app, h.rec, h.chat, h.logs, h.settings, h.services = app, rec, chat, logs, settings, indexed
    h.ids = itertools.count(1)
    loop = asyncio.new_event_loop()  # one loop for the whole test, as in a running bot

    def send(update: dict):
        async def go():
            if not app._initialized:
                await app.initialize()
            await app.process_update(Update.de_json({"update_id": next(h.ids), **update}, app.bot))
        loop.run_until_complete(go())

    def message(user_id, text, lang="en", chat=None, **extra):
        chat = chat or {"id": user_id, "type": "private"}
        send({"message": {"message_id": next(h.ids) + 10_000, "date": int(time.time()), "chat": chat,
                          "from": {"id": user_id, "is_bot": False, "first_name": "Lan", "language_code": lang},
                          "text": text, **extra,
                          **({"entities": [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]}
                             if text.startswith("/") else {})}})

    def press(user_id, data, chat_id=None):
        send({"callback_query": {"id": str(next(h.ids)), "chat_instance": "c", "data": data,
                                 "from": {"id": user_id, "is_bot": False, "first_name": "Lan"},
                                 "message": {"message_id": 900, "date": int(time.time()), "from": BOT,
                                             "chat": {"id": chat_id or user_id, "type": "private"},
                                             "text": "answer"}}})

    h.send, h.message, h.press = send, message, press
    yield h
    if app._initialized:
        loop.run_until_complete(app.shutdown())
    loop.close()
    logs.close()


def _final(h) -> dict:
    return [p for m, p in h.rec.calls if m == "editMessageText" and p.get("parse_mode") == "HTML"][-1]


def test_the_application_has_typed_context_and_bot_data(harness):
    assert harness.app.context_types.context is BotContext
    data = harness.app.bot_data
    assert isinstance(data, BotData) and data.deps.services is harness.services and data.deps.logs is harness.logs
    harness.message(1, "/start")  # handlers read context.deps: a plain CallbackContext has none
    assert harness.rec.texts()[-1].startswith("Hello")


def test_start_greets_in_the_telegram_language(harness):
    harness.message(1, "/start", lang="vi")
    assert "Xin chào, Lan" in harness.rec.texts()[-1]
    harness.message(2, "/start", lang="ar-SA")
    assert "مرحبًا" in harness.rec.texts()[-1]
    harness.message(3, "/start", lang="de")
    assert harness.rec.texts()[-1].startswith("Hello")


def test_a_question_streams_then_ends_with_the_cited_answer_and_buttons(harness):
    harness.chat.replies = [GOOD_AR]
    harness.message(5, Q_AR, lang="ar")
    methods = [m for m, _ in harness.rec.calls]
    assert methods.index("sendChatAction") < methods.index("sendMessage")
    edits = harness.rec.texts("editMessageText")
    assert "\u200f📚" in edits[0] and HANOI not in edits[0]  # first visible content: the sources found
    assert any("480" in e and "parse_mode" not in p for e, (_, p) in zip(edits, [c for c in harness.rec.calls
                                                                               if c[0] == "editMessageText"]))
    final = _final(harness)
    assert "480" in final["text"] and "<b>[1]</b>" in final["text"] and HANOI in final["text"]
    buttons = [b["callback_data"] for b in final["reply_markup"]["inline_keyboard"][0]]
    turn = int(buttons[0].split(":")[1])
    assert buttons == [f"s:{turn}", f"f:{turn}:1", f"f:{turn}:-1"]
    logged = harness.logs.get_turn(turn)
    assert logged["answer"] == GOOD_AR and logged["mode"] == "llm" and logged["first_content_ms"] > 0


def test_lang_choice_is_remembered_and_used(harness):
    harness.message(6, "/lang vi")
    assert "tiếng Việt" in harness.rec.texts()[-1]
    assert harness.logs.get_lang(6) == "vi"
    harness.chat.replies = ["Đảng bộ Hà Nội có hơn 480.000 đảng viên [1]."]
    harness.message(6, Q_AR, lang="ar")  # an Arabic question, a Vietnamese answer
    final = _final(harness)
    assert "480.000" in final["text"]
    assert harness.logs.get_turn(harness.logs.count())["lang"] == "vi"
    harness.message(6, "/lang klingon")
    assert "klingon" in harness.rec.texts()[-1]
    harness.message(6, "/lang auto")
    assert harness.logs.get_lang(6) is None


def test_off_topic_is_refused_in_the_asker_language_without_buttons_for_sources(harness):
    harness.message(7, "Hôm nay thời tiết ở Đà Lạt thế nào, có mưa không?", lang="vi")
    final = _final(harness)
    assert "không" in final["text"].lower() and not harness.chat.calls
    buttons = [b["callback_data"] for b in final["reply_markup"]["inline_keyboard"][0]]
    assert not any(b.startswith("s:") for b in buttons)


def test_rate_limit_and_busy_replies(harness):
    harness.settings.bot_rate_per_minute = 2
    deps = harness.app.bot_data.deps
    deps.limiter = RateLimiter(2)
    for _ in range(3):
        harness.message(8, "Hôm nay trời mưa không?", lang="vi")
    assert "đợi" in harness.rec.texts()[-1]
    deps.gate = Gate(1, 0)
    assert deps.gate.try_enter()  # someone is being answered and nobody may wait
    harness.message(9, "Is it raining today?")
    assert "ask again in a minute" in harness.rec.texts()[-1]


def test_admin_commands_are_refused_to_members(harness):
    doc = harness.services.catalog.documents()[0]
    for command in ("/docs", "/stats", "/export", f"/remove {doc.doc_id}", "/add https://example.org/x.pdf"):
        harness.message(11, command)
        assert "only admins" in harness.rec.texts()[-1], command
    harness.press(11, f"r:{doc.doc_id}")  # a forged button press is checked too
    assert harness.services.catalog.get(doc.doc_id) is not None
    alert = [p for m, p in harness.rec.calls if m == "answerCallbackQuery"][-1]
    assert alert["show_alert"] and "only admins" in alert["text"]


def test_admin_lists_removes_with_confirmation_and_exports(harness):
    harness.message(ADMIN, "/docs")
    assert "Documents 1–5 of 5" in harness.rec.texts()[-1]
    doc = harness.services.catalog.documents()[0]
    harness.message(ADMIN, f"/remove {doc.doc_id[:8]}")
    confirm = [p for m, p in harness.rec.calls if m == "sendMessage"][-1]
    assert [b["callback_data"] for b in confirm["reply_markup"]["inline_keyboard"][0]] == [f"r:{doc.doc_id}", "r:-"]
    assert harness.services.catalog.get(doc.doc_id) is not None  # nothing before the confirmation
    harness.press(ADMIN, f"r:{doc.doc_id}")
    assert harness.services.catalog.get(doc.doc_id) is None
    harness.message(ADMIN, "/export")
    assert "No conversations" in harness.rec.texts()[-1]
    harness.message(12, "What is the weather in Hanoi today?")
    harness.message(ADMIN, "/export csv")
    sent = [p for m, p in harness.rec.calls if m == "sendDocument"]
    assert sent and "1 conversation" in sent[-1]["caption"]
    harness.message(ADMIN, "/stats")
    assert "1 questions" in harness.rec.texts()[-1] and "en: 1 questions" in harness.rec.texts()[-1]


def test_an_error_apologises_and_tells_the_admins(harness, monkeypatch, caplog):
    async def boom(*a, **k):
        raise RuntimeError("index unavailable")
        yield  # pragma: no cover

    monkeypatch.setattr(harness.services.answerer, "astream", boom)
    harness.message(13, "Đảng viên không được làm gì?", lang="vi")
    sent = [p for m, p in harness.rec.calls if m == "sendMessage"]
    assert "Xin lỗi" in sent[-2]["text"] and sent[-2]["chat_id"] == 13
    assert sent[-1]["chat_id"] == ADMIN and "index unavailable" in sent[-1]["text"]
    # the slot in the answer queue was given back
    assert harness.app.bot_data.deps.gate.inside == 0


def test_the_token_is_redacted_from_log_lines(caplog):
    record = logging.LogRecord("httpx", logging.INFO, __file__, 1, "POST https://api.telegram.org/bot%s/getMe",
                               (TOKEN,), None)
    RedactToken(TOKEN).filter(record)
    assert TOKEN not in record.getMessage() and "<token>" in record.getMessage()
    try:
        raise ValueError(f"The token `{TOKEN}` was rejected by the server.")
    except ValueError:
        import sys

        failed = logging.LogRecord("telegram.ext", logging.ERROR, __file__, 1, "bootstrap failed", (), sys.exc_info())
    text = RedactingFormatter(logging.Formatter("%(message)s"), TOKEN).format(failed)
    assert "was rejected" in text and TOKEN not in text


def test_html_is_escaped_and_long_answers_are_split():
    text = "<script>alert(1)</script> & [1]\n" + ("Đảng viên không được tham nhũng. " * 400)
    cites = [{"n": 1, "doc_id": "d", "source": "https://example.org/a?x=1&y=2", "title": "Quy định <37>",
              "codes": ["37-QĐ/TW"], "locator": "Điều 2", "quote": "q" * 5000}]
    parts = render.answer_html(text, cites, "vi")
    assert len(parts) >= 3 and all(len(p) <= 4096 for p in parts)
    assert "&lt;script&gt;" in parts[0] and "<script>" not in "".join(parts)
    assert '<a href="https://example.org/a?x=1&amp;y=2">Quy định &lt;37&gt;</a>' in parts[-1]
    from tests.fake_telegram import parse_html

    for p in parts + render.sources_html(cites, "ar"):
        visible, error = parse_html(p)
        assert error is None and len(visible) <= 4096
    assert all(line.startswith(render.RLM) or line.startswith("<blockquote>") or not line
               for line in render.sources_html(cites, "ar")[0].split("\n"))


def test_safe_file_names():
    assert safe_file_name("../../etc/passwd", None, b"x") == "passwd"
    assert safe_file_name("a\x00b:c.pdf", None, b"x") == "a_b_c.pdf"
    assert safe_file_name(None, "application/pdf", b"x").endswith(".pdf")
    assert safe_file_name("report", "text/html", b"x") == "report.html"


def test_the_model_queue_admits_retrieval_at_once_and_generation_one_at_a_time():
    gate = Gate(1, 2)
    assert gate.try_enter() and gate.try_enter() and gate.try_enter() and not gate.try_enter()
    order = []

    async def worker(name, hold):
        await gate.acquire()
        order.append(name)
        await asyncio.sleep(hold)
        gate.release()
        gate.leave()

    async def run():
        await asyncio.gather(worker("a", 0.05), worker("b", 0.01), worker("c", 0.0))

    asyncio.run(run())
    assert order == ["a", "b", "c"] and gate.inside == 0 and gate.waiting == 0 and gate.try_enter()


# -- /doc CODE: what the documents say about a document ------------------------------------------
VALIDITY = Path(__file__).parent / "fixtures" / "validity"


def _reply(h) -> dict:
    return [p for m, p in h.rec.calls if m == "sendMessage"][-1]


def test_doc_tells_what_the_documents_say_about_a_code_in_the_members_language(harness):
    from tests.fake_telegram import parse_html

    ingest_items([str(VALIDITY)], harness.settings, harness.services, quiet=True)
    harness.message(21, "/doc 47-QĐ/TW", lang="en")
    sent = _reply(harness)
    assert sent["parse_mode"] == "HTML" and parse_html(sent["text"])[1] is None
    text = sent["text"]
    assert "<b>Regulation 47-QĐ/TW</b>" in text
    assert "no longer in force: Regulation 37-QĐ/TW replaced it" in text and "<b>[1]</b>" in text
    assert "[1] " in text and "qd37_official_vi.md" in text and "«Quy định này có hiệu lực kể từ ngày ký" in text
    harness.message(22, "/doc 47/QĐ-TW", lang="vi")  # written another way, in Vietnamese
    text = _reply(harness)["text"]
    assert "<b>Quy định 47-QĐ/TW</b>" in text and "Quy định 37-QĐ/TW" in text and "Nguồn:" in text
    assert "qd37_official_vi.md" in text
    harness.message(23, "/doc QĐ 47", lang="ar-SA")  # without the issuer, in Arabic
    text = _reply(harness)["text"]
    assert "اللائحة 47-QĐ/TW" in text and "اللائحة 37-QĐ/TW" in text and "المصادر:" in text
    assert all(line.startswith(render.RLM) for line in text.split("\n") if line)


def test_doc_shows_at_most_three_documents_then_names_the_others(harness):
    ingest_items([str(VALIDITY)], harness.settings, harness.services, quiet=True)
    harness.message(24, "/doc 47-QĐ/TW 37-QĐ/TW 22-QĐ/TW 30-QĐ/TW")
    text = "\n".join(harness.rec.texts())
    assert all(f"<b>Regulation {c}</b>" in text for c in ("47-QĐ/TW", "37-QĐ/TW", "22-QĐ/TW"))
    assert "<b>Regulation 30-QĐ/TW</b>" not in text and "1 more documents fit this code: 30-QĐ/TW" in text
    assert all(len(t) <= 4096 for t in harness.rec.texts())


def test_doc_unknown_code_and_usage(harness):
    harness.message(25, "/doc 999-QĐ/TW", lang="en")
    assert "I know of no document with the code 999-QĐ/TW" in harness.rec.texts()[-1]
    harness.message(25, "/doc <b>nope</b>", lang="en")
    assert "&lt;b&gt;nope&lt;/b&gt;" in harness.rec.texts()[-1] and "<b>nope" not in harness.rec.texts()[-1]
    harness.message(26, "/doc 999-QĐ/TW", lang="vi")
    assert "không có văn bản nào mang số hiệu 999-QĐ/TW" in harness.rec.texts()[-1]
    for lang, words in (("en", "Write the document's code after /doc"), ("vi", "Hãy gõ số hiệu văn bản sau /doc"),
                        ("ar", "اكتب رمز الوثيقة بعد /doc")):
        harness.message(27, "/doc", lang=lang)
        assert words in harness.rec.texts()[-1], lang
    harness.message(28, "/help")
    assert "/doc CODE" in harness.rec.texts()[-1]


def test_a_long_source_path_keeps_its_file_name():
    line = render.citation_line({"n": 1, "title": "Quy định 37-QĐ/TW",
                                 "source": "/srv/partybot/uploads/2026/12/admin-17/van-ban/quy-dinh-37.txt",
                                 "codes": [], "locator": ""})
    shown_path = line.split("(", 1)[1].rsplit(")", 1)[0]
    assert shown_path.endswith("quy-dinh-37.txt") and shown_path.startswith("/srv/") and len(shown_path) <= 60

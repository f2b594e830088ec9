"""End to end: the real entry point (`python bot.py`) in a subprocess, talking HTTP to a fake
Bot API server (tests/fake_telegram.py), in polling and webhook mode.

Fast settings (hash embedder, extractive answers) so that the whole Telegram path runs in
seconds; the real models answer through this same path in tests/test_bot_smoke.py.
"""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.conftest import REPO, SAMPLES, free_port
from tests.fake_telegram import BOT_USERNAME, FakeTelegram

ADMIN = 42
VI_DOC = """Quy định 37-QĐ/TW về những điều đảng viên không được làm

Điều 1. Đảng viên không được nói, viết, làm trái hoặc không thực hiện Cương lĩnh chính trị, Điều lệ Đảng, nghị quyết, chỉ thị của Đảng.

Điều 2. Đảng viên không được tham ô, tham nhũng, cố ý làm trái quy định gây thiệt hại tài sản của Nhà nước.

Điều 3. Đảng viên không được đánh bạc dưới mọi hình thức; không được sử dụng ma túy.
"""
EN_DOC = """Directive 24-CT/TU on grassroots party cells

1. Every party cell holds its monthly meeting on a fixed day and records the attendance of each member.

2. The secretary of the party cell reports the results of the meeting to the district committee within 7 days.
"""
NEW_DOC = """Kế hoạch 88-KH/TU về chuyển đổi số trong công tác đảng

Mục 1. Đến năm 2027, 100% chi bộ sử dụng sổ tay đảng viên điện tử để sinh hoạt định kỳ.
"""


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """A data directory with the Arabic samples plus a Vietnamese and an English document."""
    from partybot.cli import ingest_items
    from partybot.compose import build
    from partybot.settings import Settings

    root = tmp_path_factory.mktemp("bot-e2e")
    docs = root / "docs"
    docs.mkdir()
    (docs / "quy-dinh-37.txt").write_text(VI_DOC, encoding="utf-8")
    (docs / "directive-24.md").write_text(EN_DOC, encoding="utf-8")
    settings = Settings(data_dir=root / "data", embedder="hash", _env_file=None)
    svc = build(settings)
    ingest_items([str(SAMPLES), str(docs)], settings, svc, quiet=True)
    svc.close()
    return root / "data"


class BotProcess:
    def __init__(self, fake: FakeTelegram, data_dir: Path, **env):
        self.fake = fake
        self.env = {**{k: v for k, v in os.environ.items() if not k.startswith(("PARTYBOT_", "TELEGRAM_"))},
                    "PARTYBOT_DATA_DIR": str(data_dir), "PARTYBOT_EMBEDDER": "hash",
                    "PARTYBOT_LLM_BACKEND": "extractive", "TELEGRAM_BOT_TOKEN": fake.token,
                    "TELEGRAM_BASE_URL": fake.base_url, "TELEGRAM_BASE_FILE_URL": fake.base_file_url,
                    "ADMIN_IDS": str(ADMIN), "PARTYBOT_BOT_POLL_TIMEOUT_S": "2",
                    "PARTYBOT_BOT_EDIT_INTERVAL_S": "0.2", **env}
        self.proc = subprocess.Popen([sys.executable, str(REPO / "bot.py"), "-v"], cwd=REPO, env=self.env,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.output: list[str] = []
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self):
        for line in self.proc.stdout:
            self.output.append(line.decode(errors="replace"))

    def log(self) -> str:
        return "".join(self.output)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        return self.proc.wait()


@pytest.fixture
def fake():
    server = FakeTelegram().start()
    yield server
    server.stop()


@pytest.fixture
def bot(fake, corpus):
    proc = BotProcess(fake, corpus)
    try:
        fake.wait_for(lambda: fake.sent("getUpdates") or proc.proc.poll() is not None, 90, "the bot to poll")
        assert proc.proc.poll() is None, proc.log()
        yield proc
    finally:
        rc = proc.stop()
        print(proc.log()[-5000:])  # shown by pytest when a test fails
        assert fake.token not in proc.log()  # the token never reaches a log line
        assert rc in (0, -signal.SIGTERM), proc.log()


def _text_of(fake, chat_id):
    return [m["text"] for m in fake.bot_messages(chat_id)]


@pytest.mark.parametrize("lang,question,source,expect", [
    ("ar", "كم عدد أعضاء الحزب في لجنة الحزب بهانوي؟", "000_4ddb1c029ae9f81a.txt", "480"),
    ("vi", "Theo Quy định 37-QĐ/TW, đảng viên không được đánh bạc phải không?", "quy-dinh-37.txt", "đánh bạc"),
    ("en", "Under Directive 24-CT/TU, within how many days does the secretary report the meeting?",
     "directive-24.md", "7 days"),
])
def test_a_member_question_is_answered_with_citations(fake, bot, lang, question, source, expect):
    uid = {"ar": 101, "vi": 102, "en": 103}[lang]
    user = fake.user(uid, lang)
    fake.send_text(user, question)
    final = fake.final_message(uid)
    assert final["parse_mode"] == "HTML" and expect in final["text"] and source in final["text"]
    assert "[1]" in final["text"]
    assert fake.sent("sendChatAction", uid)
    # the first reply was the placeholder, then "found in", then the answer: one message, edited
    assert final.get("edits", 0) >= 1
    # Sources: the quoted passage with its document and locator
    fake.press(user, final, next(b["callback_data"] for b in final["reply_markup"]["inline_keyboard"][0]
                                 if b["callback_data"].startswith("s:")))
    sources = fake.wait_for(lambda: [m for m in fake.bot_messages(uid) if "<blockquote>" in m["text"]],
                            20, "the sources message")
    assert source in sources[0]["text"] and expect.split()[0] in sources[0]["text"]
    if lang == "ar":  # right-to-left marks keep Arabic lines right-aligned after "[1]"
        assert "\u200f" in final["text"]


def test_feedback_is_stored_with_a_reason(fake, bot, corpus):
    user = fake.user(201, "ar")
    fake.send_text(user, "كم عدد أعضاء الحزب في لجنة الحزب بهانوي؟")
    final = fake.final_message(201)
    turn = int(final["reply_markup"]["inline_keyboard"][0][-1]["callback_data"].split(":")[1])
    stranger = fake.user(999, "en")
    fake.press(stranger, final, f"f:{turn}:-1")  # someone else cannot rate it
    fake.wait_for(lambda: any(c.params.get("show_alert") for c in fake.sent("answerCallbackQuery")), 20)
    fake.press(user, final, f"f:{turn}:-1")
    prompt = fake.wait_for(lambda: [m for m in fake.bot_messages(201) if "reply_markup" in m
                                    and m["reply_markup"].get("force_reply")], 20, "the reason prompt")[0]
    fake.send_text(user, "الرقم غير صحيح", reply_to=prompt)
    fake.wait_for(lambda: len(fake.bot_messages(201)) >= 3 and "شكرًا" in fake.bot_messages(201)[-1]["text"], 20)
    from partybot.logstore import LogStore

    logs = LogStore(f"sqlite:///{corpus / 'logs.sqlite3'}")
    row = logs.get_turn(turn)
    logs.close()
    assert row["feedback"] == -1 and row["feedback_reason"] == "الرقم غير صحيح"
    assert row["user_ref"] == "201" and row["citations"] and row["passages"] and row["total_ms"] > 0


def test_groups_only_when_mentioned_or_replied_to(fake, bot):
    group = {"id": -5001, "type": "group", "title": "Chi bộ 3"}
    user = fake.user(301, "vi")
    fake.send_text(user, "Đảng viên không được đánh bạc phải không?", chat=group)
    text = f"@{BOT_USERNAME} Theo Quy định 37-QĐ/TW, đảng viên không được đánh bạc phải không?"
    fake.send_text(user, text, chat=group,
                   entities=[{"type": "mention", "offset": 0, "length": len(BOT_USERNAME) + 1}])
    final = fake.final_message(-5001)
    assert "quy-dinh-37.txt" in final["text"]
    # the first update was handled before the second was answered (a condition, not a sleep):
    # one answer in the group, to the mention
    assert len(fake.sent("sendMessage", -5001)) == 1


def test_admin_upload_is_answerable_and_non_admin_is_refused(fake, bot):
    stranger = fake.user(401, "vi")
    fake.send_document(stranger, NEW_DOC.encode(), "ke-hoach-88.txt", mime="text/plain")
    refusal = fake.wait_for(lambda: fake.bot_messages(401), 20, "a refusal")[0]
    assert "quản trị viên" in refusal["text"] and not fake.sent("getFile")
    admin = fake.user(ADMIN, "vi")
    fake.send_document(admin, NEW_DOC.encode(), "ke-hoach-88.txt", mime="text/plain")
    summary = fake.wait_for(lambda: [m for m in fake.bot_messages(ADMIN) if "✅" in m["text"]], 60, "a summary")[0]
    assert "88-KH/TU" in summary["text"] and "vi" in summary["text"]
    fake.send_text(stranger, "Kế hoạch 88-KH/TU: đến năm 2027 bao nhiêu phần trăm chi bộ dùng sổ tay điện tử?")
    final = fake.final_message(401)
    assert "ke-hoach-88.txt" in final["text"] and "100%" in final["text"]


def test_oversize_and_corrupt_uploads_are_rejected_and_nothing_is_stored(fake, bot, corpus):
    admin = fake.user(ADMIN, "en")
    before = sorted(p.name for p in (corpus / "uploads").glob("*")) if (corpus / "uploads").exists() else []
    fake.send_document(admin, b"%PDF-1.4 tiny", "huge.pdf", mime="application/pdf", declared_size=50 * 2**20)
    fake.wait_for(lambda: any("limit" in m["text"] for m in fake.bot_messages(ADMIN)), 20, "the size refusal")
    assert not fake.sent("getFile")  # refused before any download
    fake.send_document(admin, b"%PDF-1.7\n" + os.urandom(3000), "broken.pdf", mime="application/pdf")
    failed = fake.wait_for(lambda: [m for m in fake.bot_messages(ADMIN) if "❌" in m["text"]], 60, "the failure")[0]
    assert "broken.pdf" in failed["text"] and "PDF" in failed["text"]
    after = sorted(p.name for p in (corpus / "uploads").glob("*")) if (corpus / "uploads").exists() else []
    assert after == before
    fake.send_text(admin, "/docs")
    listing = fake.wait_for(lambda: [m for m in fake.bot_messages(ADMIN) if "Documents" in m["text"]], 20)[0]
    assert "broken" not in listing["text"] and "huge" not in listing["text"]


def test_doc_through_the_bot_api(fake, tmp_path):
    """/doc CODE over HTTP: what the documents say about a code, in the member's language."""
    from partybot.cli import ingest_items
    from partybot.compose import build
    from partybot.settings import Settings

    settings = Settings(data_dir=tmp_path / "data", embedder="hash", _env_file=None)
    svc = build(settings)
    ingest_items([str(REPO / "tests" / "fixtures" / "validity")], settings, svc, quiet=True)
    svc.close()
    proc = BotProcess(fake, settings.data_dir)
    try:
        fake.wait_for(lambda: fake.sent("getUpdates") or proc.proc.poll() is not None, 90, "the bot to poll")
        assert proc.proc.poll() is None, proc.log()
        menus = [c.params["commands"] for c in fake.sent("setMyCommands")]
        menus = [json.loads(m) if isinstance(m, str) else m for m in menus]
        assert menus and all("doc" in [c["command"] for c in m] for m in menus)  # in every menu
        user = fake.user(801, "vi")
        fake.send_text(user, "/doc 47-QĐ/TW")
        reply = fake.wait_for(lambda: fake.bot_messages(801), 30, "the /doc reply")[0]
        assert reply["parse_mode"] == "HTML"
        assert "Quy định 47-QĐ/TW" in reply["text"] and "Quy định 37-QĐ/TW" in reply["text"]
        assert "qd37_official_vi.md" in reply["text"] and "«" in reply["text"]
        fake.send_text(fake.user(802, "en"), "/doc 12345-QĐ/TW")
        unknown = fake.wait_for(lambda: fake.bot_messages(802), 30, "the unknown-code reply")[0]
        assert "no document with the code 12345-QĐ/TW" in unknown["text"]
    finally:
        proc.stop()
        assert fake.token not in proc.log()


def test_a_429_from_the_server_is_survived(fake, bot):
    fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    user = fake.user(501, "en")
    fake.send_text(user, "Under Directive 24-CT/TU, within how many days does the secretary report the meeting?")
    final = fake.final_message(501, timeout=60)
    assert "7 days" in final["text"]
    assert len(fake.sent("sendMessage", 501)) >= 2  # the refused call, then the retry


def test_ten_members_asking_at_once_are_all_answered(fake, bot):
    users = [fake.user(600 + i, "en") for i in range(10)]
    for u in users:
        fake.send_text(u, "Under Directive 24-CT/TU, when does every party cell hold its monthly meeting?")
    for u in users:
        final = fake.final_message(u["id"], timeout=120)
        assert "directive-24.md" in final["text"]


def test_webhook_mode(fake, corpus):
    port = free_port()
    proc = BotProcess(fake, corpus, TELEGRAM_WEBHOOK_URL=f"http://127.0.0.1:{port}/hook",
                      TELEGRAM_WEBHOOK_PORT=str(port), TELEGRAM_WEBHOOK_PATH="hook",
                      TELEGRAM_WEBHOOK_SECRET="s3cret-value")
    try:
        fake.wait_for(lambda: fake.webhook or proc.proc.poll() is not None, 90, "setWebhook")
        assert proc.proc.poll() is None, proc.log()
        assert fake.webhook["secret"] == "s3cret-value"
        fake.wait_for(lambda: _port_open(port), 30, "the webhook server")
        user = fake.user(701, "ar")
        fake.send_text(user, "كم عدد أعضاء الحزب في لجنة الحزب بهانوي؟")
        final = fake.final_message(701)
        assert "480" in final["text"]
        # a POST without the secret is refused by the bot
        fake.webhook["secret"] = "wrong"
        fake.send_text(user, "hello")
        assert fake.last_webhook_status == 403
    finally:
        proc.stop()
        assert fake.token not in proc.log()


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_a_rejected_token_gets_a_clear_message(fake, corpus):
    proc = BotProcess(fake, corpus, TELEGRAM_BOT_TOKEN="999:wrong-token")
    rc = proc.proc.wait(90)
    out = proc.log()
    assert rc == 1 and "rejected TELEGRAM_BOT_TOKEN" in out and "999:wrong-token" not in out


def test_a_missing_token_gets_a_clear_message(fake, corpus):
    proc = BotProcess(fake, corpus, TELEGRAM_BOT_TOKEN="")
    assert proc.proc.wait(60) == 1 and "TELEGRAM_BOT_TOKEN is not set" in proc.log() and "BotFather" in proc.log()

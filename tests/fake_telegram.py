"""A fake Telegram Bot API server over real HTTP (aiohttp), for end-to-end tests of the bot.

It speaks the Bot API's wire format as python-telegram-bot uses it: form-urlencoded or
multipart requests to ``/bot<token>/<method>``, JSON answers ``{"ok": ..., "result": ...}``,
file downloads from ``/file/bot<token>/<path>``. Long polling honours ``offset`` and ``timeout``;
``setWebhook`` switches to pushing updates to the bot with the secret-token header. It checks
what the real one checks and the bot could get wrong: the token, text length after entity
parsing (4096), well-formed HTML with Telegram's tags only, "message is not modified", the
20 MB download limit, 409 on getUpdates while a webhook is set; and it can answer 429 with
``retry_after`` or 5xx on demand.

Runs in a thread with its own event loop; tests use the synchronous helpers.
"""

from __future__ import annotations

import asyncio
import html.parser
import itertools
import json
import threading
import time
from dataclasses import dataclass, field

from aiohttp import ClientSession, web

BOT_ID = 7000001
BOT_USERNAME = "party_test_bot"
ALLOWED_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre",
                "blockquote", "tg-spoiler", "span", "tg-emoji"}
JSON_FIELDS = {"chat_id", "message_id", "offset", "timeout", "limit", "reply_markup", "reply_parameters",
               "allowed_updates", "commands", "scope", "show_alert", "reply_to_message_id",
               "disable_web_page_preview", "link_preview_options", "max_connections", "drop_pending_updates"}


class _HTMLCheck(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.text: list[str] = []
        self.error: str | None = None

    def handle_starttag(self, tag, attrs):
        if tag not in ALLOWED_TAGS:
            self.error = f"Bad Request: can't parse entities: unsupported start tag \"{tag}\""
        self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.error = f"Bad Request: can't parse entities: unexpected end tag \"{tag}\""
        else:
            self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def parse_html(text: str) -> tuple[str, str | None]:
    """(visible text, error) for a message sent with parse_mode=HTML."""
    p = _HTMLCheck()
    p.feed(text)
    p.close()
    if p.stack and not p.error:
        p.error = f"Bad Request: can't parse entities: unclosed tag \"{p.stack[-1]}\""
    return "".join(p.text), p.error


@dataclass
class Call:
    method: str
    params: dict
    at: float = field(default_factory=time.monotonic)


class FakeTelegram:
    def __init__(self, token: str = "123456:TEST-token-abcdefghijklmnopqrstuvwxyz"):
        self.token = token
        self.calls: list[Call] = []
        self.messages: dict[tuple[int, int], dict] = {}  # (chat_id, message_id) -> the bot's message
        self.files: dict[str, bytes] = {}
        self.documents_sent: list[tuple[dict, bytes]] = []
        self.fail: dict[str, list[tuple[int, dict]]] = {}  # method -> queued error answers
        self.webhook: dict | None = None
        self._updates: list[dict] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._new_update: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> "FakeTelegram":
        ready = threading.Event()

        def serve():
            self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)
            self._new_update = asyncio.Event()
            app = web.Application(client_max_size=64 * 2**20)
            app.router.add_post("/bot{token}/{method}", self._handle)
            app.router.add_get("/file/bot{token}/{path:.*}", self._file)
            self._runner = web.AppRunner(app, access_log=None)
            self._loop.run_until_complete(self._runner.setup())
            site = web.TCPSite(self._runner, "127.0.0.1", 0)
            self._loop.run_until_complete(site.start())
            self.port = site._server.sockets[0].getsockname()[1]
            ready.set()
            self._loop.run_forever()
            self._loop.run_until_complete(self._runner.cleanup())

        self._thread = threading.Thread(target=serve, daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        if self._loop:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    # -- what tests do -------------------------------------------------------------------------
    def user(self, user_id: int, lang: str | None = "en", name: str = "Member") -> dict:
        u = {"id": user_id, "is_bot": False, "first_name": name}
        if lang:
            u["language_code"] = lang
        return u

    def send_text(self, user: dict, text: str, *, chat: dict | None = None, reply_to: dict | None = None,
                  entities: list | None = None) -> dict:
        message = self._user_message(user, chat, text=text)
        if reply_to is not None:
            message["reply_to_message"] = public(reply_to)
        if entities:
            message["entities"] = entities
        elif text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        self.push({"message": message})
        return message

    def send_document(self, user: dict, data: bytes, file_name: str, *, mime: str = "application/octet-stream",
                      declared_size: int | None = None) -> dict:
        file_id = f"file{len(self.files) + 1}"
        self.files[file_id] = data
        message = self._user_message(user, None, document={
            "file_id": file_id, "file_unique_id": "u" + file_id, "file_name": file_name, "mime_type": mime,
            "file_size": declared_size if declared_size is not None else len(data)})
        self.push({"message": message})
        return message

    def press(self, user: dict, message: dict, data: str) -> None:
        self.push({"callback_query": {"id": str(next(self._update_ids) * 7), "from": user,
                                      "chat_instance": "ci", "data": data, "message": public(message)}})

    def push(self, update: dict) -> None:
        update = {"update_id": next(self._update_ids), **update}
        if self.webhook:
            fut = asyncio.run_coroutine_threadsafe(self._post_webhook(update), self._loop)
            fut.result(10)
            return
        with self._lock:
            self._updates.append(update)
        self._loop.call_soon_threadsafe(self._new_update.set)

    def fail_next(self, method: str, code: int, description: str, retry_after: int | None = None, times: int = 1):
        body = {"ok": False, "error_code": code, "description": description}
        if retry_after is not None:
            body["parameters"] = {"retry_after": retry_after}
        self.fail.setdefault(method, []).extend([(code, body)] * times)

    def sent(self, method: str | None = None, chat_id: int | None = None) -> list[Call]:
        with self._lock:
            calls = list(self.calls)
        return [c for c in calls if (method is None or c.method == method)
                and (chat_id is None or c.params.get("chat_id") == chat_id)]

    def bot_messages(self, chat_id: int) -> list[dict]:
        with self._lock:
            return [m for (c, _), m in sorted(self.messages.items()) if c == chat_id]

    def wait_for(self, predicate, timeout: float = 30.0, what: str = "condition"):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = predicate()
            if result:
                return result
            time.sleep(0.02)
        raise AssertionError(f"timed out after {timeout} s waiting for {what}; calls: "
                             f"{[c.method for c in self.sent()][-30:]}")

    def final_message(self, chat_id: int, timeout: float = 60.0) -> dict:
        """The bot's last message in the chat once it carries the answer buttons."""
        def done():
            for m in reversed(self.bot_messages(chat_id)):
                markup = m.get("reply_markup") or {}
                if any(b.get("callback_data", "").startswith("f:")
                       for row in markup.get("inline_keyboard", []) for b in row):
                    return m
            return None
        return self.wait_for(done, timeout, f"an answer in chat {chat_id}")

    # -- the server ----------------------------------------------------------------------------
    def _user_message(self, user: dict, chat: dict | None, **content) -> dict:
        chat = chat or {"id": user["id"], "type": "private", "first_name": user.get("first_name", "")}
        return {"message_id": next(self._message_ids), "date": int(time.time()), "chat": chat, "from": user,
                **content}

    async def _params(self, request: web.Request) -> tuple[dict, dict]:
        form = await request.post()
        params, files = {}, {}
        for key, value in form.items():
            if isinstance(value, web.FileField):
                files[key] = (value.filename, value.file.read())
            elif key in JSON_FIELDS:
                try:
                    params[key] = json.loads(value)
                except ValueError:
                    params[key] = value
            else:
                params[key] = value
        return params, files

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        method = request.match_info["method"]
        params, files = await self._params(request)
        with self._lock:
            self.calls.append(Call(method, params))
            queued = self.fail.get(method)
            failure = queued.pop(0) if queued else None
        if failure:
            return web.json_response(failure[1], status=failure[0])
        handler = getattr(self, f"_m_{method}", None)
        try:
            if handler is None:
                result = True if method.startswith(("set", "delete")) else None
                if result is None:
                    return _error(404, "Not Found: method not found")
            else:
                result = handler(params, files)
                if asyncio.iscoroutine(result):
                    result = await result
        except _ApiError as exc:
            return _error(exc.code, exc.description)
        return web.json_response({"ok": True, "result": result})

    async def _file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        data = self.files.get(request.match_info["path"].split("/")[-1])
        return web.Response(body=data) if data is not None else web.Response(status=404)

    def _bot_user(self) -> dict:
        return {"id": BOT_ID, "is_bot": True, "first_name": "PartyBot", "username": BOT_USERNAME}

    def _m_getMe(self, p, f):
        return {**self._bot_user(), "can_join_groups": True, "can_read_all_group_messages": False,
                "supports_inline_queries": False}

    async def _m_getUpdates(self, p, f):
        if self.webhook:
            raise _ApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
                                 "use deleteWebhook to delete the webhook first")
        offset, timeout = int(p.get("offset") or 0), float(p.get("timeout") or 0)
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
                ready = list(self._updates[: int(p.get("limit") or 100)])
                if not ready:
                    self._new_update.clear()
            if ready or time.monotonic() >= deadline:
                return ready
            try:
                await asyncio.wait_for(self._new_update.wait(), max(0.01, deadline - time.monotonic()))
            except asyncio.TimeoutError:
                pass

    def _m_setWebhook(self, p, f):
        self.webhook = {"url": p["url"], "secret": p.get("secret_token")}
        return True

    def _m_deleteWebhook(self, p, f):
        self.webhook = None
        return True

    async def _post_webhook(self, update: dict) -> None:
        headers = {"X-Telegram-Bot-Api-Secret-Token": self.webhook["secret"]} if self.webhook.get("secret") else {}
        async with ClientSession() as s:
            async with s.post(self.webhook["url"], json=update, headers=headers) as r:
                self.last_webhook_status = r.status

    def _chat(self, chat_id) -> dict:
        chat_id = int(chat_id)
        return {"id": chat_id, "type": "private" if chat_id > 0 else "group"}

    def _check_text(self, text: str, parse_mode: str | None) -> None:
        visible = text
        if parse_mode == "HTML":
            visible, error = parse_html(text)
            if error:
                raise _ApiError(400, error)
        if not visible.strip():
            raise _ApiError(400, "Bad Request: message text is empty")
        if len(visible) > 4096:
            raise _ApiError(400, "Bad Request: message is too long")

    def _m_sendMessage(self, p, f):
        self._check_text(p["text"], p.get("parse_mode"))
        m = {"message_id": next(self._message_ids), "date": int(time.time()), "chat": self._chat(p["chat_id"]),
             "from": self._bot_user(), "text": p["text"], "parse_mode": p.get("parse_mode")}
        if p.get("reply_markup"):
            m["reply_markup"] = p["reply_markup"]
        with self._lock:
            self.messages[(m["chat"]["id"], m["message_id"])] = m
        return public(m)

    def _m_editMessageText(self, p, f):
        key = (int(p["chat_id"]), int(p["message_id"]))
        with self._lock:
            m = self.messages.get(key)
        if m is None:
            raise _ApiError(400, "Bad Request: message to edit not found")
        self._check_text(p["text"], p.get("parse_mode"))
        markup = p.get("reply_markup")
        if m["text"] == p["text"] and m.get("reply_markup") == markup:
            raise _ApiError(400, "Bad Request: message is not modified: specified new message content and "
                                 "reply markup are exactly the same as a current content and reply markup")
        with self._lock:
            m.update(text=p["text"], parse_mode=p.get("parse_mode"), edits=m.get("edits", 0) + 1)
            if markup:
                m["reply_markup"] = markup
            else:
                m.pop("reply_markup", None)
        return public(m)

    def _m_sendChatAction(self, p, f):
        return True

    def _m_answerCallbackQuery(self, p, f):
        return True

    def _m_getFile(self, p, f):
        data = self.files.get(p["file_id"])
        if data is None:
            raise _ApiError(400, "Bad Request: invalid file_id")
        if len(data) > 20 * 2**20:
            raise _ApiError(400, "Bad Request: file is too big")
        return {"file_id": p["file_id"], "file_unique_id": "u" + p["file_id"], "file_size": len(data),
                "file_path": f"documents/{p['file_id']}"}

    def _m_sendDocument(self, p, f):
        name, data = f.get("document", ("document", b""))
        m = {"message_id": next(self._message_ids), "date": int(time.time()), "chat": self._chat(p["chat_id"]),
             "from": self._bot_user(), "document": {"file_id": "sent", "file_unique_id": "sent",
                                                    "file_name": name}}
        with self._lock:
            self.documents_sent.append((p, data))
        return m


def public(m: dict) -> dict:
    """A message as the Bot API returns it: Message.reply_markup only ever holds inline keyboards."""
    out = {k: v for k, v in m.items() if k not in ("parse_mode", "edits")}
    if "inline_keyboard" not in (out.get("reply_markup") or {}):
        out.pop("reply_markup", None)
    return out


class _ApiError(Exception):
    def __init__(self, code: int, description: str):
        super().__init__(description)
        self.code = code
        self.description = description


def _error(code: int, description: str) -> web.Response:
    return web.json_response({"ok": False, "error_code": code, "description": description}, status=code)

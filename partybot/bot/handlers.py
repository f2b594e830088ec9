"""Telegram handlers: thin. Each one reads the update, calls a service, renders the result.

Members: /start, /help, /lang, questions (streamed by throttled edits, then the cited answer
with Sources and 👍/👎 buttons). Admins (``ADMIN_IDS``, checked on every command and button):
file uploads, /add, /docs, /remove, /stats, /export.
"""

from __future__ import annotations

import asyncio
import logging
import time

from telegram import (ForceReply, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Message,
                      Update)
from telegram.constants import ChatAction, ChatType, ParseMode
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from text.language import detect
from partybot.bot.render import answer_html, esc, sources_html, stream_text
from partybot.bot.serving import Deps
from partybot.bot.texts import LANG_NAMES, t, t_plain, user_lang
from answering.understand import MAX_QUESTION_CHARS
from vectorstore.lock import WriterBusy

log = logging.getLogger(__name__)
DOCS_PAGE = 10


def deps(context: ContextTypes.DEFAULT_TYPE) -> Deps:
    return context.application.bot_data["deps"]


async def ui_lang(update: Update, context, text: str | None = None) -> str:
    """The language to talk to this user in: their /lang choice, else the message's language,
    else Telegram's language_code, else English."""
    user = update.effective_user
    chosen = await asyncio.to_thread(deps(context).logs.get_lang, user.id) if user else None
    if chosen:
        return chosen
    if text and any(c.isalpha() for c in text):
        return detect(text)
    return user_lang(user.language_code if user else None) or "en"


async def reply(update: Update, text: str, **kw) -> Message:
    return await update.effective_message.reply_text(text, parse_mode=ParseMode.HTML,
                                                     disable_web_page_preview=True, **kw)


async def safe_edit(message: Message, text: str, **kw) -> None:
    try:
        await message.edit_text(text, disable_web_page_preview=True, **kw)
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():
            raise


# -- members ---------------------------------------------------------------------------------
async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    lang = await ui_lang(update, context)
    user = update.effective_user
    name = f", {user.first_name}" if user and user.first_name else ""
    await reply(update, t(lang, "start", name=name))


async def help_(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    lang = await ui_lang(update, context)
    text = t(lang, "help")
    if deps(context).is_admin(update.effective_user.id):
        text += "\n\n" + t(lang, "help_admin")
    await reply(update, text)


async def lang_cmd(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    d = deps(context)
    user = update.effective_user
    value = (context.args[0].lower() if context.args else "").strip()
    if not value:
        current = await asyncio.to_thread(d.logs.get_lang, user.id)
        lang = await ui_lang(update, context)
        await reply(update, t(lang, "lang_current", lang=LANG_NAMES.get(current, "auto")))
        return
    if value == "auto":
        await asyncio.to_thread(d.logs.set_lang, user.id, None)
        await reply(update, t(await ui_lang(update, context), "lang_auto"))
        return
    if value not in LANG_NAMES:
        await reply(update, t(await ui_lang(update, context), "lang_unknown", value=value[:20]))
        return
    await asyncio.to_thread(d.logs.set_lang, user.id, value)
    await reply(update, t(value, "lang_set"))


def addressed_text(message: Message, bot) -> str | None:
    """In a group, the question when the bot is mentioned or replied to; None otherwise."""
    text = message.text or ""
    if message.reply_to_message and message.reply_to_message.from_user \
            and message.reply_to_message.from_user.id == bot.id:
        return text
    mention = f"@{bot.username}".lower()
    if bot.username and mention in text.lower():
        i = text.lower().index(mention)
        return (text[:i] + text[i + len(mention):]).strip()
    return None


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message, user, chat = update.effective_message, update.effective_user, update.effective_chat
    if message is None or user is None or not message.text:
        return
    d = deps(context)
    replied = message.reply_to_message
    if replied is not None and (chat.id, replied.message_id) in d.reasons:
        turn_id = d.reasons.pop((chat.id, replied.message_id))
        await asyncio.to_thread(d.logs.set_feedback, turn_id, -1, message.text)
        await reply(update, t(await ui_lang(update, context), "reason_saved"))
        return
    text = message.text
    if chat.type != ChatType.PRIVATE:
        text = addressed_text(message, context.bot)
        if text is None:
            return
    await answer_question(update, context, text)


async def answer_question(update: Update, context: ContextTypes.DEFAULT_TYPE, question: str) -> None:
    d = deps(context)
    message, user, chat = update.effective_message, update.effective_user, update.effective_chat
    started = time.perf_counter()
    chosen = await asyncio.to_thread(d.logs.get_lang, user.id)
    lang = chosen or (detect(question) if any(c.isalpha() for c in question) else
                      user_lang(user.language_code) or "en")
    if not question.strip():
        await reply(update, t(lang, "empty"))
        return
    if len(question) > MAX_QUESTION_CHARS:
        await reply(update, t(lang, "too_long", n=len(question), max=MAX_QUESTION_CHARS))
        return
    wait = d.limiter.check(user.id)
    if wait:
        await reply(update, t(lang, "rate_limited", seconds=max(1, round(wait))))
        return
    if not d.gate.try_enter():
        await reply(update, t(lang, "busy"))
        return
    try:
        await context.bot.send_chat_action(chat.id, ChatAction.TYPING)
        placeholder = await reply(update, t(lang, "searching"))
        final, first_ms = await _stream_answer(d, placeholder, question, chosen, lang, started)
    finally:
        d.gate.leave()
    total_ms = (time.perf_counter() - started) * 1000
    turn_id = await asyncio.to_thread(d.logs.log_turn, user_id=user.id, chat_id=chat.id, chat_type=chat.type,
                                      answer=final, first_content_ms=first_ms, total_ms=total_ms)
    await _send_final(context, placeholder, final, turn_id)


async def _stream_answer(d: Deps, placeholder: Message, question: str, chosen: str | None, lang: str,
                         started: float):
    header, body, last_edit = "", "", 0.0
    first_ms = None
    final = None
    holding = False  # a model slot; taken only when generation is next
    typing = asyncio.create_task(_keep_typing(placeholder))
    try:
        async for event in d.services.answerer.astream(question, lang=chosen):
            if event.kind == "sources":
                docs = "; ".join(dict.fromkeys(s["title"][:70] for s in event.sources))
                header = t_plain(lang, "found", docs=docs)
                first_ms = first_ms or (time.perf_counter() - started) * 1000
                waiting = event.needs_llm and d.gate.would_wait()
                queued = t_plain(lang, "queued", n=d.gate.waiting + 1) if waiting else ""
                await safe_edit(placeholder, stream_text(header, queued, lang))
                last_edit = time.monotonic()
                if event.needs_llm:
                    # The generator is paused at this event: the model starts only once we hold a slot.
                    await d.gate.acquire()
                    holding = True
            elif event.kind == "delta":
                body += event.text
                if time.monotonic() - last_edit >= d.settings.bot_edit_interval_s:
                    await safe_edit(placeholder, stream_text(header, body, lang))
                    last_edit = time.monotonic()
            elif event.kind == "reset":
                body = ""
            elif event.kind == "final":
                final = event.answer
    finally:
        typing.cancel()
        if holding:
            d.gate.release()
    if first_ms is None:
        first_ms = (time.perf_counter() - started) * 1000
    return final, first_ms


async def _keep_typing(message: Message) -> None:
    try:
        while True:
            await asyncio.sleep(4.5)
            await message.get_bot().send_chat_action(message.chat_id, ChatAction.TYPING)
    except asyncio.CancelledError:
        pass
    except Exception as exc:  # typing is cosmetic
        log.debug("typing indicator: %s", exc)


def answer_keyboard(lang: str, turn_id: int, has_sources: bool) -> InlineKeyboardMarkup:
    row = [InlineKeyboardButton(t(lang, "sources_button"), callback_data=f"s:{turn_id}")] if has_sources else []
    row += [InlineKeyboardButton("👍", callback_data=f"f:{turn_id}:1"),
            InlineKeyboardButton("👎", callback_data=f"f:{turn_id}:-1")]
    return InlineKeyboardMarkup([row])


async def _send_final(context, placeholder: Message, answer, turn_id: int) -> None:
    parts = answer_html(answer.text, answer.citations, answer.lang)
    keyboard = answer_keyboard(answer.lang, turn_id, bool(answer.citations))
    for i, part in enumerate(parts):
        markup = keyboard if i == len(parts) - 1 else None
        if i == 0:
            await safe_edit(placeholder, part, parse_mode=ParseMode.HTML, reply_markup=markup)
        else:
            await context.bot.send_message(placeholder.chat_id, part, parse_mode=ParseMode.HTML,
                                           disable_web_page_preview=True, reply_markup=markup)


async def on_callback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    d = deps(context)
    kind, _, rest = (query.data or "").partition(":")
    if kind in ("d", "r"):  # admin buttons: authorised again on every press
        if not d.is_admin(query.from_user.id):
            await query.answer(t(await ui_lang(update, context), "not_admin"), show_alert=True)
            return
        await (docs_page(update, context, int(rest or 0)) if kind == "d" else remove_pressed(update, context, rest))
        return
    try:
        turn_id = int(rest.split(":")[0])
    except ValueError:
        await query.answer()
        return
    turn = await asyncio.to_thread(d.logs.get_turn, turn_id)
    lang = turn["lang"] if turn else await ui_lang(update, context)
    if turn is None or turn["chat_id"] != str(query.message.chat_id if query.message else ""):
        await query.answer(t(lang, "not_found"), show_alert=True)
        return
    if kind == "s":
        await query.answer()
        for part in sources_html(turn["citations"], lang):
            await context.bot.send_message(query.message.chat_id, part, parse_mode=ParseMode.HTML,
                                           disable_web_page_preview=True,
                                           reply_to_message_id=query.message.message_id)
    elif kind == "f":
        if turn["user_ref"] != d.logs.user_ref(query.from_user.id):
            await query.answer(t(lang, "not_yours"), show_alert=True)
            return
        value = 1 if rest.endswith(":1") else -1
        await asyncio.to_thread(d.logs.set_feedback, turn_id, value)
        if value == 1:
            await query.answer(t(lang, "thanks_up"))
        else:
            await query.answer()
            prompt = await context.bot.send_message(
                query.message.chat_id, t(lang, "thanks_down"), parse_mode=ParseMode.HTML,
                reply_to_message_id=query.message.message_id,
                reply_markup=ForceReply(selective=True))
            d.remember_reason_prompt(query.message.chat_id, prompt.message_id, turn_id)
    else:
        await query.answer()


# -- admins ----------------------------------------------------------------------------------
async def _admin_only(update: Update, context) -> str | None:
    """The admin's language, or None after a polite refusal."""
    lang = await ui_lang(update, context)
    if not deps(context).is_admin(update.effective_user.id if update.effective_user else None):
        await reply(update, t(lang, "not_admin"))
        return None
    return lang


async def on_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    d = deps(context)
    message = update.effective_message
    document = message.document
    lang = await ui_lang(update, context, message.caption)
    if not d.is_admin(update.effective_user.id):
        await reply(update, t(lang, "upload_refused"))
        return
    name = document.file_name or "document"
    limit = d.settings.max_file_bytes
    if document.file_size and document.file_size > limit:  # checked before any download
        await reply(update, t(lang, "upload_too_big", name=name, size=f"{document.file_size / 2**20:.1f}",
                              max=f"{limit / 2**20:.0f}"))
        return
    status = await reply(update, t(lang, "upload_received", name=name))
    file = await document.get_file()
    data = bytes(await file.download_as_bytearray())
    if len(data) > limit:
        await safe_edit(status, t(lang, "upload_too_big", name=name, size=f"{len(data) / 2**20:.1f}",
                                  max=f"{limit / 2**20:.0f}"), parse_mode=ParseMode.HTML)
        return
    try:
        outcome = await asyncio.to_thread(d.ingest_upload, data, document.file_name, document.mime_type)
    except WriterBusy as busy:
        await safe_edit(status, t(lang, "writer_busy", holder=busy.holder), parse_mode=ParseMode.HTML)
        return
    await safe_edit(status, _ingest_summary(lang, outcome), parse_mode=ParseMode.HTML)


def _ingest_summary(lang: str, outcome) -> str:
    if not outcome.ok:
        return t(lang, "upload_failed", name=outcome.source, reason=outcome.error)
    r = outcome.result
    title = outcome.title or outcome.source
    if r.status == "unchanged":
        return t(lang, "upload_unchanged", title=title, doc_id=r.doc_id)
    if r.status == "updated":
        return t(lang, "upload_updated", title=title, chunks=r.chunks, doc_id=r.doc_id)
    return t(lang, "upload_done", title=title, lang=outcome.lang or "?",
             codes=", ".join((outcome.codes or [])[:8]) or "—", chunks=r.chunks, embedded=r.embedded,
             doc_id=r.doc_id)


async def add_cmd(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    lang = await _admin_only(update, context)
    if lang is None:
        return
    url = context.args[0] if context.args else ""
    if not url.startswith(("http://", "https://")):
        await reply(update, t(lang, "add_usage"))
        return
    status = await reply(update, t(lang, "upload_received", name=url))
    try:
        outcome = await asyncio.to_thread(deps(context).ingest_url, url)
    except WriterBusy as busy:
        await safe_edit(status, t(lang, "writer_busy", holder=busy.holder), parse_mode=ParseMode.HTML)
        return
    await safe_edit(status, _ingest_summary(lang, outcome), parse_mode=ParseMode.HTML)


async def docs_cmd(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if await _admin_only(update, context) is None:
        return
    await docs_page(update, context, 0)


async def docs_page(update: Update, context, page: int) -> None:
    lang = await ui_lang(update, context)
    docs = await asyncio.to_thread(deps(context).services.catalog.documents)
    if not docs:
        await reply(update, t(lang, "docs_empty"))
        return
    pages = max(1, (len(docs) + DOCS_PAGE - 1) // DOCS_PAGE)
    page = min(max(page, 0), pages - 1)
    chunk = docs[page * DOCS_PAGE:(page + 1) * DOCS_PAGE]
    lines = [t(lang, "docs_header", first=page * DOCS_PAGE + 1, last=page * DOCS_PAGE + len(chunk), total=len(docs))]
    for doc in chunk:
        codes = ", ".join(doc.codes[:3])
        lines.append(f"<code>{esc(doc.doc_id[:8])}</code> {esc(doc.title[:80])} · {esc(doc.lang)}"
                     + (f" · {esc(codes)}" if codes else "") + f" · {doc.n_chunks}")
    buttons = []
    if page > 0:
        buttons.append(InlineKeyboardButton("◀", callback_data=f"d:{page - 1}"))
    if page < pages - 1:
        buttons.append(InlineKeyboardButton("▶", callback_data=f"d:{page + 1}"))
    markup = InlineKeyboardMarkup([buttons]) if buttons else None
    if update.callback_query:
        await update.callback_query.answer()
        await safe_edit(update.callback_query.message, "\n".join(lines), parse_mode=ParseMode.HTML,
                        reply_markup=markup)
    else:
        await reply(update, "\n".join(lines), reply_markup=markup)


async def remove_cmd(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    lang = await _admin_only(update, context)
    if lang is None:
        return
    value = " ".join(context.args or []).strip()
    if not value:
        await reply(update, t(lang, "remove_usage"))
        return
    found = await asyncio.to_thread(deps(context).services.catalog.find, value)
    if not found:
        await reply(update, t(lang, "remove_not_found", value=value[:80]))
        return
    if len(found) > 1:
        await reply(update, t(lang, "remove_ambiguous", value=value[:80]))
        return
    doc = found[0]
    markup = InlineKeyboardMarkup([[InlineKeyboardButton(t(lang, "remove_yes"), callback_data=f"r:{doc.doc_id}"),
                                    InlineKeyboardButton(t(lang, "remove_no"), callback_data="r:-")]])
    await reply(update, t(lang, "remove_confirm", title=doc.title[:120], chunks=doc.n_chunks), reply_markup=markup)


async def remove_pressed(update: Update, context, doc_id: str) -> None:
    query = update.callback_query
    lang = await ui_lang(update, context)
    await query.answer()
    d = deps(context)
    if doc_id == "-":
        await safe_edit(query.message, t(lang, "remove_cancelled"), parse_mode=ParseMode.HTML)
        return
    doc = await asyncio.to_thread(d.services.catalog.get, doc_id)
    if doc is None:
        await safe_edit(query.message, t(lang, "remove_not_found", value=doc_id), parse_mode=ParseMode.HTML)
        return
    try:
        await asyncio.to_thread(d.remove_document, doc_id)
    except WriterBusy as busy:
        await safe_edit(query.message, t(lang, "writer_busy", holder=busy.holder), parse_mode=ParseMode.HTML)
        return
    await safe_edit(query.message, t(lang, "removed", title=doc.title[:120]), parse_mode=ParseMode.HTML)


async def stats_cmd(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    lang = await _admin_only(update, context)
    if lang is None:
        return
    s = await asyncio.to_thread(deps(context).logs.stats, 7)
    per_day = ", ".join(f"{day[5:]}: {n}" for day, n in s["per_day"].items()) or "—"
    by_lang = "\n".join(t(lang, "stats_lang", lang=code, **v) for code, v in s["by_lang"].items()) or "—"
    abstained = sum(v["abstained"] for v in s["by_lang"].values())
    text = t(lang, "stats", days=s["days"], questions=s["questions"], abstained=abstained,
             per_day=per_day, by_lang="\x00")
    await reply(update, text.replace("\x00", by_lang))  # by_lang is already escaped


async def export_cmd(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    lang = await _admin_only(update, context)
    if lang is None:
        return
    fmt = (context.args[0].lower() if context.args else "jsonl")
    if fmt not in ("csv", "jsonl"):
        await reply(update, t(lang, "export_usage"))
        return
    logs = deps(context).logs
    n = await asyncio.to_thread(logs.count)
    if not n:
        await reply(update, t(lang, "export_empty"))
        return
    data = await asyncio.to_thread(logs.export, fmt)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    await update.effective_message.reply_document(InputFile(data, filename=f"partybot-turns-{stamp}.{fmt}"),
                                                  caption=t(lang, "export_caption", n=n))


# -- errors ----------------------------------------------------------------------------------
async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """One place for failures: log, apologise to the user, tell the admins."""
    log.error("error while handling an update: %s", context.error, exc_info=context.error)
    d = deps(context)
    if isinstance(update, Update) and update.effective_chat:
        lang = "en"
        try:
            lang = await ui_lang(update, context)
            await context.bot.send_message(update.effective_chat.id, t(lang, "error"), parse_mode=ParseMode.HTML)
        except Exception as exc:
            log.warning("could not apologise to the user: %s", exc)
    summary = f"{context.error.__class__.__name__}: {context.error}"[:500]
    for admin in d.settings.admin_ids:
        try:
            await context.bot.send_message(admin, t("en", "admin_error", error=summary), parse_mode=ParseMode.HTML)
        except Exception as exc:
            log.warning("could not notify admin %s: %s", admin, exc)

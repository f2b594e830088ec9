"""A member's question: admitted (rate limit, queue), answered by streaming throttled edits of
one message (the documents found first, then the answer as it is written), logged, and ended
with the cited answer and its Sources and 👍/👎 buttons."""

from __future__ import annotations

import asyncio
import logging
import time

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatAction, ChatType, ParseMode

from partybot.bot.context import BotContext
from partybot.bot.handlers.common import reply, safe_edit
from partybot.bot.handlers.feedback import take_reason
from ingest.sources import shown
from partybot.bot.render import answer_html, stream_text
from partybot.bot.serving import Deps
from partybot.bot.texts import t, t_plain, user_lang
from answering.understand import MAX_QUESTION_CHARS
from text.language import detect

log = logging.getLogger(__name__)


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


async def on_text(update: Update, context: BotContext) -> None:
    message, user, chat = update.effective_message, update.effective_user, update.effective_chat
    if message is None or user is None or not message.text:
        return
    if await take_reason(update, context):
        return
    text = message.text
    if chat.type != ChatType.PRIVATE:
        text = addressed_text(message, context.bot)
        if text is None:
            return
    await answer_question(update, context, text)


async def answer_question(update: Update, context: BotContext, question: str) -> None:
    d = context.deps
    user, chat = update.effective_user, update.effective_chat
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
                docs = "; ".join(dict.fromkeys(shown(s["title"][:70]) for s in event.sources))
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


async def _send_final(context: BotContext, placeholder: Message, answer, turn_id: int) -> None:
    parts = answer_html(answer.text, answer.citations, answer.lang)
    keyboard = answer_keyboard(answer.lang, turn_id, bool(answer.citations))
    for i, part in enumerate(parts):
        markup = keyboard if i == len(parts) - 1 else None
        if i == 0:
            await safe_edit(placeholder, part, parse_mode=ParseMode.HTML, reply_markup=markup)
        else:
            await context.bot.send_message(placeholder.chat_id, part, parse_mode=ParseMode.HTML,
                                           disable_web_page_preview=True, reply_markup=markup)

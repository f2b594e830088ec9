"""The buttons under an answer: Sources (the quoted passages) and 👍/👎, with the optional reason
a 👎 asks for (the member's reply to that prompt)."""

from __future__ import annotations

import asyncio

from telegram import ForceReply, Update
from telegram.constants import ParseMode

from partybot.bot.context import BotContext
from partybot.bot.handlers.common import reply, ui_lang
from partybot.bot.render import sources_html
from partybot.bot.texts import t


async def take_reason(update: Update, context: BotContext) -> bool:
    """A reply to the bot's "why?" prompt after a 👎 is the reason: saved, and True."""
    message, chat = update.effective_message, update.effective_chat
    replied = message.reply_to_message
    reasons = context.deps.reasons
    if replied is None or (chat.id, replied.message_id) not in reasons:
        return False
    turn_id = reasons.pop((chat.id, replied.message_id))
    await asyncio.to_thread(context.logs.set_feedback, turn_id, -1, message.text)
    await reply(update, t(await ui_lang(update, context), "reason_saved"))
    return True


async def on_answer_button(update: Update, context: BotContext) -> None:
    """``s:TURN`` (Sources), ``f:TURN:1`` and ``f:TURN:-1`` (feedback) under an answer."""
    query = update.callback_query
    d = context.deps
    kind, _, rest = (query.data or "").partition(":")
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

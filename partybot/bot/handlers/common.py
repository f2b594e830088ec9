"""What every handler module shares: the user's language, replies and edits in HTML, the
admin check."""

from __future__ import annotations

import asyncio

from telegram import Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest

from partybot.bot.context import BotContext
from partybot.bot.texts import t, user_lang
from text.language import detect


async def ui_lang(update: Update, context: BotContext, text: str | None = None) -> str:
    """The language to talk to this user in: their /lang choice, else the message's language,
    else Telegram's language_code, else English."""
    user = update.effective_user
    chosen = await asyncio.to_thread(context.logs.get_lang, user.id) if user else None
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


async def admin_only(update: Update, context: BotContext) -> str | None:
    """The admin's language, or None after a polite refusal."""
    lang = await ui_lang(update, context)
    if not context.deps.is_admin(update.effective_user.id if update.effective_user else None):
        await reply(update, t(lang, "not_admin"))
        return None
    return lang

"""Members' commands: /start, /help, and /lang (the reply language, remembered per user)."""

from __future__ import annotations

import asyncio

from telegram import Update

from partybot.bot.context import BotContext
from partybot.bot.handlers.common import reply, ui_lang
from partybot.bot.texts import LANG_NAMES, t


async def start(update: Update, context: BotContext) -> None:
    lang = await ui_lang(update, context)
    user = update.effective_user
    name = f", {user.first_name}" if user and user.first_name else ""
    await reply(update, t(lang, "start", name=name))


async def help_(update: Update, context: BotContext) -> None:
    lang = await ui_lang(update, context)
    text = t(lang, "help")
    if context.deps.is_admin(update.effective_user.id):
        text += "\n\n" + t(lang, "help_admin")
    await reply(update, text)


async def lang_cmd(update: Update, context: BotContext) -> None:
    d = context.deps
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

"""The one error handler: log, apologise to the user in their language, tell the admins."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ParseMode

from partybot.bot.context import BotContext
from partybot.bot.handlers.common import ui_lang
from partybot.bot.texts import t
from vectorstore.faults import diagnose

log = logging.getLogger(__name__)


async def on_error(update: object, context: BotContext) -> None:
    """One place for failures: log, apologise to the user, tell the admins."""
    log.error("error while handling an update: %s", context.error, exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat:
        lang = "en"
        try:
            lang = await ui_lang(update, context)
            await context.bot.send_message(update.effective_chat.id, t(lang, "error"), parse_mode=ParseMode.HTML)
        except Exception as exc:
            log.warning("could not apologise to the user: %s", exc)
    fault = diagnose(context.error, context.settings.data_dir) if isinstance(context.error, Exception) else None
    summary = (str(fault) if fault else f"{context.error.__class__.__name__}: {context.error}")[:500]
    for admin in context.settings.admin_ids:
        try:
            await context.bot.send_message(admin, t("en", "admin_error", error=summary), parse_mode=ParseMode.HTML)
        except Exception as exc:
            log.warning("could not notify admin %s: %s", admin, exc)

"""Admins' view of the conversation logs: /stats (the last 7 days) and /export csv|jsonl."""

from __future__ import annotations

import asyncio
import time

from telegram import InputFile, Update

from partybot.bot.context import BotContext
from partybot.bot.handlers.common import admin_only, reply
from partybot.bot.texts import t


async def stats_cmd(update: Update, context: BotContext) -> None:
    lang = await admin_only(update, context)
    if lang is None:
        return
    s = await asyncio.to_thread(context.logs.stats, 7)
    per_day = ", ".join(f"{day[5:]}: {n}" for day, n in s["per_day"].items()) or "—"
    by_lang = "\n".join(t(lang, "stats_lang", lang=code, **v) for code, v in s["by_lang"].items()) or "—"
    abstained = sum(v["abstained"] for v in s["by_lang"].values())
    text = t(lang, "stats", days=s["days"], questions=s["questions"], abstained=abstained,
             per_day=per_day, by_lang="\x00")
    await reply(update, text.replace("\x00", by_lang))  # by_lang is already escaped


async def export_cmd(update: Update, context: BotContext) -> None:
    lang = await admin_only(update, context)
    if lang is None:
        return
    fmt = (context.args[0].lower() if context.args else "jsonl")
    if fmt not in ("csv", "jsonl"):
        await reply(update, t(lang, "export_usage"))
        return
    logs = context.logs
    n = await asyncio.to_thread(logs.count)
    if not n:
        await reply(update, t(lang, "export_empty"))
        return
    data = await asyncio.to_thread(logs.export, fmt)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    await update.effective_message.reply_document(InputFile(data, filename=f"partybot-turns-{stamp}.{fmt}"),
                                                  caption=t(lang, "export_caption", n=n))

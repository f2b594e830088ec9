"""Members' /doc CODE: what the indexed documents say about a document code (when and by whom it
was issued, whether it is in force or what replaced it, what it amends or implements), each fact
cited, as ``answering.validity.describe`` tells it from the registry (``retrieval.registry``).

"/doc 37-QĐ/TW", "/doc 37/QĐ-TW" and "/doc QĐ 37" all name the same document; a code written
without its issuer shows every document it fits (the first few).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from telegram import Update

from answering.prompts import messages
from answering.validity import Cites, describe, label
from partybot.bot.context import BotContext
from partybot.bot.handlers.common import reply, ui_lang
from partybot.bot.render import doc_html, esc
from partybot.bot.texts import t
from text.codes import find_codes

MAX_RECORDS = 3  # a partial code ("QĐ 22") may fit many documents: the first ones, then their codes
MAX_QUERY = 80


@dataclass
class DocReport:
    cards: list[tuple[str, list[str]]]  # (the document's name, the sentences about it), one per record
    sources: list[dict]  # the cited passages, numbered: n, title, source, locator, quote
    more: list[str]  # the codes that fit but are not shown


def doc_report(search, query: str, lang: str) -> DocReport:
    """Everything the registry knows about the codes in ``query`` (runs off the event loop: the
    registry is built from the catalog when it changed)."""
    registry = search.registry()
    records, seen = [], set()
    for code in find_codes(query):
        for rec in registry.find(code):
            if rec.code.key not in seen:
                seen.add(rec.code.key)
                records.append(rec)
    cites = Cites(search)  # one numbering for the whole reply: a passage is cited once
    cards = [(label(rec.code, lang), describe(rec, registry, lang, cites)) for rec in records[:MAX_RECORDS]]
    sources = [{"n": n, "title": p.title or p.source, "source": p.source, "locator": p.locator, "quote": quote}
               for n, (p, quote) in enumerate(zip(cites.passages, cites.quotes), start=cites.first)]
    return DocReport(cards, sources, [rec.code.display for rec in records[MAX_RECORDS:]])


async def doc_cmd(update: Update, context: BotContext) -> None:
    lang = await ui_lang(update, context)
    query = " ".join(context.args or []).strip()
    if not query:
        await reply(update, t(lang, "doc_usage"))
        return
    query = query[:MAX_QUERY]
    report = await asyncio.to_thread(doc_report, context.services.search, query, lang)
    if not report.cards:
        await reply(update, esc(messages(lang)["validity"]["unknown_code"].format(code=query)))
        return
    more = t(lang, "doc_more", n=len(report.more), codes=", ".join(report.more[:10])) if report.more else ""
    for part in doc_html(report.cards, report.sources, lang, footer=more):
        await reply(update, part)

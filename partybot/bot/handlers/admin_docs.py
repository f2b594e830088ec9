"""Admins' documents: an uploaded file or /add URL is ingested (size checked before the download),
/docs lists them in pages, /remove asks for a confirmation first. The admin check runs on every
command and every button press."""

from __future__ import annotations

import asyncio
import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode

from partybot.bot.context import BotContext
from partybot.bot.handlers.common import admin_only, reply, safe_edit, ui_lang
from ingest.sources import redact_credentials, shown
from partybot.bot.render import esc
from partybot.bot.texts import t
from vectorstore.faults import StorageError, storage_text
from vectorstore.lock import WriterBusy

log = logging.getLogger(__name__)

DOCS_PAGE = 10


async def on_document(update: Update, context: BotContext) -> None:
    d = context.deps
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
    outcome = await _write(status, lang, d.ingest_upload, data, document.file_name, document.mime_type)
    if outcome is not None:
        await safe_edit(status, _ingest_summary(lang, outcome), parse_mode=ParseMode.HTML)


async def _write(status, lang: str, fn, *args):
    """``fn(*args)`` off the event loop; None, with ``status`` saying why, when the data directory
    is busy or cannot be written (the operator's line goes to the log)."""
    try:
        return await asyncio.to_thread(fn, *args)
    except WriterBusy as busy:
        await safe_edit(status, t(lang, "writer_busy", holder=busy.holder), parse_mode=ParseMode.HTML)
    except StorageError as fault:
        log.error("%s: %s", getattr(fn, "__name__", "write"), fault)
        await safe_edit(status, t(lang, storage_text(fault)), parse_mode=ParseMode.HTML)
    return None


def _ingest_summary(lang: str, outcome) -> str:
    if not outcome.ok:
        return t(lang, "upload_failed", name=shown(outcome.source), reason=shown(outcome.error))
    r = outcome.result
    title = shown(outcome.title or outcome.source)
    if r.status == "unchanged":
        return t(lang, "upload_unchanged", title=title, doc_id=r.doc_id)
    if r.status == "updated":
        return t(lang, "upload_updated", title=title, chunks=r.chunks, doc_id=r.doc_id)
    return t(lang, "upload_done", title=title, lang=outcome.lang or "?",
             codes=", ".join((outcome.codes or [])[:8]) or "—", chunks=r.chunks, embedded=r.embedded,
             doc_id=r.doc_id)


async def add_cmd(update: Update, context: BotContext) -> None:
    lang = await admin_only(update, context)
    if lang is None:
        return
    url = context.args[0] if context.args else ""
    if not url.startswith(("http://", "https://")):
        await reply(update, t(lang, "add_usage"))
        return
    status = await reply(update, t(lang, "upload_received", name=shown(redact_credentials(url))))
    outcome = await _write(status, lang, context.deps.ingest_url, url)
    if outcome is not None:
        await safe_edit(status, _ingest_summary(lang, outcome), parse_mode=ParseMode.HTML)


async def docs_cmd(update: Update, context: BotContext) -> None:
    if await admin_only(update, context) is None:
        return
    await docs_page(update, context, 0)


async def docs_page(update: Update, context: BotContext, page: int) -> None:
    lang = await ui_lang(update, context)
    docs = await asyncio.to_thread(context.services.catalog.documents)
    if not docs:
        await reply(update, t(lang, "docs_empty"))
        return
    pages = max(1, (len(docs) + DOCS_PAGE - 1) // DOCS_PAGE)
    page = min(max(page, 0), pages - 1)
    chunk = docs[page * DOCS_PAGE:(page + 1) * DOCS_PAGE]
    lines = [t(lang, "docs_header", first=page * DOCS_PAGE + 1, last=page * DOCS_PAGE + len(chunk), total=len(docs))]
    for doc in chunk:
        codes = ", ".join(doc.codes[:3])
        lines.append(f"<code>{esc(doc.doc_id[:8])}</code> {esc(shown(doc.title[:80]))} · {esc(doc.lang)}"
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


async def remove_cmd(update: Update, context: BotContext) -> None:
    lang = await admin_only(update, context)
    if lang is None:
        return
    value = " ".join(context.args or []).strip()
    if not value:
        await reply(update, t(lang, "remove_usage"))
        return
    found = await asyncio.to_thread(context.services.catalog.find, value)
    if not found:
        await reply(update, t(lang, "remove_not_found", value=value[:80]))
        return
    if len(found) > 1:
        await reply(update, t(lang, "remove_ambiguous", value=value[:80]))
        return
    doc = found[0]
    markup = InlineKeyboardMarkup([[InlineKeyboardButton(t(lang, "remove_yes"), callback_data=f"r:{doc.doc_id}"),
                                    InlineKeyboardButton(t(lang, "remove_no"), callback_data="r:-")]])
    await reply(update, t(lang, "remove_confirm", title=shown(doc.title[:120]), chunks=doc.n_chunks), reply_markup=markup)


async def remove_pressed(update: Update, context: BotContext, doc_id: str) -> None:
    query = update.callback_query
    lang = await ui_lang(update, context)
    await query.answer()
    d = context.deps
    if doc_id == "-":
        await safe_edit(query.message, t(lang, "remove_cancelled"), parse_mode=ParseMode.HTML)
        return
    doc = await asyncio.to_thread(d.services.catalog.get, doc_id)
    if doc is None:
        await safe_edit(query.message, t(lang, "remove_not_found", value=doc_id), parse_mode=ParseMode.HTML)
        return
    if await _write(query.message, lang, d.remove_document, doc_id) is None:
        return
    await safe_edit(query.message, t(lang, "removed", title=shown(doc.title[:120])), parse_mode=ParseMode.HTML)


async def on_admin_button(update: Update, context: BotContext) -> None:
    """``d:PAGE`` (the /docs pages) and ``r:DOC_ID`` / ``r:-`` (the /remove confirmation),
    authorised again on every press."""
    query = update.callback_query
    kind, _, rest = (query.data or "").partition(":")
    if not context.deps.is_admin(query.from_user.id):
        await query.answer(t(await ui_lang(update, context), "not_admin"), show_alert=True)
        return
    await (docs_page(update, context, int(rest or 0)) if kind == "d" else remove_pressed(update, context, rest))

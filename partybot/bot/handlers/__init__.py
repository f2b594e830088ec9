"""Telegram handlers, thin, one module per feature. Each reads the update, calls a service and
renders the result; their dependencies come typed from the context (``partybot.bot.context``).

- ``members``: /start, /help, /lang
- ``doc``: /doc CODE, what the documents say about a document code (in force? replaced by what?)
- ``questions``: a question, answered by streaming edits, then the cited answer
- ``feedback``: the Sources and 👍/👎 buttons under an answer, and a 👎's reason
- ``admin_docs``: uploads, /add, /docs, /remove (admins only, checked on every command and button)
- ``admin_logs``: /stats, /export
- ``errors``: the one error handler
"""

from __future__ import annotations

from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from partybot.bot.handlers import admin_docs, admin_logs, doc, errors, feedback, members, questions


def register(app: Application) -> None:
    app.add_handler(CommandHandler("start", members.start))
    app.add_handler(CommandHandler("help", members.help_))
    app.add_handler(CommandHandler("lang", members.lang_cmd))
    app.add_handler(CommandHandler("doc", doc.doc_cmd))
    app.add_handler(CommandHandler("add", admin_docs.add_cmd))
    app.add_handler(CommandHandler("docs", admin_docs.docs_cmd))
    app.add_handler(CommandHandler("remove", admin_docs.remove_cmd))
    app.add_handler(CommandHandler("stats", admin_logs.stats_cmd))
    app.add_handler(CommandHandler("export", admin_logs.export_cmd))
    app.add_handler(MessageHandler(filters.Document.ALL, admin_docs.on_document))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, questions.on_text))
    app.add_handler(CallbackQueryHandler(admin_docs.on_admin_button, pattern=r"^[dr]:"))
    app.add_handler(CallbackQueryHandler(feedback.on_answer_button))
    app.add_error_handler(errors.on_error)

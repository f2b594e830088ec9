"""The bot's typed context (python-telegram-bot's ``ContextTypes``): handlers read their
dependencies as ``context.deps``, ``context.settings``, ``context.services``, ``context.logs``,
checked by the type checker, rather than from an untyped ``bot_data`` dict.

``CONTEXT_TYPES`` goes to the application builder; PTB then makes ``application.bot_data`` a
:class:`BotData` (empty: PTB builds it without arguments), which ``build_application`` fills.
"""

from __future__ import annotations

import asyncio

from telegram.ext import Application, CallbackContext, ContextTypes, ExtBot

from partybot.bot.serving import Deps
from partybot.compose import App
from partybot.logstore import LogStore
from partybot.settings import Settings


class BotData:
    """Application-wide state: the handlers' dependencies and the retention purge's task."""

    def __init__(self) -> None:
        self.deps: Deps | None = None
        self.purge_task: asyncio.Task | None = None


class BotContext(CallbackContext[ExtBot, dict, dict, BotData]):
    @property
    def deps(self) -> Deps:
        deps = self.bot_data.deps
        if deps is None:
            raise RuntimeError("the bot's dependencies are not set: build the application with build_application")
        return deps

    @property
    def settings(self) -> Settings:
        return self.deps.settings

    @property
    def services(self) -> App:
        return self.deps.services

    @property
    def logs(self) -> LogStore:
        return self.deps.logs


CONTEXT_TYPES = ContextTypes(context=BotContext, bot_data=BotData)
BotApplication = Application[ExtBot, BotContext, dict, dict, BotData, None]

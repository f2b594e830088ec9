"""The Telegram bot's application: settings + services (``partybot.compose``) + log store →
Application, with typed context (``partybot.bot.context``) and the handlers of
``partybot.bot.handlers``.

``build_application`` is what the tests drive (with a recording request or a fake Bot API);
``run_bot`` is the entry point (`bot.py`, `partybot bot`, `partybot run` with a token).
"""

from __future__ import annotations

import asyncio
import logging
import random

import httpx
from telegram import BotCommand, BotCommandScopeChat, Update
from telegram.error import InvalidToken, NetworkError, TimedOut
from telegram.ext import AIORateLimiter, ApplicationBuilder
from telegram.request import BaseRequest, HTTPXRequest

from answering.prompts import LANGS
from core.errors import ConfigError
from partybot.bot import handlers
from partybot.bot.context import CONTEXT_TYPES, BotApplication, BotData
from partybot.bot.serving import Deps, Gate, RateLimiter
from partybot.bot.texts import texts
from partybot.compose import App
from partybot.logstore import LogStore
from partybot.settings import Settings

log = logging.getLogger(__name__)


class RetryingRequest(HTTPXRequest):
    """Retries a Bot API call on timeouts, connection errors and 5xx answers (with jittered
    backoff). 429s are the rate limiter's job (``AIORateLimiter`` waits ``retry_after``)."""

    def __init__(self, *args, retries: int = 3, backoff_s: float = 0.5, **kwargs):
        super().__init__(*args, **kwargs)
        self.retries = retries
        self.backoff_s = backoff_s

    async def do_request(self, url, method, request_data=None, **kw):
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                code, body = await super().do_request(url, method, request_data, **kw)
            except (TimedOut, NetworkError) as exc:
                if last or "getUpdates" in url:  # the updater has its own retry loop for polling
                    raise
                log.warning("Bot API %s failed (%s); retrying", _method(url), exc.__class__.__name__)
            else:
                if code < 500 or last:
                    return code, body
                log.warning("Bot API %s answered %s; retrying", _method(url), code)
            await asyncio.sleep(self.backoff_s * (2 ** attempt) * (0.5 + random.random()))
        raise AssertionError("unreachable")


def _method(url: str) -> str:
    return url.rsplit("/", 1)[-1]  # never the part with the token


def build_application(settings: Settings, services: App, logs: LogStore, *, request: BaseRequest | None = None,
                      updates_request: BaseRequest | None = None) -> BotApplication:
    token = settings.telegram_bot_token.get_secret_value() if settings.telegram_bot_token else ""
    if not token:
        raise ConfigError("TELEGRAM_BOT_TOKEN is not set: create a bot with @BotFather (see docs/bot.md) "
                          "and put its token in .env")
    builder = (ApplicationBuilder().token(token)
               .base_url(settings.telegram_base_url).base_file_url(settings.telegram_base_file_url)
               .context_types(CONTEXT_TYPES)
               .concurrent_updates(64)
               .rate_limiter(AIORateLimiter(max_retries=3))
               .post_init(_post_init).post_shutdown(_post_shutdown))
    builder = builder.request(request or RetryingRequest(connection_pool_size=64, read_timeout=30,
                                                         write_timeout=30, media_write_timeout=60))
    builder = builder.get_updates_request(updates_request or HTTPXRequest(
        read_timeout=settings.bot_poll_timeout_s + 10))
    app = builder.build()
    app.bot_data.deps = Deps(settings, services, logs, Gate(settings.bot_active_answers, settings.bot_queue_max),
                             RateLimiter(settings.bot_rate_per_minute))
    handlers.register(app)
    return app


MEMBER_COMMANDS = ("start", "help", "doc", "lang")
ADMIN_COMMANDS = {"add": "/add URL", "docs": "/docs", "remove": "/remove ID", "stats": "/stats", "export": "/export"}


async def _post_init(app: BotApplication) -> None:
    data: BotData = app.bot_data
    deps = data.deps
    for lang in (None, *LANGS):  # a default menu, then one per language
        names = texts(lang or "en")["commands"]
        commands = [BotCommand(c, names[c]) for c in MEMBER_COMMANDS]
        await app.bot.set_my_commands(commands, language_code=lang)
    admin_menu = [BotCommand(c, d) for c, d in ADMIN_COMMANDS.items()]
    for admin in deps.settings.admin_ids:
        try:
            names = texts("en")["commands"]
            await app.bot.set_my_commands([BotCommand(c, names[c]) for c in MEMBER_COMMANDS] + admin_menu,
                                          scope=BotCommandScopeChat(admin))
        except Exception as exc:  # the admin has not started a chat with the bot yet
            log.info("admin menu for %s not set: %s", admin, exc)
    if deps.settings.log_retention_days:
        data.purge_task = asyncio.create_task(_purge_loop(deps))
    # Warm up off the loop: the embedder and the local LLM load before the first question.
    await asyncio.to_thread(_warm, deps)


def _warm(deps: Deps) -> None:
    deps.services.search.search("warm up", k=1)
    deps.services.answerer.warm_up()


async def _purge_loop(deps: Deps) -> None:
    while True:
        try:
            n = await asyncio.to_thread(deps.logs.purge_older_than, deps.settings.log_retention_days)
            if n:
                log.info("retention: purged %d turns older than %d days", n, deps.settings.log_retention_days)
        except Exception:
            log.exception("retention purge failed")
        await asyncio.sleep(6 * 3600)


async def _post_shutdown(app: BotApplication) -> None:
    task, app.bot_data.purge_task = app.bot_data.purge_task, None
    if task:
        task.cancel()


class RedactToken(logging.Filter):
    """Removes the bot token from every log record (httpx logs Bot API URLs, which contain it)."""

    def __init__(self, token: str):
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        if self.token:
            message = record.getMessage()
            if self.token in message:
                record.msg, record.args = message.replace(self.token, "<token>"), ()
        return True


class RedactingFormatter(logging.Formatter):
    """Wraps a handler's formatter: the token is also removed from tracebacks (PTB's
    InvalidToken message quotes the token it was given)."""

    def __init__(self, inner: logging.Formatter | None, token: str):
        super().__init__()
        self.inner = inner or logging.Formatter()
        self.token = token

    def format(self, record: logging.LogRecord) -> str:
        text = self.inner.format(record)
        return text.replace(self.token, "<token>") if self.token else text


def configure_logging(settings: Settings, verbose: bool = False) -> None:
    token = settings.telegram_bot_token.get_secret_value() if settings.telegram_bot_token else ""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("partybot").setLevel(logging.INFO)
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactToken(token))
        if not isinstance(handler.formatter, RedactingFormatter):
            handler.setFormatter(RedactingFormatter(handler.formatter, token))


def run_bot(settings: Settings, *, verbose: bool = False) -> int:
    """Long polling by default, a webhook when TELEGRAM_WEBHOOK_URL is set. Blocks until stopped."""
    from partybot.compose import build

    configure_logging(settings, verbose)
    if not settings.telegram_bot_token:
        raise ConfigError("TELEGRAM_BOT_TOKEN is not set: create a bot with @BotFather (see docs/bot.md) "
                          "and put its token in .env")
    services = build(settings)
    logs = LogStore.from_settings(settings)
    try:
        app = build_application(settings, services, logs)
        try:
            if settings.webhook_url:
                secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
                log.info("webhook mode: listening on %s:%s/%s", settings.webhook_listen, settings.webhook_port,
                         settings.webhook_path)
                app.run_webhook(listen=settings.webhook_listen, port=settings.webhook_port,
                                url_path=settings.webhook_path, webhook_url=settings.webhook_url,
                                secret_token=secret, allowed_updates=Update.ALL_TYPES)
            else:
                log.info("polling mode")
                app.run_polling(allowed_updates=Update.ALL_TYPES, timeout=settings.bot_poll_timeout_s,
                                bootstrap_retries=3)
        except InvalidToken:
            raise ConfigError("Telegram rejected TELEGRAM_BOT_TOKEN: copy the token BotFather gave you "
                              "again (it looks like 123456789:AA...), or create a new one with /token") from None
        except (httpx.ConnectError, NetworkError) as exc:
            raise ConfigError(f"cannot reach the Bot API at {settings.telegram_base_url}: "
                              f"{exc.__class__.__name__}; check the network or TELEGRAM_BASE_URL") from None
    finally:
        logs.close()
        services.close()
    return 0

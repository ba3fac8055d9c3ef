"""Builds the Telegram Application, registers every handler in one place, and runs it.

The bot receives updates itself (receiver.py: durable, by long polling or a webhook) and hands
each to `Application.process_update`; periodic work runs as JobQueue jobs, whose failures reach
the one error handler (logged, reported to admins, run again at the next interval).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import signal
import sys

from telegram import Update
from telegram.error import InvalidToken, NetworkError, TimedOut
from telegram.ext import (
    AIORateLimiter,
    Application,
    CallbackQueryHandler,
    CommandHandler,
    InlineQueryHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from .. import logs
from ..config import Settings
from ..knowledge import KnowledgeBaseError
from ..services import Services
from ..storage import StorageError, url_password
from . import admin, callbacks, commands, guards, inline, messages
from .buttons import KINDS
from .context import CONTEXT_TYPES, BotData, Context, job_queue_of
from .errors import on_error
from .profile import ADMIN_COMMANDS, set_profile
from .receiver import Receiver
from .webhook import serve

log = logging.getLogger(__name__)
RELOAD_CHECK_S = 5.0
PURGE_EVERY_S = 3600.0
HEALTH_EVERY_S = 2.0  # one stat() of an SQLite file, or one query of the PostgreSQL server
ORPHANS_EVERY_S = 30.0
SHUTDOWN_S = 6.0  # in-flight replies get this long to finish after SIGTERM
STARTUP_WAITS = (1, 2, 5, 10, 30)  # seconds between attempts to reach Telegram, then 30 on


def register(app: Application, settings: Settings) -> None:
    """Every handler of the bot. Group -2 resolves who is asking, -1 is the flood guard."""
    app.add_handler(TypeHandler(Update, guards.resolve_user), group=-2)
    app.add_handler(TypeHandler(Update, guards.flood_guard), group=-1)
    admins = filters.User(list(settings.admin_ids))  # an empty list lets nobody through
    private = filters.ChatType.PRIVATE
    for name, callback in admin.COMMANDS.items():
        app.add_handler(CommandHandler(name, callback, filters=admins & private))
    app.add_handler(CommandHandler(ADMIN_COMMANDS, admin.not_here, filters=admins & ~private))
    for name, callback in commands.COMMANDS.items():
        app.add_handler(CommandHandler(name, callback))
    app.add_handler(MessageHandler(filters.COMMAND, commands.unknown_command))
    asks = filters.TEXT | (filters.CAPTION & (filters.PHOTO | filters.Document.IMAGE))
    app.add_handler(MessageHandler(asks & ~filters.COMMAND, messages.question))
    app.add_handler(MessageHandler(~asks & ~filters.StatusUpdate.ALL, messages.not_text))
    for kind in KINDS:
        app.add_handler(CallbackQueryHandler(callbacks.CALLBACKS[kind], pattern=kind.pattern()))
    app.add_handler(CallbackQueryHandler(callbacks.stale_pressed))
    app.add_handler(InlineQueryHandler(inline.inline_query))
    app.add_error_handler(on_error)


def build_application(settings: Settings) -> Application:
    app = (
        Application.builder()
        .token(settings.token)
        .base_url(settings.api_url)
        .base_file_url(file_url(settings.api_url))
        .context_types(CONTEXT_TYPES)
        .rate_limiter(AIORateLimiter(max_retries=0))  # 429s are retried by delivery.deliver
        .updater(None)  # updates come from receiver.py, stored before they are confirmed
        .build()
    )
    app.bot_data.settings = settings
    register(app, settings)
    return app


# -- periodic work -------------------------------------------------------------------------


async def purge_job(context: Context) -> None:
    """Delete logs past retention. Instances sharing a database take turns (one purge at a
    time, the others skip this round), so their deletes never contend for the same rows."""
    svc = context.svc
    async with svc.storage.exclusive("purge") as mine:
        if not mine:
            return
        removed = await svc.storage.purge_older_than(svc.settings.retention_days)
    if removed:
        log.info("retention: deleted %d rows older than %d days", removed,
                 svc.settings.retention_days)


async def reload_job(context: Context) -> None:
    """AUTO_RELOAD: swap in edited YAML by itself, and tell the admins how it went. Every
    instance reloads its own engine, but only the first to reload a given edit tells them."""
    svc = context.svc
    if await svc.changed_on_disk():
        result = await svc.reload()
        if await svc.storage.first_to_report("reload", await svc.kb_version()):
            await admin.tell_admins(context.application, svc,
                                    lambda lang: admin.reload_report(svc, result, lang))


async def health_job(context: Context) -> None:
    """Notice a database that vanished (or stopped answering) under the running bot, and say
    so once."""
    svc = context.svc
    problem = await svc.storage.health()
    if problem and not svc.health_reported:
        log.error("database: %s", problem)
        svc.health_reported = True
        await admin.tell_admins(context.application, svc,
                                lambda lang: svc.engine.message("admin_db_problem", lang,
                                                                problem=problem))
    elif not problem:
        svc.health_reported = False


async def orphans_job(context: Context) -> None:
    """With several instances: answer what an instance stored, then died before answering."""
    receiver = context.bot_data.receiver
    if receiver is not None:
        await receiver.replay()


def schedule(app: Application, settings: Settings, shared: bool) -> None:
    jobs = job_queue_of(app)
    jobs.run_repeating(purge_job, PURGE_EVERY_S, first=1.0, name="purge")
    if shared:
        jobs.run_repeating(orphans_job, ORPHANS_EVERY_S, first=ORPHANS_EVERY_S, name="orphans")
    jobs.run_repeating(health_job, HEALTH_EVERY_S, first=HEALTH_EVERY_S, name="health")
    if settings.auto_reload:
        jobs.run_repeating(reload_job, RELOAD_CHECK_S, first=RELOAD_CHECK_S, name="reload")


# -- running ----------------------------------------------------------------------------------


def file_url(api_url: str) -> str:
    """The file endpoint that goes with a Bot API base URL (…/bot → …/file/bot)."""
    return api_url[: -len("/bot")] + "/file/bot" if api_url.endswith("/bot") else api_url


def webhook_secrets(token: str) -> tuple[str, str]:
    """A URL path and header secret derived from the token, so neither reveals it."""
    digest = hmac.new(token.encode(), b"cdht-webhook", hashlib.sha256).hexdigest()
    return f"telegram-{digest[:20]}", digest[20:52]


async def _reach_telegram(app: Application, stop: asyncio.Event) -> bool:
    """Initialize (getMe), waiting out an outage with a line per attempt; False if stopped."""
    attempt = 0
    while not stop.is_set():
        attempt += 1
        try:
            await app.initialize()
            return True
        except (NetworkError, TimedOut) as exc:
            wait = STARTUP_WAITS[min(attempt - 1, len(STARTUP_WAITS) - 1)]
            log.info("waiting for Telegram, attempt %d, next in %d s (%s)", attempt, wait,
                     type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), wait)
    return False


async def _serve(app: Application, settings: Settings) -> int:
    data: BotData = app.bot_data
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, data.stop.set)
    if not await _reach_telegram(app, data.stop):
        return 0
    try:
        svc = await Services.start(settings)
    except BaseException:
        await app.shutdown()
        raise
    data.services = svc
    receiver = data.receiver = Receiver(app, svc.storage)
    server = None
    try:
        await set_profile(app.bot, svc)
        schedule(app, settings, svc.storage.shared)
        await app.start()
        await receiver.replay()
        if settings.webhook_url:
            path, secret = webhook_secrets(settings.token)
            server = serve(receiver, path, secret, settings.webhook_listen, settings.port)
            await app.bot.set_webhook(f"{settings.webhook_url.rstrip('/')}/{path}",
                                      secret_token=secret, allowed_updates=Update.ALL_TYPES)
            log.info("ready: %d intents, webhook on %s:%d", len(svc.engine.kb.intents),
                     settings.webhook_listen, settings.port)
            await data.stop.wait()
        else:
            await app.bot.delete_webhook()
            log.info("ready: %d intents, long polling", len(svc.engine.kb.intents))
            polling = asyncio.create_task(receiver.poll(data.stop))
            stopped = asyncio.create_task(data.stop.wait())
            done, _ = await asyncio.wait({polling, stopped}, return_when=asyncio.FIRST_COMPLETED)
            polling.cancel()
            if polling in done and polling.exception() is not None:
                raise polling.exception()  # type: ignore[misc]
    finally:
        if server is not None:
            server.stop()
        await receiver.drain(SHUTDOWN_S)
        if app.running:
            await app.stop()
        await app.shutdown()
        await svc.close()
    return data.exit_code


def run(settings: Settings) -> int:
    """Run until stopped; Telegram outages are waited out, configuration faults reported."""
    logs.configure(settings.log_level, [settings.token, *webhook_secrets(settings.token),
                                        url_password(settings.database_url)])
    app = build_application(settings)
    try:
        return asyncio.run(_serve(app, settings))
    except KnowledgeBaseError as exc:
        print(f"The knowledge base has {len(exc.problems)} problem(s):", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    except InvalidToken:
        print("Telegram refused TELEGRAM_BOT_TOKEN: check it with @BotFather.", file=sys.stderr)
        return 1
    except StorageError as exc:
        print(f"Cannot use the database: {exc}", file=sys.stderr)
        return 1

"""Builds the Telegram Application and registers every handler, in one place."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import sys

from telegram import BotCommand, Update
from telegram.error import InvalidToken
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
from ..storage import StorageError
from . import admin, handlers
from .handlers import SERVICES

log = logging.getLogger(__name__)
HOUSEKEEPING = "housekeeping"
RELOAD_CHECK_SECONDS = 5.0
PURGE_EVERY_SECONDS = 3600.0
USER_COMMANDS = ("start", "menu", "help", "lang", "about", "forget")


async def post_init(app: Application) -> None:
    """Load the knowledge base and open the database once; register the command menus."""
    settings: Settings = app.bot_data["settings"]
    svc = await Services.start(settings)
    app.bot_data[SERVICES] = svc
    for lang, code in (("en", None), ("zh", "zh")):
        commands = [BotCommand(c, svc.engine.message(f"cmd_{c}", lang)) for c in USER_COMMANDS]
        await app.bot.set_my_commands(commands, language_code=code)
    app.bot_data[HOUSEKEEPING] = asyncio.create_task(housekeeping(app))
    log.info("ready: %d intents, database %s", len(svc.engine.kb.intents),
             settings.database_path)


async def post_stop(app: Application) -> None:
    """Stop background work before the application shuts down."""
    task = app.bot_data.pop(HOUSEKEEPING, None)
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def post_shutdown(app: Application) -> None:
    """Close the database."""
    svc = app.bot_data.pop(SERVICES, None)
    if svc is not None:
        await svc.close()


async def housekeeping(app: Application) -> None:
    """Delete logs past retention hourly; reload edited YAML when AUTO_RELOAD is on."""
    svc: Services = app.bot_data[SERVICES]
    settings = svc.settings
    since_purge = PURGE_EVERY_SECONDS
    while True:
        if since_purge >= PURGE_EVERY_SECONDS:
            removed = await svc.storage.purge_older_than(settings.retention_days)
            if removed:
                log.info("retention: deleted %d rows older than %d days", removed,
                         settings.retention_days)
            since_purge = 0.0
        if settings.auto_reload and await svc.changed_on_disk():
            problems = await svc.reload()
            await admin.tell_admins(app, svc, admin.reload_report(svc, problems))
        await asyncio.sleep(RELOAD_CHECK_SECONDS)
        since_purge += RELOAD_CHECK_SECONDS


def register(app: Application) -> None:
    """Every handler of the bot; group -1 is the flood guard that runs before them."""
    app.add_handler(TypeHandler(Update, handlers.flood_guard), group=-1)
    app.add_handler(CommandHandler("start", handlers.start))
    app.add_handler(CommandHandler("menu", handlers.menu))
    app.add_handler(CommandHandler("help", handlers.help_command))
    app.add_handler(CommandHandler("about", handlers.about))
    app.add_handler(CommandHandler("lang", handlers.lang_command))
    app.add_handler(CommandHandler("forget", handlers.forget))
    for name, callback in admin.COMMANDS.items():
        app.add_handler(CommandHandler(name, callback))
    app.add_handler(MessageHandler(filters.COMMAND, handlers.unknown_command))
    app.add_handler(MessageHandler(filters.TEXT, handlers.question))
    app.add_handler(MessageHandler(~filters.TEXT & ~filters.StatusUpdate.ALL, handlers.not_text))
    app.add_handler(CallbackQueryHandler(handlers.button))
    app.add_handler(InlineQueryHandler(handlers.inline_query))
    app.add_error_handler(handlers.on_error)


def file_url(api_url: str) -> str:
    """The file endpoint that goes with a Bot API base URL (…/bot → …/file/bot)."""
    return api_url[: -len("/bot")] + "/file/bot" if api_url.endswith("/bot") else api_url


def build_application(settings: Settings) -> Application:
    app = (
        Application.builder()
        .token(settings.token)
        .base_url(settings.api_url)
        .base_file_url(file_url(settings.api_url))
        .rate_limiter(AIORateLimiter(max_retries=0))  # 429s are retried by delivery.deliver
        .concurrent_updates(64)  # one slow reply must not hold up everyone else
        .post_init(post_init)
        .post_stop(post_stop)
        .post_shutdown(post_shutdown)
        .build()
    )
    app.bot_data["settings"] = settings
    register(app)
    return app


def _webhook_secrets(token: str) -> tuple[str, str]:
    """A URL path and header secret derived from the token, so neither reveals it."""
    digest = hmac.new(token.encode(), b"cdht-webhook", hashlib.sha256).hexdigest()
    return f"telegram-{digest[:20]}", digest[20:52]


def run(settings: Settings) -> int:
    """Run until stopped; start-up network faults are retried, configuration faults reported."""
    logs.configure(settings.log_level, [settings.token])
    app = build_application(settings)
    try:
        if settings.webhook_url:
            path, secret = _webhook_secrets(settings.token)
            app.run_webhook(listen="0.0.0.0", port=settings.port, url_path=path,
                            webhook_url=f"{settings.webhook_url.rstrip('/')}/{path}",
                            secret_token=secret, allowed_updates=Update.ALL_TYPES,
                            bootstrap_retries=-1)
        else:
            app.run_polling(allowed_updates=Update.ALL_TYPES, bootstrap_retries=-1)
    except KnowledgeBaseError as exc:
        print(f"The knowledge base has {len(exc.problems)} problem(s):", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    except InvalidToken:
        print("Telegram refused TELEGRAM_BOT_TOKEN: check it with @BotFather.", file=sys.stderr)
        return 1
    except StorageError as exc:
        print(f"Cannot use the database at {settings.database_path}: {exc}", file=sys.stderr)
        return 1
    return 0

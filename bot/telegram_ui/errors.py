"""The one error handler: log it, tell the user something friendly, tell admins about jobs."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import InvalidToken

from .admin import tell_admins
from .context import Context
from .send import send_text

log = logging.getLogger(__name__)


async def on_error(update: object, context: Context) -> None:
    """A refused token stops the bot (nothing else can work); a failed job is reported to the
    admins (it runs again at its next interval); a failed update gets a friendly line."""
    error = context.error
    runner = context.bot_data
    if isinstance(error, InvalidToken):
        log.error("Telegram refused TELEGRAM_BOT_TOKEN: stopping. Check the token with @BotFather.")
        runner.fail(1)
        return
    log.error("while handling %s: %r", "an update" if update else "a job", error,
              exc_info=error)
    if context.bot_data.services is None:
        return
    if not isinstance(update, Update):
        svc = context.svc
        await tell_admins(context.application, svc,
                          lambda lang: svc.engine.message("admin_job_failed", lang,
                                                          error=type(error).__name__))
        return
    if update.effective_chat is not None:
        await send_text(context, update.effective_chat.id,
                        context.svc.engine.message("error", context.lang))

"""Admin commands, for ADMIN_IDS only; everyone else gets the normal unknown-command reply."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from html import escape

from telegram import InputFile, Update
from telegram.constants import ParseMode
from telegram.ext import Application, ContextTypes

from .. import reports
from ..knowledge import Problem
from ..services import Services
from .delivery import deliver
from .handlers import services, telegram_lang, unknown_command

log = logging.getLogger(__name__)
DEFAULT_PERIODS = (1, 7, 30)
MAX_TEXT = 3900  # Telegram allows 4096 characters per message
Callback = Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[None]]


def admin_only(callback: Callback) -> Callback:
    async def guarded(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        user = update.effective_user
        if user is None or user.id not in services(context).settings.admin_ids:
            await unknown_command(update, context)
            return
        await callback(update, context)

    guarded.__doc__ = callback.__doc__
    guarded.__name__ = callback.__name__
    return guarded


def _days(context: ContextTypes.DEFAULT_TYPE) -> int | None:
    arg = (context.args or [""])[0]
    return int(arg) if arg.isdigit() and 0 < int(arg) <= 3650 else None


async def _send_pre(context: ContextTypes.DEFAULT_TYPE, chat_id: int, text: str) -> None:
    """Reports keep their columns in a monospace block, split to fit Telegram's limit."""
    chunks = [text[i : i + MAX_TEXT] for i in range(0, len(text), MAX_TEXT)] or [""]
    for chunk in chunks:
        html = f"<pre>{escape(chunk, quote=False)}</pre>"
        await deliver(lambda h=html: context.bot.send_message(
            chat_id, h, parse_mode=ParseMode.HTML), "sendMessage")


def reload_report(svc: Services, problems: list[Problem], lang: str = "en") -> str:
    if not problems:
        return svc.engine.message("admin_reloaded", lang, count=str(len(svc.engine.kb.intents)))
    return "\n".join([svc.engine.message("admin_reload_failed", lang),
                      *(str(p) for p in problems[:20])])


async def tell_admins(app: Application, svc: Services, text: str) -> None:
    """Private note to every admin (e.g. an automatic reload that failed)."""
    for admin_id in svc.settings.admin_ids:
        await deliver(lambda a=admin_id: app.bot.send_message(
            a, f"<pre>{escape(text[:MAX_TEXT], quote=False)}</pre>", parse_mode=ParseMode.HTML),
            "sendMessage")


@admin_only
async def reload_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Re-read and validate the YAML; swap it in only if it is sound."""
    svc = services(context)
    problems = await svc.reload()
    lang = telegram_lang(update.effective_user)
    await _send_pre(context, update.effective_chat.id, reload_report(svc, problems, lang))


@admin_only
async def stats_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Questions, users, answered/clarified/fallback shares, top topics and feedback."""
    svc = services(context)
    days = _days(context)
    periods = [await svc.storage.stats(d) for d in ((days,) if days else DEFAULT_PERIODS)]
    lang = telegram_lang(update.effective_user)
    await _send_pre(context, update.effective_chat.id,
                    reports.stats_text(svc.engine, periods, lang))


@admin_only
async def unanswered_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The questions the bot could not answer, grouped by similarity, most frequent first."""
    svc = services(context)
    days = _days(context) or 30
    rows = await svc.storage.unanswered(days)
    lang = telegram_lang(update.effective_user)
    await _send_pre(context, update.effective_chat.id,
                    reports.unanswered_text(svc.engine, rows, days, lang))


@admin_only
async def export_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Unanswered questions and feedback as CSV documents."""
    svc, chat_id = services(context), update.effective_chat.id
    days = _days(context) or 3650
    files = {
        "unanswered.csv": reports.unanswered_csv(await svc.storage.unanswered(days)),
        "feedback.csv": reports.feedback_csv(await svc.storage.feedback_rows(days)),
    }
    caption = svc.engine.message("admin_export", telegram_lang(update.effective_user))
    for name, data in files.items():
        await deliver(lambda n=name, d=data: context.bot.send_document(
            chat_id, InputFile(d, filename=n), caption=caption), "sendDocument")


@admin_only
async def stale_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answers whose `reviewed` date is older than STALE_DAYS (or the given days)."""
    svc = services(context)
    days = _days(context) or svc.settings.stale_days
    lang = telegram_lang(update.effective_user)
    await _send_pre(context, update.effective_chat.id, reports.stale_text(svc.engine, days, lang))


COMMANDS: dict[str, Callback] = {
    "reload": reload_command,
    "stats": stats_command,
    "unanswered": unanswered_command,
    "export": export_command,
    "stale": stale_command,
}

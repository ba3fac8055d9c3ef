"""Admin commands: registered for ADMIN_IDS in a private chat only (application.py filters them),
so everyone else gets the normal unknown-command reply, and users' questions — which may hold
phone numbers — are never posted into a group."""

from __future__ import annotations

import logging
from collections.abc import Callable
from html import escape

from telegram import Bot, InputFile, Update
from telegram.constants import ParseMode
from telegram.ext import Application

from .. import reports
from ..services import Reload, Services
from .context import Context, chat_of
from .delivery import deliver
from .send import say

log = logging.getLogger(__name__)
DEFAULT_PERIODS = (1, 7, 30)
CHART_DAYS = 30
MAX_TEXT = 3900  # Telegram allows 4096 characters per message


class BadArguments(ValueError):
    """The command's arguments are not a number of days."""


MAX_DAYS = 3650  # the longest report period (content/messages.yaml says so in its usage lines)


def _days(context: Context, default: int | None) -> int | None:
    """The optional [days] argument; BadArguments when it is not a number of days."""
    args = context.args or []
    if not args:
        return default
    if len(args) == 1 and args[0].isascii() and args[0].isdigit() and 0 < int(args[0]) <= MAX_DAYS:
        return int(args[0])
    raise BadArguments(args[0])


async def _send_pre(context: Context, chat_id: int, text: str) -> None:
    """Reports keep their columns in a monospace block, split to fit Telegram's limit."""
    chunks = [text[i : i + MAX_TEXT] for i in range(0, len(text), MAX_TEXT)] or [""]
    for chunk in chunks:
        await _send_html(context.bot, chat_id, f"<pre>{escape(chunk, quote=False)}</pre>")


async def _send_html(bot: Bot, chat_id: int, html: str) -> None:
    await deliver(lambda moved: bot.send_message(moved or chat_id, html, parse_mode=ParseMode.HTML),
                  "sendMessage")


def reload_report(svc: Services, result: Reload, lang: str) -> str:
    """What a reload did: the changes it swapped in, or what to fix (file and line)."""
    engine = svc.engine
    if result.problems:
        return "\n".join([engine.message("admin_reload_failed", lang),
                          *(str(p) for p in result.problems[:20])])
    lines = [engine.message("admin_reloaded", lang, count=str(len(engine.kb.intents)))]
    for key, ids in (("admin_added", result.added), ("admin_removed", result.removed),
                     ("admin_edited", result.edited)):
        if ids:
            lines.append(engine.message(key, lang, count=str(len(ids)),
                                        ids=", ".join(ids[:15]) + (" …" if len(ids) > 15 else "")))
    if not (result.added or result.removed or result.edited):
        lines.append(engine.message("admin_unchanged", lang))
    return "\n".join(lines)


async def tell_admins(app: Application, svc: Services, text_for: Callable[[str], str]) -> None:
    """A private note to every admin, each in their own language (`text_for(lang)`)."""
    for admin_id in svc.settings.admin_ids:
        lang = await svc.storage.get_language(admin_id) or svc.engine.displays.others
        text = text_for(lang)
        await _send_html(app.bot, admin_id, f"<pre>{escape(text[:MAX_TEXT], quote=False)}</pre>")


async def reload_command(update: Update, context: Context) -> None:
    """Re-read and validate the YAML; swap it in only if it is sound, and say what changed."""
    svc = context.svc
    result = await svc.reload()
    await _send_pre(context, chat_of(update).id, reload_report(svc, result, context.lang))


async def stats_command(update: Update, context: Context) -> None:
    """Questions, users, answered/clarified/fallback shares, top topics and feedback, and a
    chart of the last days."""
    svc, chat_id = context.svc, chat_of(update).id
    try:
        days = _days(context, None)
    except BadArguments:
        await say(update, context, "admin_stats_usage")
        return
    periods = [await svc.storage.stats(d) for d in ((days,) if days else DEFAULT_PERIODS)]
    await _send_pre(context, chat_id, reports.stats_text(svc.engine, periods, context.lang))
    window = days or CHART_DAYS
    png = reports.stats_chart(await svc.storage.daily(window), periods[-1].top_intents, window)
    await deliver(lambda moved: context.bot.send_photo(
        moved or chat_id, InputFile(png, filename="stats.png")), "sendPhoto")


async def unanswered_command(update: Update, context: Context) -> None:
    """The questions the bot could not answer, those that mean the same together, most
    frequent first."""
    svc = context.svc
    try:
        days = _days(context, 30) or 30
    except BadArguments:
        await say(update, context, "admin_days_usage", command="unanswered")
        return
    rows = await svc.storage.unanswered(days)
    await _send_pre(context, chat_of(update).id,
                    reports.unanswered_text(svc.engine, rows, days, context.lang))


async def export_command(update: Update, context: Context) -> None:
    """Unanswered questions and feedback as CSV documents (spreadsheet-safe)."""
    svc, chat_id = context.svc, chat_of(update).id
    try:
        days = _days(context, MAX_DAYS) or MAX_DAYS
    except BadArguments:
        await say(update, context, "admin_days_usage", command="export")
        return
    files = {
        "unanswered.csv": reports.unanswered_csv(await svc.storage.unanswered(days)),
        "feedback.csv": reports.feedback_csv(await svc.storage.feedback_rows(days)),
    }
    caption = svc.engine.message("admin_export", context.lang)
    for name, data in files.items():
        await _send_document(context.bot, chat_id, name, data, caption)


async def _send_document(bot: Bot, chat_id: int, name: str, data: bytes, caption: str) -> None:
    await deliver(lambda moved: bot.send_document(
        moved or chat_id, InputFile(data, filename=name), caption=caption), "sendDocument")


async def stale_command(update: Update, context: Context) -> None:
    """Answers whose `reviewed` date is older than STALE_DAYS (or the given days)."""
    svc = context.svc
    try:
        days = _days(context, svc.settings.stale_days) or svc.settings.stale_days
    except BadArguments:
        await say(update, context, "admin_days_usage", command="stale")
        return
    await _send_pre(context, chat_of(update).id,
                    reports.stale_text(svc.engine, days, context.lang))


async def not_here(update: Update, context: Context) -> None:
    """An admin command in a group: refused, so users' questions stay out of the group."""
    await say(update, context, "admin_private_only")


COMMANDS = {
    "reload": reload_command,
    "stats": stats_command,
    "unanswered": unanswered_command,
    "export": export_command,
    "stale": stale_command,
}

"""What runs before every handler: who is asking and in what language, and flood control."""

from __future__ import annotations

import re

from telegram import Message, Update
from telegram.constants import ChatType
from telegram.ext import ApplicationHandlerStop

from ..flood import Verdict
from .context import Context, Who
from .delivery import deliver
from .send import say


async def resolve_user(update: Update, context: Context) -> None:
    """Resolve the user's languages once for the whole update."""
    user = update.effective_user
    if user is None or context.bot_data.services is None:
        return
    displays = context.svc.engine.displays
    saved = await context.svc.storage.get_language(user.id)
    choice = saved if displays.known(saved) else None
    prefer = displays.for_telegram(user.language_code)
    context.who = Who(choice or prefer, choice, prefer)


def replies_to_bot(message: Message, bot_id: int) -> bool:
    replied = message.reply_to_message
    return bool(replied and replied.from_user and replied.from_user.id == bot_id)


def question_for_bot(message: Message, bot_id: int, username: str) -> str | None:
    """The question if the message is addressed to the bot, else None (group chatter).

    A photo's caption counts as its text.
    """
    text = message.text or message.caption or ""
    if message.chat.type == ChatType.PRIVATE or replies_to_bot(message, bot_id):
        return text
    mention = re.compile(rf"@{re.escape(username)}\b", re.I) if username else None
    if mention and mention.search(text):
        return mention.sub(" ", text).strip()
    return None


def addressed_to_us(update: Update, context: Context) -> bool:
    """Private messages, commands and messages for the bot; group chatter is not."""
    message = update.effective_message
    if message is None or message.chat.type == ChatType.PRIVATE:
        return True
    if message.text and message.text.startswith("/"):
        return True
    return question_for_bot(message, context.bot.id, context.bot.username or "") is not None


async def flood_guard(update: Update, context: Context) -> None:
    """Stop a user who sends messages faster than anyone types, after telling them once when
    to come back. Button presses and inline queries are not messages and never count."""
    user = update.effective_user
    if user is None or (update.message is None and update.edited_message is None):
        return
    if not addressed_to_us(update, context):
        return
    check = await context.svc.check_flood(user.id)
    if check.verdict is Verdict.ALLOW:
        return
    if check.verdict is Verdict.NOTIFY:
        await say(update, context, "flood", seconds=str(check.wait))
    raise ApplicationHandlerStop


async def answer_button(update: Update, text: str | None = None) -> None:
    """Every button press gets its answer (Telegram shows a spinner until it does)."""
    query = update.callback_query
    if query is not None:
        await deliver(lambda _: query.answer(text), "answerCallbackQuery", sends=False)

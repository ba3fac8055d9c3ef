"""Messages: typed questions (new, edited, or a photo's caption), and everything else."""

from __future__ import annotations

import time

from telegram import Update
from telegram.constants import ChatType

from . import dialogue
from .context import Context, message_of
from .guards import question_for_bot, replies_to_bot
from .send import say, send_reply


async def question(update: Update, context: Context) -> None:
    """Answer a question with the engine's reply, read with the conversation so far."""
    svc, user, message = context.svc, update.effective_user, message_of(update)
    text = question_for_bot(message, context.bot.id, context.bot.username or "")
    if text is None or user is None or context.who is None:
        return
    state = await dialogue.state_of(context, message, user.id)
    reply, state = svc.engine.converse(text, state, time.time(), context.who.choice,
                                       context.who.prefer)
    await dialogue.keep(context, message.chat_id, user.id, state)
    row = await svc.storage.log_message(user.id, text=text, lang=reply.lang, kind=reply.kind,
                                        intent=reply.intent, score=reply.score,
                                        update_id=update.update_id)
    extra = None
    if reply.unanswered and await svc.storage.record_unanswered(user.id, row, text, reply.lang):
        extra = svc.engine.message("recorded", reply.display)  # said only when it is true
    await send_reply(update, context, reply, feedback_row=row, extra=extra)
    await svc.storage.touch_user(user.id, reply.display)


async def not_text(update: Update, context: Context) -> None:
    """Ask for a typed question when someone sends a sticker, a voice note, a bare photo, ..."""
    message = message_of(update)
    if message.chat.type == ChatType.PRIVATE or replies_to_bot(message, context.bot.id):
        await say(update, context, "non_text")

"""The conversation state the Telegram adapter keeps for the engine: per chat, and per user in
a group, in the database (so it survives a restart and is shared by several instances)."""

from __future__ import annotations

import time

from telegram import Message

from ..engine import Conversation, Reply
from .context import Context
from .guards import replies_to_bot


async def state_of(context: Context, message: Message, user_id: int) -> Conversation:
    """The conversation so far; quoting one of the bot's answers puts its topic in context."""
    svc = context.svc
    state = Conversation.from_json(await svc.storage.conversation(message.chat_id, user_id))
    quoted = message.reply_to_message
    if quoted is not None and replies_to_bot(message, context.bot.id):
        topic = await svc.storage.sent_topic(message.chat_id, quoted.message_id)
        if topic in svc.engine.kb.answers:
            state = state.with_topic(topic, state.lang or context.lang, time.time())
    return state


async def keep(context: Context, chat_id: int, user_id: int, state: Conversation) -> None:
    await context.svc.storage.save_conversation(chat_id, user_id, state.to_json())


async def after_button(context: Context, chat_id: int, user_id: int, reply: Reply) -> None:
    """A menu, deep-link or button answer sets the conversation's topic too."""
    state = Conversation.from_json(await context.svc.storage.conversation(chat_id, user_id))
    await keep(context, chat_id, user_id, state.after(reply, time.time()))


async def clear(context: Context, chat_id: int, user_id: int) -> None:
    """/start and /menu begin afresh: no topic in context."""
    await context.svc.storage.clear_conversation(chat_id, user_id)


async def log_answer(context: Context, update_id: int, user_id: int, reply: Reply,
                     asked: str) -> int | None:
    """Log an answer opened by a button or link (so it gets 👍/👎 like a typed one); once
    per update, however often it is answered."""
    return await context.svc.storage.log_message(
        user_id, text=asked, lang=reply.lang, kind=reply.kind, intent=reply.intent,
        score=reply.score, update_id=update_id)

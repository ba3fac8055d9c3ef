"""Sending replies: HTML, controls, replies to the asker in groups, and remembering topics."""

from __future__ import annotations

from html import escape

from telegram import InlineKeyboardMarkup, LinkPreviewOptions, Message, ReplyParameters, Update
from telegram.constants import ChatType, ParseMode

from ..engine import Reply
from .context import Context, chat_of
from .delivery import deliver
from .render import Labels, reply_html, reply_keyboard

NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def reply_to(update: Update) -> int | None:
    """In a group, answers are replies to the asker's message (who asked what stays clear)."""
    message = update.effective_message
    if message is None or message.chat.type == ChatType.PRIVATE:
        return None
    return message.message_id


async def send_html(context: Context, chat_id: int, html: str,
                    markup: InlineKeyboardMarkup | None = None,
                    answer_to: int | None = None) -> Message | None:
    to = ReplyParameters(answer_to, allow_sending_without_reply=True) if answer_to else None
    return await deliver(
        lambda moved: context.bot.send_message(
            moved or chat_id, html, parse_mode=ParseMode.HTML, reply_markup=markup,
            link_preview_options=NO_PREVIEW, reply_parameters=to),
        "sendMessage")


async def send_text(context: Context, chat_id: int, text: str,
                    markup: InlineKeyboardMarkup | None = None,
                    answer_to: int | None = None) -> Message | None:
    return await send_html(context, chat_id, escape(text, quote=False), markup, answer_to)


async def say(update: Update, context: Context, key: str,
              markup: InlineKeyboardMarkup | None = None, **fields: str) -> Message | None:
    """Send one interface message from messages.yaml, in the user's language."""
    return await send_text(context, chat_of(update).id,
                           context.svc.engine.message(key, context.lang, **fields), markup,
                           reply_to(update))


async def send_reply(update: Update, context: Context, reply: Reply,
                     feedback_row: int | None = None,
                     extra: str | None = None) -> Message | None:
    """A reply with its controls; the topic of what was sent is remembered, so a later reply
    that quotes it is read with that topic."""
    chat, user = chat_of(update), update.effective_user
    labels = Labels.of(context.svc.engine, reply.display or context.lang)
    sent = await send_html(context, chat.id, reply_html(reply, extra),
                           reply_keyboard(reply, labels, feedback_row), reply_to(update))
    if sent is not None and reply.intent and user is not None:
        await context.svc.storage.remember_sent(sent.chat_id, sent.message_id, user.id,
                                                reply.intent)
    return sent

"""Reply → Telegram HTML and inline keyboards. Every YAML- or user-supplied string is escaped."""

from __future__ import annotations

from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from ..engine import Engine, Reply
from ..knowledge.schema import Lang
from .callback_data import encode


def reply_html(reply: Reply, extra: str | None = None) -> str:
    parts = []
    if reply.kind == "answer" and reply.title:
        parts.append(f"<b>{escape(reply.title, quote=False)}</b>")
    parts.append(escape(reply.text, quote=False))
    if extra:
        parts.append(f"<i>{escape(extra, quote=False)}</i>")
    return "\n\n".join(parts)


def reply_keyboard(reply: Reply, feedback_row: int | None = None,
                   topics: bool = True, none_label: str = "") -> InlineKeyboardMarkup | None:
    """Official links as URL buttons, topics as buttons, then 👍 / 👎 on answers.

    A clarify that offers topics ends with "none of these" (`none_label`). Inline-mode cards
    are posted in other people's chats: links only (`topics=False`).
    """
    rows = [[InlineKeyboardButton(f"🔗 {link.title}", url=link.url)] for link in reply.links]
    if topics:
        rows += [[InlineKeyboardButton(f"» {o.title}", callback_data=encode("t", o.intent))]
                 for o in reply.options]
        if reply.kind == "clarify" and reply.options and none_label:
            rows.append([InlineKeyboardButton(none_label, callback_data=encode("n"))])
    if reply.kind == "answer" and feedback_row is not None:
        rows.append([
            InlineKeyboardButton("👍", callback_data=encode("f", str(feedback_row), "u")),
            InlineKeyboardButton("👎", callback_data=encode("f", str(feedback_row), "d")),
        ])
    return InlineKeyboardMarkup(rows) if rows else None


def areas_keyboard(engine: Engine, lang: Lang) -> InlineKeyboardMarkup:
    kb = engine.kb
    buttons = [InlineKeyboardButton(getattr(kb.areas[key], lang), callback_data=encode("a", key))
               for key in kb.menu_areas()]
    return InlineKeyboardMarkup([buttons[i : i + 2] for i in range(0, len(buttons), 2)])


def topics_keyboard(engine: Engine, area: str, lang: Lang) -> InlineKeyboardMarkup:
    kb = engine.kb
    rows = [[InlineKeyboardButton(getattr(t, lang),
                                  callback_data=encode("t", kb.intents_of_topic(t.id)[0]))]
            for t in kb.topics_of_area(area) if kb.intents_of_topic(t.id)]
    rows.append([InlineKeyboardButton(engine.message("back", lang), callback_data=encode("m"))])
    return InlineKeyboardMarkup(rows)


def language_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[
        InlineKeyboardButton("中文", callback_data=encode("l", "zh")),
        InlineKeyboardButton("English", callback_data=encode("l", "en")),
    ]])

"""Reply → Telegram HTML and inline keyboards. Every YAML- or user-supplied string is escaped.

Every answer carries the same controls however it was reached (typed, menu, deep link, clarify,
follow-up): its links, follow-up topics, 👍/👎, a share button and the main menu. Small talk is
plain text; fallbacks get the main menu; a clarify ends with "none of these".
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from ..engine import Engine, MenuItem, Reply
from . import buttons as b

Row = list[InlineKeyboardButton]


@dataclass(frozen=True)
class Labels:
    """Button labels in the reader's language."""

    none_of_these: str
    share: str
    menu: str
    open_in_bot: str

    @classmethod
    def of(cls, engine: Engine, lang: str) -> Labels:
        return cls(*(engine.message(k, lang) for k in
                     ("none_of_these", "share", "main_menu", "open_in_bot")))


def reply_html(reply: Reply, extra: str | None = None) -> str:
    parts = []
    if reply.kind == "answer" and reply.title and not reply.small_talk:
        parts.append(f"<b>{escape(reply.title, quote=False)}</b>")
    parts.append(escape(reply.text, quote=False))
    if extra:
        parts.append(f"<i>{escape(extra, quote=False)}</i>")
    return "\n\n".join(parts)


def _link_rows(reply: Reply) -> list[Row]:
    return [[InlineKeyboardButton(f"🔗 {link.title}", url=link.url)] for link in reply.links]


def reply_keyboard(reply: Reply, labels: Labels,
                   feedback_row: int | None = None) -> InlineKeyboardMarkup | None:
    """The controls under a reply in the chat it was asked in."""
    if reply.small_talk:
        return None
    rows = _link_rows(reply)
    rows += [[InlineKeyboardButton(f"» {o.title}", callback_data=b.Topic(o.intent).pack())]
             for o in reply.options]
    if reply.kind == "clarify" and reply.options:
        rows.append([InlineKeyboardButton(labels.none_of_these,
                                          callback_data=b.NoneOfThese().pack())])
    if reply.kind == "answer" and feedback_row is not None:
        rows.append([
            InlineKeyboardButton("👍", callback_data=b.Vote(feedback_row, True).pack()),
            InlineKeyboardButton("👎", callback_data=b.Vote(feedback_row, False).pack()),
        ])
    last: Row = []
    if reply.kind == "answer" and reply.title:
        last.append(InlineKeyboardButton(f"↗ {labels.share}", switch_inline_query=reply.title))
    if reply.kind != "clarify":
        last.append(InlineKeyboardButton(f"☰ {labels.menu}", callback_data=b.Home().pack()))
    if last:
        rows.append(last)
    return InlineKeyboardMarkup(rows) if rows else None


def card_keyboard(reply: Reply, labels: Labels, open_url: str) -> InlineKeyboardMarkup:
    """An inline-mode card, posted in someone else's chat: links, and the topic in the bot."""
    return InlineKeyboardMarkup(
        [*_link_rows(reply), [InlineKeyboardButton(labels.open_in_bot, url=open_url)]])


def areas_keyboard(items: list[MenuItem]) -> InlineKeyboardMarkup:
    keys = [InlineKeyboardButton(i.title, callback_data=b.Area(i.key).pack()) for i in items]
    return InlineKeyboardMarkup([keys[i : i + 2] for i in range(0, len(keys), 2)])


def topics_keyboard(items: list[MenuItem], back: str) -> InlineKeyboardMarkup:
    rows = [[InlineKeyboardButton(i.title, callback_data=b.Topic(i.key).pack())] for i in items]
    rows.append([InlineKeyboardButton(back, callback_data=b.Menu().pack())])
    return InlineKeyboardMarkup(rows)


def language_keyboard(engine: Engine) -> InlineKeyboardMarkup:
    d = engine.displays
    return InlineKeyboardMarkup([[InlineKeyboardButton(d.name(code),
                                                       callback_data=b.Language(code).pack())
                                  for code in d.codes]])


def forget_keyboard(yes: str, no: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[
        InlineKeyboardButton(yes, callback_data=b.Forget(True).pack()),
        InlineKeyboardButton(no, callback_data=b.Forget(False).pack()),
    ]])


def menu_keyboard(label: str) -> InlineKeyboardMarkup:
    """The main menu button alone (under a fallback or a notice)."""
    return InlineKeyboardMarkup([[InlineKeyboardButton(f"☰ {label}",
                                                       callback_data=b.Home().pack())]])


def deep_link(username: str, intent: str) -> str:
    """t.me link that opens a topic in the bot (/start talent-golden_panda)."""
    return f"https://t.me/{username}?start={intent.replace('.', '-')}"

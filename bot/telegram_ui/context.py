"""The typed context every callback gets: the bot's services, and who is asking in what language.

`Context.who` is resolved once per update, by the first handler group (see application.py),
so no callback reads the language choice from the database a second time.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from telegram import Chat, InlineQuery, Message, Update, User
from telegram.ext import Application, CallbackContext, ContextTypes, ExtBot, JobQueue

from ..config import Settings
from ..services import Services

if TYPE_CHECKING:
    from .receiver import Receiver


class BotData:
    """What the application holds for every update (PTB builds it with no arguments)."""

    def __init__(self) -> None:
        self.settings: Settings | None = None
        self.services: Services | None = None
        self.receiver: Receiver | None = None  # set once the bot runs
        self.stop = asyncio.Event()  # set to stop the bot (SIGTERM, a refused token)
        self.exit_code = 0

    def fail(self, code: int) -> None:
        """Stop the bot with a non-zero exit status."""
        self.exit_code = code
        self.stop.set()


@dataclass(frozen=True)
class Who:
    lang: str  # the display language of interface strings (menus, buttons, notices)
    choice: str | None  # the user's /lang choice, if any: it also decides the reply language
    prefer: str | None  # the display language the user's Telegram app asks for


class Context(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]):
    def __init__(self, application: Application[Any, Any, Any, Any, Any, Any],
                 chat_id: int | None = None, user_id: int | None = None) -> None:
        super().__init__(application, chat_id, user_id)
        self.who: Who | None = None

    @property
    def svc(self) -> Services:
        services = self.bot_data.services
        if services is None:  # only before post_init, when no update is handled
            raise RuntimeError("the bot's services are not started")
        return services

    @property
    def lang(self) -> str:
        return self.who.lang if self.who else self.svc.engine.displays.others


# What an update holds, for the handlers registered for updates that always hold it
# (application.py): PTB types each as optional because some other kind of update lacks it.
# Each raises (an error for on_error, as reading the missing field would) if it is missing.


class MissingField(RuntimeError):
    """A handler got an update without what its registration guarantees."""


def user_of(update: Update) -> User:
    """Who sent it: every command, button press and inline query has a sender (channel posts,
    which have none, reach only the message handlers, which check)."""
    if update.effective_user is None:
        raise MissingField(f"update {update.update_id} has no sender")
    return update.effective_user


def chat_of(update: Update) -> Chat:
    """Where it was sent: every message and command, and every press of a button under one."""
    if update.effective_chat is None:
        raise MissingField(f"update {update.update_id} has no chat")
    return update.effective_chat


def message_of(update: Update) -> Message:
    """The message of a message handler's update (new, edited or a channel post)."""
    if update.effective_message is None:
        raise MissingField(f"update {update.update_id} has no message")
    return update.effective_message


def inline_query_of(update: Update) -> InlineQuery:
    if update.inline_query is None:
        raise MissingField(f"update {update.update_id} is not an inline query")
    return update.inline_query


def job_queue_of(app: Application[Any, Any, Any, Any, Any, Any]) -> JobQueue[Any]:
    """The job queue: always there, as the job-queue extra is a dependency."""
    if app.job_queue is None:
        raise RuntimeError("no job queue: install python-telegram-bot[job-queue]")
    return app.job_queue


CONTEXT_TYPES = ContextTypes(context=Context, bot_data=BotData)

"""The typed context every callback gets: the bot's services, and who is asking in what language.

`Context.who` is resolved once per update, by the first handler group (see application.py),
so no callback reads the language choice from the database a second time.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from telegram.ext import Application, CallbackContext, ContextTypes, ExtBot

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


CONTEXT_TYPES = ContextTypes(context=Context, bot_data=BotData)

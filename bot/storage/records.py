"""What storage hands out, and the one interface every backend offers the bot and the reports."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from ..flood import Check, Rules

TOP_INTENTS = 10
NO_INTENT = "(none)"  # the `Stats.feedback` key for votes on a reply that had no intent


class StorageError(Exception):
    """The database cannot be opened or read (newer schema, not a database, unreachable)."""


@dataclass(frozen=True)
class Stats:
    days: int
    messages: int
    users: int
    answered: int
    clarified: int
    fallback: int
    top_intents: list[tuple[str, int]]  # most asked first, at most 10
    feedback: dict[str, tuple[int, int]]  # intent -> (thumbs up, thumbs down)


@dataclass(frozen=True)
class Day:
    day: str  # YYYY-MM-DD (UTC)
    answered: int
    clarified: int
    fallback: int

    @property
    def total(self) -> int:
        return self.answered + self.clarified + self.fallback


@dataclass(frozen=True)
class UnansweredRow:
    at: datetime  # UTC
    lang: str
    text: str


@dataclass(frozen=True)
class FeedbackRow:
    at: datetime  # UTC
    intent: str | None
    question: str
    value: int  # +1 or -1


class Storage(Protocol):
    """The bot's database, whichever backend holds it (see bot/storage/__init__.py).

    Writes never raise database errors: they log one warning (no text, no user ids) and
    return a neutral value. Admin reads (`stats`, `daily`, `unanswered`, `feedback_rows`)
    raise StorageError, because "the database is unreadable" serves an admin better than a
    report that silently says 0.
    """

    secret_changed: bool
    @property
    def shared(self) -> bool:
        """Several processes may use this database at once (PostgreSQL): a class constant."""
        ...

    async def close(self) -> None: ...
    def user_key(self, user_id: int) -> str: ...

    async def touch_user(self, user_id: int, lang: str | None = None) -> None: ...
    async def set_language(self, user_id: int, lang: str) -> None: ...
    async def log_message(self, user_id: int, *, text: str, lang: str, kind: str,
                          intent: str | None, score: float,
                          at: datetime | None = None,
                          update_id: int | None = None) -> int | None: ...
    async def record_unanswered(self, user_id: int, message_id: int | None, text: str,
                                lang: str) -> bool: ...
    async def add_feedback(self, user_id: int, message_id: int, value: int) -> bool: ...
    async def save_conversation(self, chat_id: int, user_id: int, state: str) -> None: ...
    async def clear_conversation(self, chat_id: int, user_id: int) -> None: ...
    async def remember_sent(self, chat_id: int, message_id: int, user_id: int,
                            intent: str) -> None: ...
    async def forget(self, user_id: int) -> bool: ...
    async def take_token(self, user_id: int, rules: Rules,
                         now: float | None = None) -> Check: ...

    async def receive(self, update_id: int, body: str) -> bool | None: ...
    async def done(self, update_id: int) -> None: ...
    async def pending(self, since: float,
                      idle: float = 0.0) -> tuple[list[tuple[int, str]], int]: ...

    async def purge_older_than(self, days: int) -> int: ...
    def exclusive(self, job: str) -> AbstractAsyncContextManager[bool]: ...
    async def first_to_report(self, topic: str, version: str) -> bool: ...
    async def health(self) -> str | None: ...

    async def get_language(self, user_id: int) -> str | None: ...
    async def conversation(self, chat_id: int, user_id: int) -> str | None: ...
    async def sent_topic(self, chat_id: int, message_id: int) -> str | None: ...
    async def top_intents(self, days: int, limit: int) -> list[str]: ...

    async def stats(self, days: int) -> Stats: ...
    async def daily(self, days: int) -> list[Day]: ...
    async def unanswered(self, days: int) -> list[UnansweredRow]: ...
    async def feedback_rows(self, days: int) -> list[FeedbackRow]: ...

"""Sending with bounded retries, and without sending anything twice where that is avoidable.

python-telegram-bot retries nothing on its own. A 429 (after the wait Telegram asks for), a
5xx and a connection that never got through are retried. A call that timed out while waiting
for the answer is *not* retried when it sends something: Telegram may have delivered it, and a
second copy is worse than the rare lost one. A chat that became a supergroup gets the message at
its new id. A refused token (401/404) is raised: nothing can work any more, and the error
handler stops the bot.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

import httpx
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)

log = logging.getLogger(__name__)
T = TypeVar("T")
ATTEMPTS = 4
BASE_DELAY = 0.5
MAX_WAIT = 30.0


def _seconds(retry_after: int | dt.timedelta) -> float:
    if isinstance(retry_after, dt.timedelta):
        return retry_after.total_seconds()
    return float(retry_after)


_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout,
             httpx.RemoteProtocolError)


def _not_delivered(exc: NetworkError) -> bool:
    """Whether Telegram surely did not deliver it: it answered with an error status (5xx), the
    connection never opened, or it closed without any answer. A timeout waiting for the answer
    is the one case where it may well have."""
    cause = exc.__cause__
    return cause is None or isinstance(cause, _NOT_SENT)


async def deliver(send: Callable[[int | None], Awaitable[T]], what: str = "send", *,
                  sends: bool = True) -> T | None:
    """Run `send(chat_id)` until it succeeds; None when it cannot (blocked, refused, gave up).

    `send` gets None, or the new chat id after "chat migrated". `sends`: the call delivers
    something to a user (a timed-out one is then not repeated); False for answers to button
    presses, edits and the like, which are safe to repeat.
    """
    chat: int | None = None
    for attempt in range(1, ATTEMPTS + 1):
        wait = BASE_DELAY * 2 ** (attempt - 1)
        try:
            return await send(chat)
        except RetryAfter as exc:
            wait = min(MAX_WAIT, _seconds(exc.retry_after))
            log.warning("%s: rate limited, retrying in %.0f s (attempt %d)", what, wait, attempt)
        except ChatMigrated as exc:
            chat = int(exc.new_chat_id)
            log.info("%s: the chat became a supergroup; sending to its new id", what)
            continue
        except Forbidden:
            log.info("%s: the user blocked the bot or left the chat", what)
            return None
        except InvalidToken:
            raise
        except BadRequest as exc:
            log.warning("%s: refused by Telegram: %s", what, exc.message)
            return None
        except (TimedOut, NetworkError) as exc:
            if sends and not _not_delivered(exc):
                log.warning("%s: %s; not repeated, as Telegram may have delivered it", what, exc)
                return None
            log.warning("%s: %s; retrying in %.1f s (attempt %d)", what, exc, wait, attempt)
        if attempt < ATTEMPTS:
            await asyncio.sleep(wait)
    log.error("%s: giving up after %d attempts", what, ATTEMPTS)
    return None

"""Sending with bounded retries.

python-telegram-bot retries getUpdates by itself, but not a sendMessage that meets a 429, a 5xx
or a dropped connection — and by then the update is confirmed, so without this the reply would
simply be lost.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

log = logging.getLogger(__name__)
T = TypeVar("T")
ATTEMPTS = 4
BASE_DELAY = 0.5
MAX_WAIT = 30.0


def _seconds(retry_after: int | dt.timedelta) -> float:
    if isinstance(retry_after, dt.timedelta):
        return retry_after.total_seconds()
    return float(retry_after)


async def deliver(send: Callable[[], Awaitable[T]], what: str = "send") -> T | None:
    """Run `send` until it succeeds; None when it cannot (user blocked us, bad request, gave up)."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return await send()
        except RetryAfter as exc:
            wait = min(MAX_WAIT, _seconds(exc.retry_after))
            log.warning("%s: rate limited, retrying in %.0f s (attempt %d)", what, wait, attempt)
        except Forbidden:
            log.info("%s: the user blocked the bot or left the chat", what)
            return None
        except BadRequest as exc:
            log.warning("%s: refused by Telegram: %s", what, exc.message)
            return None
        except (TimedOut, NetworkError) as exc:
            wait = BASE_DELAY * 2 ** (attempt - 1)
            log.warning("%s: %s; retrying in %.1f s (attempt %d)", what, exc, wait, attempt)
        if attempt < ATTEMPTS:
            await asyncio.sleep(wait)
    log.error("%s: giving up after %d attempts", what, ATTEMPTS)
    return None

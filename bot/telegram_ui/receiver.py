"""Durable receipt of updates: none lost on a crash, none answered twice, none that stops the bot.

Every update is written to the database *before* Telegram is told it arrived (the next
getUpdates confirms the offset; a webhook gets its 200 only then), and marked done once it has
been answered. A process killed at any moment therefore loses nothing: what Telegram had not
been told about it sends again, and what was stored but not answered is answered on the next
start (if it is still fresh). A malformed update is logged once and skipped, never retried.

The stored copy holds what the handlers need, not who the user is by name: names and usernames
are blanked, the rest is encrypted (storage seals it), and it is cleared once answered.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
from collections import defaultdict
from typing import Any

from telegram import Update
from telegram.error import EndPointNotFound, InvalidToken, NetworkError, TimedOut
from telegram.ext import Application

from ..storage import Storage

log = logging.getLogger(__name__)
LONG_POLL_S = 10  # short enough that SIGTERM never waits long for a poll to end
FRESH_S = 600.0  # stored but unanswered at a crash: still answered on restart within this
# With instances sharing the database, an unanswered update untouched this long is taken to be
# an orphan of an instance that died (answering one takes milliseconds), not work in progress.
ORPHAN_IDLE_S = 30.0
MAX_AT_ONCE = 64  # updates handled concurrently (one slow reply must not hold up the others)
_NAMES = ("first_name", "last_name", "username", "title")
_SURROGATE = re.compile("[\ud800-\udfff]")


def well_formed(raw: Any) -> Any:
    """The update with every lone surrogate ("\\ud800" in the JSON: half of a UTF-16 pair,
    which no UTF-8 text can hold) replaced by U+FFFD, so no handler meets a text it cannot
    encode (SQLite, OpenCC and HTTP all refuse them)."""
    if isinstance(raw, str):
        return _SURROGATE.sub("\ufffd", raw)
    if isinstance(raw, dict):
        return {well_formed(k): well_formed(v) for k, v in raw.items()}
    if isinstance(raw, list):
        return [well_formed(v) for v in raw]
    return raw


def scrubbed(raw: Any) -> Any:
    """The update without names and usernames (PTB still parses it: they become "-")."""
    if isinstance(raw, dict):
        return {k: ("-" if k in _NAMES and isinstance(v, str) else scrubbed(v))
                for k, v in raw.items()}
    if isinstance(raw, list):
        return [scrubbed(v) for v in raw]
    return raw


def _chat_of(raw: dict) -> object:
    for key in ("message", "edited_message", "callback_query", "inline_query"):
        part = raw.get(key)
        if isinstance(part, dict):
            chat = part.get("chat") or (part.get("message") or {}).get("chat") or part.get("from")
            if isinstance(chat, dict):
                return chat.get("id")
    return None


class Receiver:
    """Stores, then hands updates to the application; one chat's updates in order."""

    def __init__(self, app: Application, storage: Storage) -> None:
        self.app, self.storage = app, storage
        self._slots = asyncio.Semaphore(MAX_AT_ONCE)
        self._chats: defaultdict[object, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._tasks: set[asyncio.Task] = set()

    async def accept(self, raw: Any) -> bool:
        """Store one update and start handling it; False when it could not be stored (the
        sender must then send it again). A duplicate is accepted and ignored."""
        if not isinstance(raw, dict) or not isinstance(raw.get("update_id"), int):
            log.warning("skipped an update that is not a Telegram update")
            return True
        raw = well_formed(raw)
        stored = await self.storage.receive(raw["update_id"], json.dumps(scrubbed(raw)))
        if stored is None:
            return False
        if stored:
            self._start(raw["update_id"], raw)
        return True

    def _start(self, update_id: int, raw: dict) -> None:
        task = asyncio.create_task(self._handle(update_id, raw))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _handle(self, update_id: int, raw: dict) -> None:
        async with self._slots, self._chats[_chat_of(raw)]:
            try:
                update = Update.de_json(raw, self.app.bot)
            except Exception as exc:
                log.warning("skipped malformed update %d: %s", update_id, type(exc).__name__)
            else:
                await self.app.process_update(update)
            await self.storage.done(update_id)

    async def replay(self) -> None:
        """Answer what was stored but not answered before the last stop (or, with several
        instances, by one that died), if still fresh."""
        idle = ORPHAN_IDLE_S if self.storage.shared else 0.0
        pending, stale = await self.storage.pending(time.time() - FRESH_S, idle)
        if stale:
            log.info("skipped %d update(s) stored too long ago to answer now", stale)
        if pending:
            log.info("answering %d update(s) received before the last stop", len(pending))
        for update_id, body in pending:
            try:
                self._start(update_id, json.loads(body))
            except ValueError:
                await self.storage.done(update_id)

    async def drain(self, timeout: float) -> None:
        """Let the updates in hand finish (at most `timeout` seconds)."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)

    async def poll(self, stop: asyncio.Event) -> None:
        """Long polling until `stop`; raises InvalidToken when Telegram refuses the token."""
        offset: int | None = None
        failures = 0
        while not stop.is_set():
            params = {"timeout": LONG_POLL_S, "allowed_updates": list(Update.ALL_TYPES)}
            if offset is not None:
                params["offset"] = offset  # confirms everything before it: all stored
            try:
                updates = await self.app.bot.do_api_request(
                    "getUpdates", api_kwargs=params, read_timeout=LONG_POLL_S + 10)
            except InvalidToken:
                raise
            except EndPointNotFound as exc:  # do_api_request's name for a 401/404 once running
                raise InvalidToken(str(exc)) from exc
            except (TimedOut, NetworkError) as exc:
                failures += 1
                wait = min(30.0, 0.5 * 2 ** min(failures, 6))
                log.warning("getUpdates failed (%s); retrying in %.0f s", exc, wait)
                await _sleep_or_stop(stop, wait)
                continue
            failures = 0
            for raw in updates if isinstance(updates, list) else []:
                if not await self.accept(raw):  # not stored: leave it unconfirmed
                    log.warning("could not store an update; Telegram will send it again")
                    await _sleep_or_stop(stop, 1.0)
                    break
                if isinstance(raw, dict) and isinstance(raw.get("update_id"), int):
                    offset = raw["update_id"] + 1


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)

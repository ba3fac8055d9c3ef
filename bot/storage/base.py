"""Everything the backends share: the keys, the SQL of every read and write, the fault rules.

Telegram user ids are never stored: every row carries `user_key(user_id)`, an HMAC of the id
under a secret, so rows of one user can be found and forgotten without the id itself being in
the database. No usernames, names or phone numbers are accepted at all.

A backend supplies transactions (`_transaction`), the exceptions that mean "the database
failed" (`FAULTS`, with `_reason` to describe one without the data it carried) and its
`Dialect`; the SQL here runs unchanged on each.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime
from typing import Any, ClassVar, Protocol, TypeVar

from .. import flood
from .records import (
    NO_INTENT,
    TOP_INTENTS,
    Day,
    FeedbackRow,
    Stats,
    StorageError,
    UnansweredRow,
)
from .schema import Dialect

log = logging.getLogger("bot.storage")

T = TypeVar("T")

KEY_LENGTH = 32  # hex characters of the HMAC kept as the user key
SECRET_KEY = "user_key_secret"  # meta key of a generated secret (PostgreSQL; SQLite before 0.2)
_CHECK_KEY = "user_key_check"  # HMAC of a constant under the secret the keys were made with
_DAY_S = 86_400


class Transaction(Protocol):
    """One open transaction; SQL with `?` placeholders."""

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run a statement; the number of rows it changed."""
        ...

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Sequence[Any]]: ...


def _utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _seconds(at: datetime) -> float:
    """A naive datetime is taken as UTC, like every time in this module."""
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp()


def _since(days: int) -> float:
    return time.time() - days * _DAY_S


def secret_check(secret: str) -> str:
    return hmac.new(secret.encode(), b"cdht-check", hashlib.sha256).hexdigest()[:16]


async def same_secret(tx: Transaction, secret: str) -> bool:
    """Whether `secret` is the one the rows were keyed with (recorded on first use)."""
    query = "SELECT value FROM meta WHERE key = ?"
    rows = await tx.fetch(query, (_CHECK_KEY,))
    if not rows:  # written once, so a normal restart opens without writing anything
        await tx.execute("INSERT INTO meta (key, value) VALUES (?, ?)"
                         " ON CONFLICT (key) DO NOTHING", (_CHECK_KEY, secret_check(secret)))
        rows = await tx.fetch(query, (_CHECK_KEY,))
    return bool(rows) and rows[0][0] == secret_check(secret)


def report_secret(changed: bool) -> None:
    """Said once at open: rows keyed under another secret can no longer be found by user."""
    if changed:
        log.error("storage: the pseudonym secret is not the one this database was written "
                  "with (USER_HASH_SECRET changed?): earlier rows cannot be found by user")


class SQLStorage:
    """The bot's database; a backend subclass opens it (see bot/storage/__init__.py)."""

    FAULTS: ClassVar[tuple[type[BaseException], ...]]
    dialect: ClassVar[Dialect]
    shared: ClassVar[bool]

    def __init__(self, secret: str, secret_changed: bool = False) -> None:
        self._secret = secret.encode()
        self._box = hmac.new(self._secret, b"cdht-inbox", hashlib.sha256).digest()
        # The data was keyed with another secret: it cannot be found (nor forgotten) by user.
        self.secret_changed = secret_changed

    # -- what a backend provides -----------------------------------------------------------

    def _transaction(self) -> AbstractAsyncContextManager[Transaction]:
        """A transaction committed when the block ends, rolled back when it raises."""
        raise NotImplementedError

    def _reason(self, exc: BaseException) -> str:
        """What went wrong, for a log line: never the values of the rows involved."""
        return str(exc)

    # -- keys ------------------------------------------------------------------------------

    def user_key(self, user_id: int) -> str:
        """The pseudonym stored instead of a Telegram user id: HMAC-SHA256, first 32 hex."""
        return self._key(str(user_id))

    def _key(self, text: str) -> str:
        return hmac.new(self._secret, text.encode(), hashlib.sha256).hexdigest()[:KEY_LENGTH]

    def _chat_key(self, chat_id: int, user_id: int) -> str:
        return self._key(f"conversation:{chat_id}:{user_id}")

    # -- writes (never raise database errors: log and return a neutral value) --------------

    async def touch_user(self, user_id: int, lang: str | None = None) -> None:
        """Note that the user is active (first/last seen) and, if given, the language they
        wrote in. That language is not their /lang choice: `get_language` ignores it."""
        now = time.time()
        await self._run("note a user's activity",
                        "INSERT INTO users (user_key, last_lang, first_seen, last_seen)"
                        " VALUES (?, ?, ?, ?)"
                        " ON CONFLICT (user_key) DO UPDATE SET last_seen = excluded.last_seen,"
                        " last_lang = COALESCE(excluded.last_lang, users.last_lang)",
                        (self.user_key(user_id), lang, now, now))

    async def set_language(self, user_id: int, lang: str) -> None:
        """Save the user's /lang choice, so it outlives a restart (and every instance sees
        it)."""
        now = time.time()
        await self._run("save a language choice",
                        "INSERT INTO users (user_key, lang, first_seen, last_seen)"
                        " VALUES (?, ?, ?, ?) ON CONFLICT (user_key) DO UPDATE SET"
                        " lang = excluded.lang, last_seen = excluded.last_seen",
                        (self.user_key(user_id), lang, now, now))

    async def log_message(self, user_id: int, *, text: str, lang: str, kind: str,
                          intent: str | None, score: float,
                          at: datetime | None = None,
                          update_id: int | None = None) -> int | None:
        """Log a question and how it was answered; returns the row id (for feedback buttons),
        or None when it could not be stored. `at` (default now) exists for tests/imports.
        `update_id`: the Telegram update it came from; logging the same one again (answered
        again after a crash) replaces its row and keeps its id."""
        when = time.time() if at is None else _seconds(at)

        async def work(tx: Transaction) -> int:
            (row,) = await tx.fetch(
                "INSERT INTO messages (user_key, at, lang, kind, intent, score, text, update_id)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (update_id) DO UPDATE SET"
                " at = excluded.at, lang = excluded.lang, kind = excluded.kind,"
                " intent = excluded.intent, score = excluded.score, text = excluded.text"
                " RETURNING id",
                (self.user_key(user_id), when, lang, kind, intent, float(score), text,
                 update_id))
            return int(row[0])

        return await self._write("log a message", work)

    async def record_unanswered(self, user_id: int, message_id: int | None, text: str,
                                lang: str) -> bool:
        """Keep a question the bot could not answer, for the admins' list of gaps.

        The link to `message_id` is kept only if that message is the same user's; the same
        message recorded again (answered again after a crash) stays one row. True when
        stored, so the bot only tells the user "recorded" when it was.
        """
        key = self.user_key(user_id)
        return bool(await self._run(
            "record an unanswered question",
            "INSERT INTO unanswered (user_key, message_id, at, lang, text) VALUES"
            " (?, (SELECT id FROM messages WHERE id = ? AND user_key = ?), ?, ?, ?)"
            " ON CONFLICT (message_id) DO UPDATE SET at = excluded.at, text = excluded.text",
            (key, message_id, key, time.time(), lang, text)))

    async def add_feedback(self, user_id: int, message_id: int, value: int) -> bool:
        """Store a thumbs up (+1) or down (-1) on one of the user's own messages.

        False when nothing was stored: another user's (or no) message — a forged button must
        not touch someone else's data — a value other than ±1, or a database fault. A second
        vote on the same message replaces the first.
        """
        if value not in (1, -1):
            return False
        real, integer = self.dialect.real, self.dialect.int
        return bool(await self._run(
            "store feedback",
            f"INSERT INTO feedback (message_id, at, value) SELECT id, CAST(? AS {real}),"
            f" CAST(? AS {integer}) FROM messages WHERE id = ? AND user_key = ?"
            " ON CONFLICT (message_id) DO UPDATE SET value = excluded.value, at = excluded.at",
            (time.time(), value, message_id, self.user_key(user_id))))

    async def save_conversation(self, chat_id: int, user_id: int, state: str) -> None:
        """Keep the conversation state of one user in one chat (the engine's JSON), where
        the instance that gets the user's next message finds it."""
        await self._run("save a conversation",
                        "INSERT INTO conversations (chat_key, user_key, state, at)"
                        " VALUES (?, ?, ?, ?) ON CONFLICT (chat_key) DO UPDATE SET"
                        " state = excluded.state, at = excluded.at",
                        (self._chat_key(chat_id, user_id), self.user_key(user_id), state,
                         time.time()))

    async def clear_conversation(self, chat_id: int, user_id: int) -> None:
        await self._delete("clear a conversation", [
            ("DELETE FROM conversations WHERE chat_key = ?", (self._chat_key(chat_id, user_id),)),
        ])

    async def remember_sent(self, chat_id: int, message_id: int, user_id: int,
                            intent: str) -> None:
        """Note the topic of an answer the bot sent, for a reply that quotes it later."""
        await self._run("remember a sent answer",
                        "INSERT INTO sent (chat_key, message_id, user_key, intent, at)"
                        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (chat_key, message_id) DO UPDATE"
                        " SET intent = excluded.intent, at = excluded.at",
                        (self._key(f"chat:{chat_id}"), message_id, self.user_key(user_id),
                         intent, time.time()))

    async def forget(self, user_id: int) -> bool:
        """Delete everything about the user (profile, messages, votes, unanswered questions,
        conversations). True only when that surely happened: False when the database failed,
        or when the secret changed (rows written under the old one cannot be found)."""
        if self.secret_changed:
            log.warning("storage: /forget refused: the pseudonym secret changed")
            return False
        key = self.user_key(user_id)
        return None is not await self._delete_all("forget a user", [
            ("DELETE FROM feedback WHERE message_id IN"
             " (SELECT id FROM messages WHERE user_key = ?)", (key,)),
            ("DELETE FROM unanswered WHERE user_key = ?", (key,)),
            ("DELETE FROM messages WHERE user_key = ?", (key,)),
            ("DELETE FROM conversations WHERE user_key = ?", (key,)),
            ("DELETE FROM sent WHERE user_key = ?", (key,)),
            ("DELETE FROM flood WHERE user_key = ?", (key,)),
            ("DELETE FROM users WHERE user_key = ?", (key,)),
        ])

    async def take_token(self, user_id: int, rules: flood.Rules,
                         now: float | None = None) -> flood.Check:
        """Count one message against the user's bucket, atomically across instances (the
        row is locked until the transaction ends). On a database fault the message is let
        through: an unanswered user is worse than an unthrottled one."""
        now = time.time() if now is None else now
        key = self.user_key(user_id)

        async def work(tx: Transaction) -> flood.Check:
            rows = await tx.fetch("SELECT tokens, at, told FROM flood WHERE user_key = ?"
                                  + self.dialect.lock_rows, (key,))
            if not rows:
                await tx.execute("INSERT INTO flood (user_key, tokens, at) VALUES (?, ?, ?)"
                                 " ON CONFLICT (user_key) DO NOTHING",
                                 (key, float(rules.burst), now))
                rows = await tx.fetch("SELECT tokens, at, told FROM flood WHERE user_key = ?"
                                      + self.dialect.lock_rows, (key,))
            tokens, at, told = rows[0]
            bucket, check = flood.take(flood.Bucket(tokens, at, bool(told)), now, rules)
            await tx.execute("UPDATE flood SET tokens = ?, at = ?, told = ? WHERE user_key = ?",
                             (bucket.tokens, bucket.at, int(bucket.told), key))
            return check

        return await self._write("count a message", work) or flood.Check(flood.Verdict.ALLOW)

    # -- the inbox: each update answered once, by whichever instance received it first -----

    async def receive(self, update_id: int, body: str) -> bool | None:
        """Store an update before it is confirmed: True if new, False if already received
        (by this instance or another), None if it could not be stored (it must then not be
        confirmed)."""
        sealed = self._seal(body)
        stored = await self._run("store an update",
                                 "INSERT INTO inbox (update_id, received, body) VALUES (?, ?, ?)"
                                 " ON CONFLICT (update_id) DO NOTHING",
                                 (update_id, time.time(), sealed))
        return None if stored is None else stored > 0

    async def done(self, update_id: int) -> None:
        """An update is answered: keep only its id (a redelivery is then recognised)."""
        await self._run("mark an update done",
                        "UPDATE inbox SET done = 1, body = '' WHERE update_id = ?", (update_id,))

    async def pending(self, since: float,
                      idle: float = 0.0) -> tuple[list[tuple[int, str]], int]:
        """Updates stored but not answered: those received after `since` and untouched for
        `idle` seconds (to answer now: they are claimed, so no other instance takes them up
        too), and how many older ones were given up (marked done). With one process `idle`
        is 0; with several, an update younger than that may be in another one's hands."""
        now = time.time()

        async def claim(tx: Transaction) -> list[Sequence[Any]]:
            rows = await tx.fetch(
                "SELECT update_id, body FROM inbox WHERE done = 0 AND received >= ?"
                " AND COALESCE(claimed, received) <= ? ORDER BY update_id"
                + self.dialect.skip_locked, (since, now - idle))
            for update_id, _ in rows:
                await tx.execute("UPDATE inbox SET claimed = ? WHERE update_id = ?",
                                 (now, update_id))
            return rows

        fresh = []
        for update_id, sealed in await self._write("take up pending updates", claim) or []:
            body = self._unseal(str(sealed))
            if body is None:  # sealed under another secret: it cannot be answered now
                await self.done(int(update_id))
            else:
                fresh.append((int(update_id), body))
        stale = await self._run("give up stale updates",
                                "UPDATE inbox SET done = 1, body = '' WHERE done = 0"
                                " AND received < ?", (since,))
        return fresh, stale or 0

    def _seal(self, text: str) -> str:
        """An update as stored until answered: encrypted (AES-GCM, under a key derived from
        the pseudonym secret), so the database never holds a user id in the clear."""
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        nonce = secrets.token_bytes(12)
        return base64.b64encode(nonce + AESGCM(self._box).encrypt(nonce, text.encode(), None)
                                ).decode("ascii")

    def _unseal(self, sealed: str) -> str | None:
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        try:
            raw = base64.b64decode(sealed)
            return AESGCM(self._box).decrypt(raw[:12], raw[12:], None).decode()
        except (ValueError, InvalidTag):
            return None

    # -- periodic work ---------------------------------------------------------------------

    async def purge_older_than(self, days: int) -> int:
        """Delete logged messages, unanswered questions and votes older than `days` (a vote
        goes with its message); user rows and their /lang choice stay. Returns rows deleted."""
        cutoff, yesterday = _since(days), time.time() - _DAY_S
        return await self._delete("purge old logs", [
            ("DELETE FROM feedback WHERE at < ? OR message_id IN"
             " (SELECT id FROM messages WHERE at < ?)", (cutoff, cutoff)),
            ("DELETE FROM unanswered WHERE at < ?", (cutoff,)),
            # a newer unanswered row linked to an old message loses the link (ON DELETE SET NULL)
            ("DELETE FROM messages WHERE at < ?", (cutoff,)),
            ("DELETE FROM sent WHERE at < ?", (cutoff,)),
            ("DELETE FROM inbox WHERE done = 1 AND received < ?", (yesterday,)),
            # a conversation's topic expires within the hour: a day-old state is only clutter,
            # and a day-old bucket is full again anyway
            ("DELETE FROM conversations WHERE at < ?", (yesterday,)),
            ("DELETE FROM flood WHERE at < ?", (yesterday,)),
        ])

    def exclusive(self, job: str) -> AbstractAsyncContextManager[bool]:
        """Whether this process may run `job` now: with one process, always."""
        return _always()

    async def first_to_report(self, topic: str, version: str) -> bool:
        """True for exactly one caller per new `version` of `topic`, across instances: the
        one that tells the admins (several instances reloading the same edit say it once)."""
        changed = await self._run(
            "note a report", "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key)"
            " DO UPDATE SET value = excluded.value WHERE meta.value <> excluded.value",
            (f"reported:{topic}", version))
        return bool(changed)

    # -- reads -----------------------------------------------------------------------------

    async def get_language(self, user_id: int) -> str | None:
        """The user's saved /lang choice, or None (none saved, or the database failed: the
        reply then falls back to detecting the language, which is better than no reply)."""
        return await self._lookup("a language choice", "SELECT lang FROM users"
                                  " WHERE user_key = ?", (self.user_key(user_id),))

    async def conversation(self, chat_id: int, user_id: int) -> str | None:
        """The stored conversation state (JSON), or None (none, or the database failed: the
        message is then read on its own, which is better than no reply)."""
        return await self._lookup("a conversation", "SELECT state FROM conversations"
                                  " WHERE chat_key = ?", (self._chat_key(chat_id, user_id),))

    async def sent_topic(self, chat_id: int, message_id: int) -> str | None:
        """The topic of an answer the bot sent in a chat, if it is known."""
        return await self._lookup("a sent answer's topic", "SELECT intent FROM sent"
                                  " WHERE chat_key = ? AND message_id = ?",
                                  (self._key(f"chat:{chat_id}"), message_id))

    async def stats(self, days: int) -> Stats:
        """Activity of the last `days` days. `users` counts users who asked something;
        `top_intents` counts answered questions; `feedback` is keyed by the voted reply's
        intent (NO_INTENT if it had none) and counts votes cast in the window."""
        since = _since(days)
        (row,) = await self._read(
            "usage statistics",
            f"SELECT COUNT(*), COUNT(DISTINCT user_key), {_count('answer')},"
            f" {_count('clarify')}, {_count('fallback')} FROM messages WHERE at >= ?",
            (since,),
        )
        top = await self._read(
            "top intents",
            "SELECT intent, COUNT(*) AS n FROM messages"
            " WHERE at >= ? AND kind = 'answer' AND intent IS NOT NULL"
            " GROUP BY intent ORDER BY n DESC, intent LIMIT ?",
            (since, TOP_INTENTS),
        )
        votes = await self._read(
            "feedback totals",
            "SELECT COALESCE(m.intent, ?),"
            " SUM(CASE WHEN f.value > 0 THEN 1 ELSE 0 END),"
            " SUM(CASE WHEN f.value < 0 THEN 1 ELSE 0 END)"
            " FROM feedback AS f JOIN messages AS m ON m.id = f.message_id"
            " WHERE f.at >= ? GROUP BY 1 ORDER BY 1",
            (NO_INTENT, since),
        )
        return Stats(
            days=days,
            messages=int(row[0]),
            users=int(row[1]),
            answered=int(row[2]),
            clarified=int(row[3]),
            fallback=int(row[4]),
            top_intents=[(intent, int(n)) for intent, n in top],
            feedback={intent: (int(up), int(down)) for intent, up, down in votes},
        )

    async def top_intents(self, days: int, limit: int) -> list[str]:
        """The most answered topics of the last `days` days (inline mode's empty query)."""
        try:
            rows = await self._read(
                "top intents", "SELECT intent, COUNT(*) AS n FROM messages WHERE at >= ? AND"
                " kind = 'answer' AND intent IS NOT NULL AND intent NOT LIKE 'meta.%'"
                " GROUP BY intent ORDER BY n DESC, intent LIMIT ?", (_since(days), limit))
        except StorageError as exc:
            log.warning("storage: %s", exc)
            return []
        return [intent for intent, _ in rows]

    async def daily(self, days: int) -> list[Day]:
        """Questions per day (UTC) and how they were answered, oldest first."""
        rows = await self._read(
            "questions per day",
            f"SELECT {self.dialect.day_expr} AS d, {_count('answer')}, {_count('clarify')},"
            f" {_count('fallback')} FROM messages WHERE at >= ? GROUP BY d ORDER BY d",
            (_since(days),))
        return [Day(_utc(d * _DAY_S).date().isoformat(), int(a), int(c), int(f))
                for d, a, c, f in rows]

    async def unanswered(self, days: int) -> list[UnansweredRow]:
        """Questions the bot could not answer in the last `days` days, newest first."""
        rows = await self._read(
            "unanswered questions",
            "SELECT at, lang, text FROM unanswered WHERE at >= ? ORDER BY at DESC, id DESC",
            (_since(days),),
        )
        return [UnansweredRow(at=_utc(at), lang=lang, text=text) for at, lang, text in rows]

    async def feedback_rows(self, days: int) -> list[FeedbackRow]:
        """Votes cast in the last `days` days with the question they were about, newest first."""
        rows = await self._read(
            "feedback",
            "SELECT f.at, m.intent, m.text, f.value"
            " FROM feedback AS f JOIN messages AS m ON m.id = f.message_id"
            " WHERE f.at >= ? ORDER BY f.at DESC, f.message_id DESC",
            (_since(days),),
        )
        return [FeedbackRow(at=_utc(at), intent=intent, question=text, value=int(value))
                for at, intent, text, value in rows]

    # -- helpers ---------------------------------------------------------------------------

    async def _write(self, what: str, work: Callable[[Transaction], Awaitable[T]]) -> T | None:
        """Run `work` as one transaction; on a database fault (rolled back) log one warning
        (what failed and why, never data) and return None."""
        try:
            async with self._transaction() as tx:
                return await work(tx)
        except self.FAULTS as exc:
            log.warning("storage: could not %s (%s: %s); carrying on",
                        what, type(exc).__name__, self._reason(exc))
            return None

    async def _run(self, what: str, sql: str, params: Sequence[Any]) -> int | None:
        """One statement as a write: the rows it changed, or None on a fault."""
        return await self._write(what, lambda tx: tx.execute(sql, params))

    async def _delete(self, what: str, statements: Iterable[tuple[str, tuple[Any, ...]]]) -> int:
        """Run the statements as one transaction; the rows deleted (0 also on a fault)."""
        return await self._delete_all(what, statements) or 0

    async def _delete_all(self, what: str,
                          statements: Iterable[tuple[str, tuple[Any, ...]]]) -> int | None:
        """Like _delete, but None when it failed (a caller that must not claim success)."""
        async def work(tx: Transaction) -> int:
            deleted = 0
            for sql, params in statements:
                deleted += await tx.execute(sql, params)
            return deleted

        return await self._write(what, work)

    async def _lookup(self, what: str, sql: str, params: tuple[Any, ...]) -> Any:
        """One value for the conversation path: None when absent or unreadable (logged)."""
        try:
            async with self._transaction() as tx:
                rows = await tx.fetch(sql, params)
        except self.FAULTS as exc:
            log.warning("storage: could not read %s (%s: %s)", what, type(exc).__name__,
                        self._reason(exc))
            return None
        return rows[0][0] if rows else None

    async def _read(self, what: str, sql: str, params: tuple[Any, ...]) -> list[Sequence[Any]]:
        try:
            async with self._transaction() as tx:
                return await tx.fetch(sql, params)
        except self.FAULTS as exc:
            raise StorageError(f"cannot read {what} from the database: "
                               f"{self._reason(exc)}") from exc


def _count(kind: str) -> str:
    """How many of the selected messages have this kind (0 when none are selected)."""
    return f"COALESCE(SUM(CASE WHEN kind = '{kind}' THEN 1 ELSE 0 END), 0)"


@asynccontextmanager
async def _always() -> AsyncIterator[bool]:
    yield True

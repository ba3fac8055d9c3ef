"""What the bot remembers: language choices, a message log for admin reports, and feedback.

One SQLite file (aiosqlite, WAL) that a restart finds intact. Telegram user ids are never
stored: every row carries `user_key(user_id)`, an HMAC of the id under a secret (the configured
one, or one generated once and kept in the `meta` table), so rows of one user can be found and
forgotten without the id itself being in the file. No usernames, names or phone numbers are
accepted at all.

Faults never stop the conversation: a write that fails (full disk, database locked for longer
than the busy timeout, ...) logs one warning without message text or user ids and returns a
neutral value (None / False / 0); `get_language` likewise returns None. The admin reads
(`stats`, `unanswered`, `feedback_rows`) raise `StorageError` instead, because an admin is
better served by "the database is unreadable" than by a report that silently says "0".
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import os
import secrets
import sqlite3
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from .errors import StorageError

log = logging.getLogger(__name__)

T = TypeVar("T")

BUSY_TIMEOUT_S = 2.0  # a locked database makes a write wait at most this long, then give up
KEY_LENGTH = 32  # hex characters of the HMAC kept as the user key
TOP_INTENTS = 10
NO_INTENT = "(none)"  # the `Stats.feedback` key for votes on a reply that had no intent
_SECRET_KEY = "user_key_secret"  # where versions before 0.2 kept a generated secret
_CHECK_KEY = "user_key_check"  # HMAC of a constant under the secret the keys were made with
_DAY_S = 86_400

# Schema migrations, applied in order; `PRAGMA user_version` is the number applied so far.
# Never edit a released script: append a new one (version = its position, counting from 1).
MIGRATIONS: list[str] = [
    # 1: initial schema. Times are unix seconds (UTC).
    """
    CREATE TABLE IF NOT EXISTS meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS users (
        user_key   TEXT PRIMARY KEY,
        lang       TEXT,            -- the user's /lang choice; NULL = detect per message
        last_lang  TEXT,            -- the language the user last wrote in
        first_seen REAL NOT NULL,
        last_seen  REAL NOT NULL
    );
    CREATE TABLE IF NOT EXISTS messages (
        id       INTEGER PRIMARY KEY,
        user_key TEXT NOT NULL,
        at       REAL NOT NULL,
        lang     TEXT NOT NULL,
        kind     TEXT NOT NULL CHECK (kind IN ('answer', 'clarify', 'fallback')),
        intent   TEXT,
        score    REAL NOT NULL,
        text     TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS messages_at ON messages (at);
    CREATE INDEX IF NOT EXISTS messages_user ON messages (user_key);
    CREATE TABLE IF NOT EXISTS unanswered (
        id         INTEGER PRIMARY KEY,
        user_key   TEXT NOT NULL,
        message_id INTEGER REFERENCES messages (id) ON DELETE SET NULL,
        at         REAL NOT NULL,
        lang       TEXT NOT NULL,
        text       TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS unanswered_at ON unanswered (at);
    CREATE INDEX IF NOT EXISTS unanswered_user ON unanswered (user_key);
    -- one vote per message; whose vote it is follows from the message
    CREATE TABLE IF NOT EXISTS feedback (
        message_id INTEGER PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
        at         REAL NOT NULL,
        value      INTEGER NOT NULL CHECK (value IN (-1, 1))
    );
    CREATE INDEX IF NOT EXISTS feedback_at ON feedback (at);
    """,
    # 2: conversation state per chat and user, and the topic of each answer the bot sent (so a
    # reply quoting it is read with that topic). Keys are HMACs, like user_key.
    """
    CREATE TABLE IF NOT EXISTS conversations (
        chat_key TEXT PRIMARY KEY,      -- HMAC of chat id and user id
        user_key TEXT NOT NULL,
        state    TEXT NOT NULL,         -- the engine's Conversation, as JSON
        at       REAL NOT NULL
    );
    CREATE INDEX IF NOT EXISTS conversations_user ON conversations (user_key);
    CREATE INDEX IF NOT EXISTS conversations_at ON conversations (at);
    CREATE TABLE IF NOT EXISTS sent (
        chat_key   TEXT NOT NULL,       -- HMAC of the chat id
        message_id INTEGER NOT NULL,    -- Telegram's id of the bot's message in that chat
        user_key   TEXT NOT NULL,       -- whom it answered
        intent     TEXT NOT NULL,
        at         REAL NOT NULL,
        PRIMARY KEY (chat_key, message_id)
    );
    CREATE INDEX IF NOT EXISTS sent_user ON sent (user_key);
    CREATE INDEX IF NOT EXISTS sent_at ON sent (at);
    """,
    # 3: every update as it arrives, before Telegram is told it did; `done` once answered.
    # The body (names already blanked) is cleared when done; the row stays a day, so a
    # redelivered update is recognised.
    """
    CREATE TABLE IF NOT EXISTS inbox (
        update_id INTEGER PRIMARY KEY,
        received  REAL NOT NULL,
        body      TEXT NOT NULL,
        done      INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX IF NOT EXISTS inbox_pending ON inbox (done, received);
    """,
    # 4: the update a logged message came from: answering it again after a crash (it was
    # logged, but not yet marked done) updates its row instead of logging it twice.
    """
    ALTER TABLE messages ADD COLUMN update_id INTEGER;
    CREATE UNIQUE INDEX IF NOT EXISTS messages_update ON messages (update_id);
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)


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


def _utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _seconds(at: datetime) -> float:
    """A naive datetime is taken as UTC, like every time in this module."""
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp()


def _since(days: int) -> float:
    return time.time() - days * _DAY_S


class Storage:
    """The bot's database. Create it with `await Storage.open(path)`; one per process."""

    def __init__(self, db: aiosqlite.Connection, secret: str, path: Path,
                 secret_changed: bool = False) -> None:
        self._db = db
        self._secret = secret.encode()
        self._box = hmac.new(self._secret, b"cdht-inbox", hashlib.sha256).digest()
        self.path = path
        self._inode = _inode(path)
        # The data was keyed with another secret: it cannot be found (nor forgotten) by user.
        self.secret_changed = secret_changed
        # One connection is shared by all handlers: the lock keeps each write's statements
        # and its commit together, so one handler cannot commit another's half-done work.
        self._lock = asyncio.Lock()

    # -- lifecycle -------------------------------------------------------------------------

    @classmethod
    async def open(cls, path: Path | str, *, secret: str = "", create: bool = True) -> Storage:
        """Open (creating folders, file and schema, or migrating) the database at `path`.

        Without `secret`, the pseudonym secret is generated once and kept in a file of its own
        beside the database (mode 0600): a copy of the database alone does not reveal whose
        rows are whose. `create=False` (the admin reports) refuses a database that does not
        exist instead of creating an empty one. Raises StorageError when the file cannot be
        used: missing, not a database, unreadable, or of a newer version of the bot.
        """
        path = Path(path)
        if not create and not path.is_file():
            raise StorageError(f"there is no database at {path} (has the bot run here yet?)")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            db = await aiosqlite.connect(path, timeout=BUSY_TIMEOUT_S)
        except (OSError, sqlite3.Error) as exc:
            raise StorageError(f"cannot open the database {path}: {exc}") from exc
        try:
            await db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            await db.execute("PRAGMA journal_mode = WAL")
            await db.execute("PRAGMA synchronous = NORMAL")
            await db.execute("PRAGMA foreign_keys = ON")
            await _migrate(db, path)
            key = secret or await _secret_file(db, secret_path(path))
            changed = not await _same_secret(db, key)
        except sqlite3.Error as exc:
            await db.close()
            raise StorageError(f"cannot open the database {path}: {exc}") from exc
        except BaseException:
            await db.close()
            raise
        if changed:
            log.error("storage: the pseudonym secret is not the one this database was written "
                      "with (USER_HASH_SECRET changed?): earlier rows cannot be found by user")
        return cls(db, key, path, changed)

    async def close(self) -> None:
        """Close the connection (checkpointing the WAL); safe to call twice."""
        async with self._lock:
            await self._db.close()

    # -- keys ------------------------------------------------------------------------------

    def user_key(self, user_id: int) -> str:
        """The pseudonym stored instead of a Telegram user id: HMAC-SHA256, first 32 hex."""
        return self._key(str(user_id))

    def _key(self, text: str) -> str:
        return hmac.new(self._secret, text.encode(), hashlib.sha256).hexdigest()[:KEY_LENGTH]

    def _chat_key(self, chat_id: int, user_id: int) -> str:
        return self._key(f"conversation:{chat_id}:{user_id}")

    # -- writes (never raise sqlite errors: log and return a neutral value) ----------------

    async def touch_user(self, user_id: int, lang: str | None = None) -> None:
        """Note that the user is active (first/last seen) and, if given, the language they
        wrote in. That language is not their /lang choice: `get_language` ignores it."""
        now = time.time()

        async def work(db: aiosqlite.Connection) -> None:
            await db.execute(
                "INSERT INTO users (user_key, last_lang, first_seen, last_seen)"
                " VALUES (?, ?, ?, ?)"
                " ON CONFLICT (user_key) DO UPDATE SET last_seen = excluded.last_seen,"
                " last_lang = COALESCE(excluded.last_lang, last_lang)",
                (self.user_key(user_id), lang, now, now),
            )

        await self._write("note a user's activity", work)

    async def set_language(self, user_id: int, lang: str) -> None:
        """Save the user's /lang choice, so it outlives a restart."""
        now = time.time()

        async def work(db: aiosqlite.Connection) -> None:
            await db.execute(
                "INSERT INTO users (user_key, lang, first_seen, last_seen) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (user_key) DO UPDATE SET lang = excluded.lang,"
                " last_seen = excluded.last_seen",
                (self.user_key(user_id), lang, now, now),
            )

        await self._write("save a language choice", work)

    async def log_message(self, user_id: int, *, text: str, lang: str, kind: str,
                          intent: str | None, score: float,
                          at: datetime | None = None,
                          update_id: int | None = None) -> int | None:
        """Log a question and how it was answered; returns the row id (for feedback buttons),
        or None when it could not be stored. `at` (default now) exists for tests/imports.
        `update_id`: the Telegram update it came from; logging the same one again (answered
        again after a crash) replaces its row and keeps its id."""
        when = time.time() if at is None else _seconds(at)

        async def work(db: aiosqlite.Connection) -> int | None:
            cursor = await db.execute(
                "INSERT INTO messages (user_key, at, lang, kind, intent, score, text, update_id)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (update_id) DO UPDATE SET"
                " at = excluded.at, lang = excluded.lang, kind = excluded.kind,"
                " intent = excluded.intent, score = excluded.score, text = excluded.text"
                " RETURNING id",
                (self.user_key(user_id), when, lang, kind, intent, float(score), text, update_id),
            )
            row = await cursor.fetchone()
            return int(row[0]) if row else None

        return await self._write("log a message", work)

    async def record_unanswered(self, user_id: int, message_id: int | None, text: str,
                                lang: str) -> bool:
        """Keep a question the bot could not answer, for the admins' list of gaps.

        The link to `message_id` is kept only if that message is the same user's. True when
        stored, so the bot only tells the user "recorded" when it was.
        """
        key = self.user_key(user_id)

        async def work(db: aiosqlite.Connection) -> bool:
            await db.execute(
                "INSERT INTO unanswered (user_key, message_id, at, lang, text) VALUES"
                " (?, (SELECT id FROM messages WHERE id = ? AND user_key = ?), ?, ?, ?)",
                (key, message_id, key, time.time(), lang, text),
            )
            return True

        return bool(await self._write("record an unanswered question", work))

    async def add_feedback(self, user_id: int, message_id: int, value: int) -> bool:
        """Store a thumbs up (+1) or down (-1) on one of the user's own messages.

        False when nothing was stored: another user's (or no) message — a forged button must
        not touch someone else's data — a value other than ±1, or a database fault. A second
        vote on the same message replaces the first.
        """
        if value not in (1, -1):
            return False

        async def work(db: aiosqlite.Connection) -> bool:
            cursor = await db.execute(
                "INSERT INTO feedback (message_id, at, value)"
                " SELECT id, ?, ? FROM messages WHERE id = ? AND user_key = ?"
                " ON CONFLICT (message_id) DO UPDATE SET value = excluded.value, at = excluded.at",
                (time.time(), value, message_id, self.user_key(user_id)),
            )
            return cursor.rowcount > 0

        return bool(await self._write("store feedback", work))

    async def save_conversation(self, chat_id: int, user_id: int, state: str) -> None:
        """Keep the conversation state of one user in one chat (the engine's JSON)."""
        now = time.time()

        async def work(db: aiosqlite.Connection) -> None:
            await db.execute(
                "INSERT INTO conversations (chat_key, user_key, state, at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (chat_key) DO UPDATE SET state = excluded.state, at = excluded.at",
                (self._chat_key(chat_id, user_id), self.user_key(user_id), state, now),
            )

        await self._write("save a conversation", work)

    async def clear_conversation(self, chat_id: int, user_id: int) -> None:
        await self._delete("clear a conversation", [
            ("DELETE FROM conversations WHERE chat_key = ?", (self._chat_key(chat_id, user_id),)),
        ])

    async def remember_sent(self, chat_id: int, message_id: int, user_id: int,
                            intent: str) -> None:
        """Note the topic of an answer the bot sent, for a reply that quotes it later."""

        async def work(db: aiosqlite.Connection) -> None:
            await db.execute(
                "INSERT INTO sent (chat_key, message_id, user_key, intent, at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (chat_key, message_id) DO UPDATE SET"
                " intent = excluded.intent, at = excluded.at",
                (self._key(f"chat:{chat_id}"), message_id, self.user_key(user_id), intent,
                 time.time()),
            )

        await self._write("remember a sent answer", work)

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
            ("DELETE FROM users WHERE user_key = ?", (key,)),
        ])

    async def receive(self, update_id: int, body: str) -> bool | None:
        """Store an update before it is confirmed: True if new, False if already received,
        None if it could not be stored (it must then not be confirmed)."""

        sealed = self._seal(body)

        async def work(db: aiosqlite.Connection) -> bool:
            cursor = await db.execute(
                "INSERT INTO inbox (update_id, received, body) VALUES (?, ?, ?)"
                " ON CONFLICT (update_id) DO NOTHING", (update_id, time.time(), sealed))
            return cursor.rowcount > 0

        return await self._write("store an update", work)

    async def done(self, update_id: int) -> None:
        """An update is answered: keep only its id (a redelivery is then recognised)."""

        async def work(db: aiosqlite.Connection) -> None:
            await db.execute("UPDATE inbox SET done = 1, body = '' WHERE update_id = ?",
                             (update_id,))

        await self._write("mark an update done", work)

    async def pending(self, since: float) -> tuple[list[tuple[int, str]], int]:
        """Updates stored but not answered: those received after `since` (to answer now),
        and how many older ones were given up (marked done)."""
        try:
            async with self._db.execute(
                "SELECT update_id, body FROM inbox WHERE done = 0 AND received >= ?"
                " ORDER BY update_id", (since,)) as cursor:
                rows = await cursor.fetchall()
        except sqlite3.Error as exc:
            log.warning("storage: could not read pending updates (%s)", exc)
            return [], 0
        fresh = []
        for update_id, sealed in rows:
            body = self._unseal(str(sealed))
            if body is None:  # sealed under another secret: it cannot be answered now
                await self.done(int(update_id))
            else:
                fresh.append((int(update_id), body))

        async def work(db: aiosqlite.Connection) -> int:
            cursor = await db.execute("UPDATE inbox SET done = 1, body = '' WHERE done = 0"
                                      " AND received < ?", (since,))
            return max(cursor.rowcount, 0)

        return fresh, await self._write("give up stale updates", work) or 0

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

    def health(self) -> str | None:
        """What is wrong with the database file under the running bot, if anything."""
        if not self.path.exists():
            return f"the database file {self.path} was deleted while the bot runs"
        if self._inode is not None and _inode(self.path) != self._inode:
            return f"the database file {self.path} was replaced while the bot runs"
        return None

    async def purge_older_than(self, days: int) -> int:
        """Delete logged messages, unanswered questions and votes older than `days` (a vote
        goes with its message); user rows and their /lang choice stay. Returns rows deleted."""
        cutoff = _since(days)
        return await self._delete("purge old logs", [
            ("DELETE FROM feedback WHERE at < ? OR message_id IN"
             " (SELECT id FROM messages WHERE at < ?)", (cutoff, cutoff)),
            ("DELETE FROM unanswered WHERE at < ?", (cutoff,)),
            # a newer unanswered row linked to an old message loses the link (ON DELETE SET NULL)
            ("DELETE FROM messages WHERE at < ?", (cutoff,)),
            ("DELETE FROM sent WHERE at < ?", (cutoff,)),
            ("DELETE FROM inbox WHERE done = 1 AND received < ?", (time.time() - _DAY_S,)),
            # a conversation's topic expires within the hour: a day-old state is only clutter
            ("DELETE FROM conversations WHERE at < ?", (time.time() - _DAY_S,)),
        ])

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
            "SELECT COUNT(*), COUNT(DISTINCT user_key), COALESCE(SUM(kind = 'answer'), 0),"
            " COALESCE(SUM(kind = 'clarify'), 0), COALESCE(SUM(kind = 'fallback'), 0)"
            " FROM messages WHERE at >= ?",
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
            "SELECT COALESCE(m.intent, ?), SUM(f.value > 0), SUM(f.value < 0)"
            " FROM feedback AS f JOIN messages AS m ON m.id = f.message_id"
            " WHERE f.at >= ? GROUP BY 1 ORDER BY 1",
            (NO_INTENT, since),
        )
        return Stats(
            days=days,
            messages=row[0],
            users=row[1],
            answered=row[2],
            clarified=row[3],
            fallback=row[4],
            top_intents=[(intent, n) for intent, n in top],
            feedback={intent: (up, down) for intent, up, down in votes},
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
            "SELECT CAST(at / 86400 AS INTEGER) AS d, SUM(kind = 'answer'),"
            " SUM(kind = 'clarify'), SUM(kind = 'fallback') FROM messages WHERE at >= ?"
            " GROUP BY d ORDER BY d", (_since(days),))
        return [Day(_utc(d * _DAY_S).date().isoformat(), a, c, f) for d, a, c, f in rows]

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
        return [FeedbackRow(at=_utc(at), intent=intent, question=text, value=value)
                for at, intent, text, value in rows]

    # -- helpers ---------------------------------------------------------------------------

    async def _write(self, what: str,
                     work: Callable[[aiosqlite.Connection], Awaitable[T]]) -> T | None:
        """Run `work` and commit, as one transaction; on a database fault roll back, log
        one warning (what failed and why, never data) and return None."""
        async with self._lock:
            try:
                result = await work(self._db)
                await self._db.commit()
            except sqlite3.Error as exc:
                log.warning("storage: could not %s (%s: %s); carrying on",
                            what, type(exc).__name__, exc)
                await self._rollback()
                return None
            return result

    async def _delete(self, what: str, statements: Iterable[tuple[str, tuple[Any, ...]]]) -> int:
        """Run the statements as one transaction; the rows deleted (0 also on a fault)."""
        return await self._delete_all(what, statements) or 0

    async def _delete_all(self, what: str,
                          statements: Iterable[tuple[str, tuple[Any, ...]]]) -> int | None:
        """Like _delete, but None when it failed (a caller that must not claim success)."""
        async def work(db: aiosqlite.Connection) -> int:
            deleted = 0
            for sql, params in statements:
                cursor = await db.execute(sql, params)
                deleted += max(cursor.rowcount, 0)
            return deleted

        return await self._write(what, work)

    async def _rollback(self) -> None:
        try:
            await self._db.rollback()
        except sqlite3.Error as exc:  # the connection itself is broken: nothing more to undo
            log.warning("storage: rollback failed (%s: %s)", type(exc).__name__, exc)

    async def _lookup(self, what: str, sql: str, params: tuple[Any, ...]) -> Any:
        """One value for the conversation path: None when absent or unreadable (logged)."""
        try:
            async with self._db.execute(sql, params) as cursor:
                row = await cursor.fetchone()
        except sqlite3.Error as exc:
            log.warning("storage: could not read %s (%s: %s)", what, type(exc).__name__, exc)
            return None
        return row[0] if row else None

    async def _read(self, what: str, sql: str, params: tuple[Any, ...]) -> list[sqlite3.Row]:
        try:
            async with self._db.execute(sql, params) as cursor:
                return list(await cursor.fetchall())
        except sqlite3.Error as exc:
            raise StorageError(f"cannot read {what} from the database: {exc}") from exc


async def _migrate(db: aiosqlite.Connection, path: Path) -> None:
    """Bring the schema to SCHEMA_VERSION, one script per transaction."""
    async with db.execute("PRAGMA user_version") as cursor:
        (version,) = await cursor.fetchone() or (0,)
    if version > SCHEMA_VERSION:
        raise StorageError(
            f"the database {path} has schema version {version}, but this version of the bot "
            f"knows only up to {SCHEMA_VERSION}: run a newer bot, or restore an older backup"
        )
    for number in range(version + 1, SCHEMA_VERSION + 1):
        script = MIGRATIONS[number - 1]
        try:
            await db.executescript(
                f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;"
            )
        except sqlite3.Error:
            await db.rollback()
            raise


def secret_path(database: Path) -> Path:
    """Where a generated pseudonym secret is kept: beside the database, never inside it."""
    return database.with_name(database.name + ".secret")


def _inode(path: Path) -> int | None:
    try:
        return path.stat().st_ino
    except OSError:
        return None


async def _secret_file(db: aiosqlite.Connection, path: Path) -> str:
    """The generated secret, from its 0600 file; created once (a racing process keeps the
    first). A secret that an earlier version kept in the database is moved to the file."""
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise StorageError(f"cannot read the pseudonym secret {path}: {exc}") from exc
    async with db.execute("SELECT value FROM meta WHERE key = ?", (_SECRET_KEY,)) as cursor:
        row = await cursor.fetchone()
    value = row[0] if row else secrets.token_hex(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process was first: use its secret
        return path.read_text(encoding="ascii").strip()
    except OSError as exc:
        raise StorageError(f"cannot write the pseudonym secret {path}: {exc}") from exc
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(value)
    if row:
        await db.execute("DELETE FROM meta WHERE key = ?", (_SECRET_KEY,))
        await db.commit()
    log.warning("storage: generated the pseudonym secret in %s (mode 0600); in production set "
                "USER_HASH_SECRET instead, and keep either out of backups of the database",
                path)
    return value


async def _same_secret(db: aiosqlite.Connection, secret: str) -> bool:
    """Whether `secret` is the one the rows were keyed with (recorded on first use)."""
    check = hmac.new(secret.encode(), b"cdht-check", hashlib.sha256).hexdigest()[:16]
    query = "SELECT value FROM meta WHERE key = ?"
    async with db.execute(query, (_CHECK_KEY,)) as cursor:
        row = await cursor.fetchone()
    if row is None:  # written once, so a normal restart opens without writing anything
        await db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)",
                         (_CHECK_KEY, check))
        await db.commit()
        async with db.execute(query, (_CHECK_KEY,)) as cursor:
            row = await cursor.fetchone()
    return bool(row) and row[0] == check

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
import hashlib
import hmac
import logging
import secrets
import sqlite3
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

log = logging.getLogger(__name__)

T = TypeVar("T")

BUSY_TIMEOUT_S = 2.0  # a locked database makes a write wait at most this long, then give up
KEY_LENGTH = 32  # hex characters of the HMAC kept as the user key
TOP_INTENTS = 10
NO_INTENT = "(none)"  # the `Stats.feedback` key for votes on a reply that had no intent
KINDS = ("answer", "clarify", "fallback")
_SECRET_KEY = "user_key_secret"
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
]
SCHEMA_VERSION = len(MIGRATIONS)


class StorageError(Exception):
    """The database cannot be opened or read (newer schema, not a database, unreadable)."""


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

    def __init__(self, db: aiosqlite.Connection, secret: str) -> None:
        self._db = db
        self._secret = secret.encode()
        # One connection is shared by all handlers: the lock keeps each write's statements
        # and its commit together, so one handler cannot commit another's half-done work.
        self._lock = asyncio.Lock()

    # -- lifecycle -------------------------------------------------------------------------

    @classmethod
    async def open(cls, path: Path | str, *, secret: str = "") -> Storage:
        """Open (creating folders, file and schema, or migrating) the database at `path`.

        Raises StorageError when the file cannot be used: not a database, unreadable, or
        written by a newer version of the bot (its schema would be misread).
        """
        path = Path(path)
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
            key = secret or await _stored_secret(db)
        except sqlite3.Error as exc:
            await db.close()
            raise StorageError(f"cannot open the database {path}: {exc}") from exc
        except BaseException:
            await db.close()
            raise
        return cls(db, key)

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
                          at: datetime | None = None) -> int | None:
        """Log a question and how it was answered; returns the row id (for feedback buttons),
        or None when it could not be stored. `at` (default now) exists for tests/imports."""
        when = time.time() if at is None else _seconds(at)

        async def work(db: aiosqlite.Connection) -> int | None:
            cursor = await db.execute(
                "INSERT INTO messages (user_key, at, lang, kind, intent, score, text)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (self.user_key(user_id), when, lang, kind, intent, float(score), text),
            )
            return cursor.lastrowid

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

    async def forget(self, user_id: int) -> int:
        """Delete everything about the user (profile, messages, votes, unanswered questions);
        returns the number of rows deleted (0 also when the database failed)."""
        key = self.user_key(user_id)
        return await self._delete("forget a user", [
            ("DELETE FROM feedback WHERE message_id IN"
             " (SELECT id FROM messages WHERE user_key = ?)", (key,)),
            ("DELETE FROM unanswered WHERE user_key = ?", (key,)),
            ("DELETE FROM messages WHERE user_key = ?", (key,)),
            ("DELETE FROM conversations WHERE user_key = ?", (key,)),
            ("DELETE FROM sent WHERE user_key = ?", (key,)),
            ("DELETE FROM users WHERE user_key = ?", (key,)),
        ])

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
        async def work(db: aiosqlite.Connection) -> int:
            deleted = 0
            for sql, params in statements:
                cursor = await db.execute(sql, params)
                deleted += max(cursor.rowcount, 0)
            return deleted

        return await self._write(what, work) or 0

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


async def _stored_secret(db: aiosqlite.Connection) -> str:
    """The secret kept in `meta`, generated on first use; a racing process keeps the first."""
    query = "SELECT value FROM meta WHERE key = ?"
    async with db.execute(query, (_SECRET_KEY,)) as cursor:
        row = await cursor.fetchone()
    if row is None:  # written once, so a normal restart opens without writing anything
        await db.execute(
            "INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)",
            (_SECRET_KEY, secrets.token_hex(32)),
        )
        await db.commit()
        async with db.execute(query, (_SECRET_KEY,)) as cursor:
            row = await cursor.fetchone()
    return row[0]

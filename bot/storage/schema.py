"""The schema, as migrations shared by every backend, and the few places where SQL dialects differ.

The scripts are written once, with the column types that differ as placeholders ({serial},
{real}, {int}); each backend renders them with its own `Dialect`. Shared code uses `?`
placeholders and only SQL that SQLite and PostgreSQL both understand; the dialect supplies
the rest (row locks, the day of a timestamp).
"""

from __future__ import annotations

from dataclasses import dataclass

# Schema migrations, applied in order; the backend records how many were applied (SQLite:
# `PRAGMA user_version`, PostgreSQL: the `schema_version` table).
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
        first_seen {real} NOT NULL,
        last_seen  {real} NOT NULL
    );
    CREATE TABLE IF NOT EXISTS messages (
        id       {serial},
        user_key TEXT NOT NULL,
        at       {real} NOT NULL,
        lang     TEXT NOT NULL,
        kind     TEXT NOT NULL CHECK (kind IN ('answer', 'clarify', 'fallback')),
        intent   TEXT,
        score    {real} NOT NULL,
        text     TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS messages_at ON messages (at);
    CREATE INDEX IF NOT EXISTS messages_user ON messages (user_key);
    CREATE TABLE IF NOT EXISTS unanswered (
        id         {serial},
        user_key   TEXT NOT NULL,
        message_id {int} REFERENCES messages (id) ON DELETE SET NULL,
        at         {real} NOT NULL,
        lang       TEXT NOT NULL,
        text       TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS unanswered_at ON unanswered (at);
    CREATE INDEX IF NOT EXISTS unanswered_user ON unanswered (user_key);
    -- one vote per message; whose vote it is follows from the message
    CREATE TABLE IF NOT EXISTS feedback (
        message_id {int} PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
        at         {real} NOT NULL,
        value      {int} NOT NULL CHECK (value IN (-1, 1))
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
        at       {real} NOT NULL
    );
    CREATE INDEX IF NOT EXISTS conversations_user ON conversations (user_key);
    CREATE INDEX IF NOT EXISTS conversations_at ON conversations (at);
    CREATE TABLE IF NOT EXISTS sent (
        chat_key   TEXT NOT NULL,       -- HMAC of the chat id
        message_id {int} NOT NULL,    -- Telegram's id of the bot's message in that chat
        user_key   TEXT NOT NULL,       -- whom it answered
        intent     TEXT NOT NULL,
        at         {real} NOT NULL,
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
        update_id {int} PRIMARY KEY,
        received  {real} NOT NULL,
        body      TEXT NOT NULL,
        done      {int} NOT NULL DEFAULT 0
    );
    CREATE INDEX IF NOT EXISTS inbox_pending ON inbox (done, received);
    """,
    # 4: flood-control buckets, shared by every instance; and when a stored update was last
    # taken up for answering (so an instance that died holding it can be told from a busy one).
    """
    CREATE TABLE IF NOT EXISTS flood (
        user_key TEXT PRIMARY KEY,
        tokens   {real} NOT NULL,
        at       {real} NOT NULL,
        told     {int} NOT NULL DEFAULT 0
    );
    CREATE INDEX IF NOT EXISTS flood_at ON flood (at);
    ALTER TABLE inbox ADD COLUMN claimed {real};
    """,
    # 5: the update a logged message came from: answering it again after a crash (it was
    # logged, but not yet marked done) updates its row instead of logging it twice.
    """
    ALTER TABLE messages ADD COLUMN update_id {int};
    CREATE UNIQUE INDEX IF NOT EXISTS messages_update ON messages (update_id);
    """,
    # 6: one gap per logged message: a question answered again after a crash (its message row
    # kept by migration 5) does not enter the admins' list twice.
    """
    DELETE FROM unanswered WHERE message_id IS NOT NULL AND id NOT IN
        (SELECT MIN(id) FROM unanswered WHERE message_id IS NOT NULL GROUP BY message_id);
    CREATE UNIQUE INDEX IF NOT EXISTS unanswered_message ON unanswered (message_id);
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)


@dataclass(frozen=True)
class Dialect:
    serial: str  # an auto-numbered primary key
    real: str  # a float wide enough for unix seconds with fractions
    int: str  # an integer wide enough for Telegram's ids
    lock_rows: str  # appended to a SELECT whose rows the transaction will update
    skip_locked: str  # the same, passing over rows another transaction holds
    day_expr: str  # the UTC day number of the column `at`

    def render(self, script: str) -> str:
        return script.format(serial=self.serial, real=self.real, int=self.int)


SQLITE = Dialect(serial="INTEGER PRIMARY KEY", real="REAL", int="INTEGER", lock_rows="",
                 skip_locked="", day_expr="CAST(at / 86400 AS INTEGER)")
POSTGRES = Dialect(serial="BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
                   real="DOUBLE PRECISION", int="BIGINT", lock_rows=" FOR UPDATE",
                   skip_locked=" FOR UPDATE SKIP LOCKED",
                   day_expr="CAST(FLOOR(at / 86400) AS BIGINT)")

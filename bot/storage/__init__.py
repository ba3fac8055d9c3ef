"""What the bot remembers: language choices, conversations, a message log for admin reports,
feedback, flood buckets and the inbox of updates — in SQLite (one process) or PostgreSQL
(any number of instances behind a load balancer), chosen by the database URL.

Faults never stop the conversation: a write that fails (full disk, database locked for longer
than the busy timeout, server gone, ...) logs one warning without message text or user ids
and returns a neutral value (None / False / 0); the conversation reads likewise return None.
The admin reads (`stats`, `daily`, `unanswered`, `feedback_rows`) raise `StorageError`.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from .records import NO_INTENT, Day, FeedbackRow, Stats, Storage, StorageError, UnansweredRow
from .schema import MIGRATIONS, SCHEMA_VERSION
from .sqlite import SQLiteStorage, secret_path

__all__ = ["MIGRATIONS", "NO_INTENT", "SCHEMA_VERSION", "Day", "FeedbackRow", "SQLiteStorage",
           "Stats", "Storage", "StorageError", "UnansweredRow", "is_postgres", "open_storage",
           "secret_path", "sqlite_path", "url_password"]

_SQLITE = "sqlite:///"
_POSTGRES = ("postgresql://", "postgres://")


def is_postgres(url: str) -> bool:
    return url.startswith(_POSTGRES)


def url_password(url: str) -> str:
    """The password in a database URL, for the log redactor ("" if there is none)."""
    return (urlsplit(url).password or "") if is_postgres(url) else ""


def sqlite_path(url: str | Path) -> Path:
    """The file of a SQLite URL (`sqlite:///relative`, `sqlite:////absolute`) or plain path."""
    text = str(url)
    return Path(text[len(_SQLITE):] if text.startswith(_SQLITE) else text)


async def open_storage(url: str | Path, *, secret: str = "", create: bool = True) -> Storage:
    """Open the database at `url`: `postgresql://…` for PostgreSQL, otherwise SQLite (a
    `sqlite:///` URL or a plain path). `secret` is USER_HASH_SECRET; without it each backend
    generates one (see its module). Raises StorageError when the database cannot be used."""
    if isinstance(url, str) and is_postgres(url):
        from .postgres import PostgresStorage  # asyncpg is only imported when it is used

        return await PostgresStorage.open(url, secret=secret, create=create)
    if isinstance(url, str) and "://" in url and not url.startswith(_SQLITE):
        raise StorageError(f"unsupported database URL scheme {url.split('://', 1)[0]!r}: "
                           "use sqlite:///path or postgresql://…")
    return await SQLiteStorage.open(sqlite_path(url), secret=secret, create=create)

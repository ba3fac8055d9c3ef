"""The SQLite backend: one file (aiosqlite, WAL) that a restart finds intact, for one process.

The pseudonym secret, unless configured, is generated once and kept in a file of its own beside
the database (mode 0600): a copy of the database alone does not reveal whose rows are whose.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import secrets
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, ClassVar

import aiosqlite

from .base import SECRET_KEY, SQLStorage, report_secret, same_secret
from .records import StorageError
from .schema import MIGRATIONS, SCHEMA_VERSION, SQLITE, Dialect

log = logging.getLogger("bot.storage")

BUSY_TIMEOUT_S = 2.0  # a locked database makes a write wait at most this long, then give up


class _Tx:
    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        cursor = await self._db.execute(sql, params)
        return max(cursor.rowcount, 0)

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Sequence[Any]]:
        async with self._db.execute(sql, params) as cursor:
            return list(await cursor.fetchall())


class SQLiteStorage(SQLStorage):
    """Open it with `await SQLiteStorage.open(path)`; one per process."""

    FAULTS: ClassVar[tuple[type[BaseException], ...]] = (sqlite3.Error,)
    dialect: ClassVar[Dialect] = SQLITE
    shared: ClassVar[bool] = False

    def __init__(self, db: aiosqlite.Connection, secret: str, path: Path,
                 secret_changed: bool = False) -> None:
        super().__init__(secret, secret_changed)
        self._db = db
        self.path = path
        self._inode = _inode(path)
        # One connection is shared by all handlers: the lock keeps each transaction's
        # statements and its commit together, so one handler cannot commit another's work.
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path | str, *, secret: str = "",
                   create: bool = True) -> SQLiteStorage:
        """Open (creating folders, file and schema, or migrating) the database at `path`.

        `create=False` (the admin reports) refuses a database that does not exist instead of
        creating an empty one. Raises StorageError when the file cannot be used: missing, not
        a database, unreadable, or of a newer version of the bot.
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
            changed = not await same_secret(_Tx(db), key)
            await db.commit()
        except sqlite3.Error as exc:
            await db.close()
            raise StorageError(f"cannot open the database {path}: {exc}") from exc
        except BaseException:
            await db.close()
            raise
        report_secret(changed)
        return cls(db, key, path, changed)

    async def close(self) -> None:
        """Close the connection (checkpointing the WAL); safe to call twice."""
        async with self._lock:
            await self._db.close()

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[_Tx]:
        async with self._lock:
            try:
                yield _Tx(self._db)
                await self._db.commit()
            except BaseException:
                await self._rollback()
                raise

    async def _rollback(self) -> None:
        try:
            await self._db.rollback()
        except sqlite3.Error as exc:  # the connection itself is broken: nothing more to undo
            log.warning("storage: rollback failed (%s: %s)", type(exc).__name__, exc)

    async def health(self) -> str | None:
        """What is wrong with the database file under the running bot, if anything."""
        if not self.path.exists():
            return f"the database file {self.path} was deleted while the bot runs"
        if self._inode is not None and _inode(self.path) != self._inode:
            return f"the database file {self.path} was replaced while the bot runs"
        return None


async def _version(db: aiosqlite.Connection) -> int:
    async with db.execute("PRAGMA user_version") as cursor:
        (version,) = await cursor.fetchone() or (0,)
    return int(version)


async def _migrate(db: aiosqlite.Connection, path: Path) -> None:
    """Bring the schema to SCHEMA_VERSION in one transaction. The version is read again under
    the write lock: a process that opened the file at the same moment may have migrated it."""
    if await _version(db) == SCHEMA_VERSION:
        return
    await db.execute("BEGIN IMMEDIATE")
    try:
        version = await _version(db)
        if version > SCHEMA_VERSION:
            raise StorageError(
                f"the database {path} has schema version {version}, but this version of the "
                f"bot knows only up to {SCHEMA_VERSION}: run a newer bot, or restore an older "
                "backup")
        for number in range(version + 1, SCHEMA_VERSION + 1):
            for statement in _statements(SQLITE.render(MIGRATIONS[number - 1])):
                await db.execute(statement)
        await db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        await db.commit()
    except BaseException:
        await db.rollback()
        raise


def _statements(script: str) -> list[str]:
    """A migration's statements (its comments may hold semicolons; its SQL does not)."""
    bare = re.sub(r"--[^\n]*", "", script)
    return [s.strip() for s in bare.split(";") if s.strip()]


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
    async with db.execute("SELECT value FROM meta WHERE key = ?", (SECRET_KEY,)) as cursor:
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
        await db.execute("DELETE FROM meta WHERE key = ?", (SECRET_KEY,))
        await db.commit()
    log.warning("storage: generated the pseudonym secret in %s (mode 0600); in production set "
                "USER_HASH_SECRET instead, and keep either out of backups of the database",
                path)
    return value

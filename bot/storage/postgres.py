"""The PostgreSQL backend (asyncpg, a connection pool): the state several instances share.

Everything an instance needs to answer any user's next message is here, so a load balancer
may send each update to any instance: language choices, conversations, sent answers, flood
buckets, the inbox (an update is answered by the instance that stored it first), and, unless
USER_HASH_SECRET is set, the generated pseudonym secret itself — the instances share nothing
else, so there is no file to keep it in. That secret then sits beside the rows it protects:
set USER_HASH_SECRET in production, so a copy of the database alone does not link rows to
Telegram users.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from functools import lru_cache
from typing import Any, ClassVar
from urllib.parse import urlsplit

import asyncpg

from .base import SECRET_KEY, SQLStorage, report_secret, same_secret
from .records import StorageError
from .schema import MIGRATIONS, POSTGRES, SCHEMA_VERSION, Dialect

log = logging.getLogger("bot.storage")

BUSY_TIMEOUT_S = 2.0  # a write waits at most this long for a lock or a free connection
POOL_SIZE = 10
_MIGRATION_LOCK = 0x6364_6874  # advisory lock held while one instance migrates the schema


def describe(url: str) -> str:
    """The database URL as it may appear in a log or an error: without user and password."""
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


@lru_cache(maxsize=256)
def _numbered(sql: str) -> str:
    """`?` placeholders as PostgreSQL's $1, $2, … (our SQL has no `?` in its literals)."""
    count = 0

    def number(_: re.Match[str]) -> str:
        nonlocal count
        count += 1
        return f"${count}"

    return re.sub(r"\?", number, sql)


def _lock_id(job: str) -> int:
    """A stable 63-bit advisory lock number for a job name."""
    return int.from_bytes(hashlib.sha256(f"policybot:{job}".encode()).digest()[:8]) >> 1


def _changed(status: str) -> int:
    """Rows changed, from a command tag such as "INSERT 0 1" or "DELETE 3"."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


class _Tx:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        return _changed(await self._conn.execute(_numbered(sql), *params))

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Sequence[Any]]:
        return list(await self._conn.fetch(_numbered(sql), *params))


class PostgresStorage(SQLStorage):
    """Open it with `await PostgresStorage.open(url)`; any number of processes at once."""

    FAULTS: ClassVar[tuple[type[BaseException], ...]] = (
        asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError)
    dialect: ClassVar[Dialect] = POSTGRES
    shared: ClassVar[bool] = True

    def __init__(self, pool: asyncpg.Pool, secret: str, url: str,
                 secret_changed: bool = False) -> None:
        super().__init__(secret, secret_changed)
        self._pool = pool
        self.where = describe(url)

    @classmethod
    async def open(cls, url: str, *, secret: str = "", create: bool = True) -> PostgresStorage:
        """Connect, and create or migrate the schema (one instance at a time does that).

        `create=False` (the admin reports) refuses a database the bot has never used. Raises
        StorageError when the server cannot be reached or the schema is of a newer bot; the
        message names the server and database, never the user or password.
        """
        where = describe(url)
        faults: tuple[type[BaseException], ...] = (*cls.FAULTS, ValueError)  # a bad URL too
        try:
            pool = await asyncpg.create_pool(
                url, min_size=1, max_size=POOL_SIZE, timeout=10,
                server_settings={"lock_timeout": str(int(BUSY_TIMEOUT_S * 1000)),
                                 "application_name": "policybot"})
        except faults as exc:
            raise StorageError(f"cannot connect to the database {where}: "
                               f"{_reason(exc)}") from exc
        try:
            async with pool.acquire() as conn, conn.transaction():
                await _migrate(conn, where, create)
                tx = _Tx(conn)
                key = secret or await _shared_secret(tx)
                changed = not await same_secret(tx, key)
        except cls.FAULTS as exc:
            await pool.close()
            raise StorageError(f"cannot open the database {where}: {_reason(exc)}") from exc
        except BaseException:
            await pool.close()
            raise
        report_secret(changed)
        return cls(pool, key, url, changed)

    async def close(self) -> None:
        """Close the pool (waiting for queries in flight); safe to call twice."""
        await self._pool.close()

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[_Tx]:
        async with self._pool.acquire(timeout=BUSY_TIMEOUT_S) as conn, conn.transaction():
            yield _Tx(conn)

    def _reason(self, exc: BaseException) -> str:
        return _reason(exc)

    @asynccontextmanager
    async def exclusive(self, job: str) -> AsyncIterator[bool]:
        """Whether this instance runs `job` now: True for one instance at a time (a session
        advisory lock, released when the block ends or the instance dies); False also when
        the database cannot be reached, since the job could not do its work anyway."""
        try:
            conn = await self._pool.acquire(timeout=BUSY_TIMEOUT_S)
        except self.FAULTS as exc:
            log.warning("storage: could not start %s (%s)", job, _reason(exc))
            yield False
            return
        lock = _lock_id(job)
        try:
            mine = bool(await conn.fetchval("SELECT pg_try_advisory_lock($1)", lock))
            try:
                yield mine
            finally:
                if mine:
                    await conn.execute("SELECT pg_advisory_unlock($1)", lock)
        finally:
            await self._pool.release(conn)

    async def health(self) -> str | None:
        """Whether the database server answers, in words for the admins."""
        try:
            async with self._pool.acquire(timeout=BUSY_TIMEOUT_S) as conn:
                await conn.execute("SELECT 1")
        except self.FAULTS as exc:
            return f"the database {self.where} does not answer ({_reason(exc)})"
        return None


def _reason(exc: BaseException) -> str:
    """A PostgreSQL error's own message, without its DETAIL (which quotes row values)."""
    if isinstance(exc, asyncpg.PostgresError):
        return str(exc.args[0]).split("\nDETAIL:", 1)[0] if exc.args else type(exc).__name__
    return str(exc) or type(exc).__name__


async def _migrate(conn: asyncpg.Connection, where: str, create: bool) -> None:
    """Bring the schema to SCHEMA_VERSION inside the caller's transaction; instances starting
    together wait for each other (a transaction-scoped advisory lock)."""
    await conn.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK)
    exists = await conn.fetchval("SELECT to_regclass('schema_version') IS NOT NULL")
    if not exists and not create:
        raise StorageError(f"the database {where} has no bot tables (has the bot run with it "
                           "yet?)")
    await conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    version = await conn.fetchval("SELECT MAX(version) FROM schema_version") or 0
    if version > SCHEMA_VERSION:
        raise StorageError(
            f"the database {where} has schema version {version}, but this version of the bot "
            f"knows only up to {SCHEMA_VERSION}: run a newer bot, or restore an older backup"
        )
    for number in range(version + 1, SCHEMA_VERSION + 1):
        await conn.execute(POSTGRES.render(MIGRATIONS[number - 1]))
    if version < SCHEMA_VERSION:
        await conn.execute("DELETE FROM schema_version")
        await conn.execute("INSERT INTO schema_version (version) VALUES ($1)", SCHEMA_VERSION)


async def _shared_secret(tx: _Tx) -> str:
    """The generated secret every instance uses: the first to start stores it."""
    if await tx.execute("INSERT INTO meta (key, value) VALUES (?, ?)"
                        " ON CONFLICT (key) DO NOTHING", (SECRET_KEY, secrets.token_hex(32))):
        log.warning("storage: generated the pseudonym secret and stored it in the database, "
                    "where every instance finds it; in production set USER_HASH_SECRET instead")
    (row,) = await tx.fetch("SELECT value FROM meta WHERE key = ?", (SECRET_KEY,))
    return str(row[0])

"""Raw access to a test database of either kind, with `?` placeholders in both: the contract
tests arrange and inspect rows through it the way an operator's SQL shell would."""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from bot.storage import Storage, open_storage
from bot.storage.postgres import _numbered


class SQLiteBackend:
    kind = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.url = f"sqlite:///{path}"

    async def open(self, **kw: Any) -> Storage:
        return await open_storage(self.url, **kw)

    async def execute(self, sql: str, params: tuple = ()) -> None:
        con = sqlite3.connect(self.path)
        with con:
            con.execute(sql, params)
        con.close()

    async def rows(self, sql: str, params: tuple = ()) -> list[tuple]:
        with sqlite3.connect(self.path) as con:
            return [tuple(r) for r in con.execute(sql, params)]

    async def tables(self) -> list[str]:
        return [t for (t,) in await self.rows("SELECT name FROM sqlite_master"
                                              " WHERE type = 'table'")]

    async def rows_of(self, table: str) -> int:
        return (await self.rows(f"SELECT COUNT(*) FROM {table}"))[0][0]

    @asynccontextmanager
    async def locked(self) -> AsyncIterator[None]:
        """Another program holds the whole database locked meanwhile."""
        other = sqlite3.connect(self.path, isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            other.execute("ROLLBACK")
            other.close()

    async def schema_version(self) -> int:
        return (await self.rows("PRAGMA user_version"))[0][0]

    async def set_schema_version(self, number: int) -> None:
        await self.execute(f"PRAGMA user_version = {number}")

    async def sibling(self) -> SQLiteBackend:
        """Another, empty database of the same kind."""
        return SQLiteBackend(self.path.with_name(f"sibling-{secrets.token_hex(4)}.sqlite3"))

    async def cells(self) -> list[str]:
        """Every value of every table, as text: what someone reading the database would see."""
        return [str(v) for t in await self.tables()
                for row in await self.rows(f'SELECT * FROM "{t}"') for v in row]


class PostgresBackend(SQLiteBackend):
    """A schema of its own on the shared test server (creating a database takes ~0.5 s, a
    schema a few ms): `search_path` in the URL puts the bot's tables there."""

    kind = "postgresql"

    def __init__(self, server_url: str, name: str) -> None:
        self.server_url, self.name = server_url, name
        parts = urlsplit(server_url)
        query = "&".join(q for q in (parts.query, f"search_path={name}") if q)
        self.url = urlunsplit(parts._replace(query=query))
        self._siblings: list[PostgresBackend] = []

    @classmethod
    async def create(cls, server_url: str) -> PostgresBackend:
        name = f"test_{secrets.token_hex(6)}"
        con = await asyncpg.connect(server_url)
        try:
            await con.execute(f'CREATE SCHEMA "{name}"')
        finally:
            await con.close()
        return cls(server_url, name)

    async def sibling(self) -> PostgresBackend:
        other = await self.create(self.server_url)
        self._siblings.append(other)
        return other

    @asynccontextmanager
    async def locked(self) -> AsyncIterator[None]:
        con = await asyncpg.connect(self.url)
        try:
            async with con.transaction():
                await con.execute("LOCK TABLE users, messages, feedback, unanswered,"
                                  " conversations, sent, flood IN ACCESS EXCLUSIVE MODE")
                yield
        finally:
            await con.close()

    async def schema_version(self) -> int:
        return (await self.rows("SELECT MAX(version) FROM schema_version"))[0][0]

    async def set_schema_version(self, number: int) -> None:
        await self.execute("UPDATE schema_version SET version = ?", (number,))

    async def drop(self) -> None:
        for other in self._siblings:
            await other.drop()
        con = await asyncpg.connect(self.server_url)
        try:
            await con.execute(f'DROP SCHEMA IF EXISTS "{self.name}" CASCADE')
        finally:
            await con.close()

    async def execute(self, sql: str, params: tuple = ()) -> None:
        con = await asyncpg.connect(self.url)
        try:
            await con.execute(_numbered(sql), *params)
        finally:
            await con.close()

    async def rows(self, sql: str, params: tuple = ()) -> list[tuple]:
        con = await asyncpg.connect(self.url)
        try:
            return [tuple(r) for r in await con.fetch(_numbered(sql), *params)]
        finally:
            await con.close()

    async def tables(self) -> list[str]:
        return [t for (t,) in await self.rows("SELECT tablename FROM pg_tables"
                                              " WHERE schemaname = current_schema()")]

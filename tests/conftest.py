"""Shared fixtures: the real knowledge base and engine, loaded once."""

from __future__ import annotations

import os
import shutil
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot import evaluation
from bot.cache import load_engine
from bot.engine import Engine
from bot.evaluation import Outcome
from bot.validation import load_valid_knowledge_base

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
EVAL = DATA / "eval"


@pytest.fixture(scope="session", autouse=True)
def engine_cache(tmp_path_factory: pytest.TempPathFactory):
    """Built engines are cached in a folder of the test session, never in the user's own
    cache (the bot processes the tests start inherit it)."""
    folder = tmp_path_factory.mktemp("engine-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("POLICYBOT_CACHE", str(folder))
        yield folder


@pytest.fixture(scope="session")
def kb():
    return load_valid_knowledge_base(ROOT)


@pytest.fixture(scope="session")
def engine(engine_cache: Path) -> Engine:
    """The shipped knowledge base's engine, built once and left in the session's cache, so
    the bot processes the tests start read it instead of each building their own."""
    return load_engine(ROOT, engine_cache)


@pytest.fixture(scope="session")
def eval_runs(engine: Engine) -> Callable[[str], list[Outcome]]:
    """The fresh engine's outcome on every item of a labelled set of tests/data/eval, by set
    name, each set run once a session: the floors read them, and the cache is held to them."""
    runs: dict[str, list[Outcome]] = {}

    def outcomes(name: str) -> list[Outcome]:
        if name not in runs:
            runs[name] = evaluation.run_set(engine, EVAL / f"{name}.yaml")
        return runs[name]

    return outcomes


@pytest.fixture(scope="module")
def fake():
    """A fake Telegram Bot API server on 127.0.0.1, one per test module."""
    from fake_bot_api import FakeBotAPI

    with FakeBotAPI() as server:
        yield server


@pytest.fixture
def kb_copy(tmp_path: Path) -> Path:
    """A private copy of intents/ and content/ that a test may break."""
    for folder in ("intents", "content"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    return tmp_path



@dataclass(frozen=True)
class PostgresServer:
    url: str | None  # an administrative connection URL, None when no server could be had
    reason: str = ""


@pytest.fixture(scope="session")
def postgres_server():
    """A PostgreSQL server for the tests: TEST_DATABASE_URL (.ci/run starts one), or else a
    throwaway cluster started here for the session. When neither is possible the PostgreSQL
    cases are skipped, and the reason is shown in the warnings summary."""
    from pg_cluster import Cluster, ClusterUnavailable

    url = os.environ.get("TEST_DATABASE_URL", "").strip()
    if url:
        yield PostgresServer(url)
        return
    try:
        cluster = Cluster().start()
    except ClusterUnavailable as exc:
        reason = f"PostgreSQL cases skipped: no server could be started ({exc})"
        warnings.warn(reason, stacklevel=1)
        yield PostgresServer(None, reason)
        return
    try:
        yield PostgresServer(cluster.url)
    finally:
        cluster.stop()


async def _postgres_backend(server: PostgresServer):
    from storage_backends import PostgresBackend

    if server.url is None:
        pytest.skip(server.reason)
    database = await PostgresBackend.create(server.url)
    try:
        yield database
    finally:
        await database.drop()


@pytest.fixture(params=["sqlite", "postgresql"])
async def backend(request, tmp_path: Path, postgres_server: PostgresServer):
    """A fresh, empty database of each kind, and raw access to it (what an operator with a
    SQL shell would see)."""
    from storage_backends import SQLiteBackend

    if request.param == "sqlite":
        yield SQLiteBackend(tmp_path / "bot.sqlite3")
        return
    async for database in _postgres_backend(postgres_server):
        yield database


@pytest.fixture
async def pg(postgres_server: PostgresServer):
    """A fresh PostgreSQL database (its own schema), for what only a shared server does."""
    async for database in _postgres_backend(postgres_server):
        yield database

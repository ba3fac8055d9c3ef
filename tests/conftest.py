"""Shared fixtures: the real knowledge base and engine, loaded once."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.engine import Engine
from bot.validation import load_valid_knowledge_base

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


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
def engine(kb):
    return Engine(kb)


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

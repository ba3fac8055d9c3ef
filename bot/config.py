"""Settings from the environment; imports nothing of ours."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_API_URL = "https://api.telegram.org/bot"


def default_kb_root() -> Path:
    """The folder holding intents/ and content/: $POLICYBOT_KB, the checkout, or the cwd."""
    env = os.environ.get("POLICYBOT_KB")
    if env:
        return Path(env)
    checkout = Path(__file__).resolve().parent.parent
    return checkout if (checkout / "intents").is_dir() else Path.cwd()


def default_cache_dir() -> Path | None:
    """Where built engines are kept (bot/cache.py): $POLICYBOT_CACHE ("off": nowhere), else
    $XDG_CACHE_HOME/policybot or ~/.cache/policybot, outside any checkout."""
    env = os.environ.get("POLICYBOT_CACHE", "").strip()
    if env.lower() == "off":
        return None
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME", "").strip()
    return (Path(base) if base else Path.home() / ".cache") / "policybot"


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    try:
        return int(raw) if raw else default
    except ValueError:
        raise SystemExit(f"{name} must be a whole number, got {raw!r}") from None


def _ids(raw: str) -> frozenset[int]:
    try:
        return frozenset(int(x) for x in raw.replace(" ", "").split(",") if x)
    except ValueError:
        raise SystemExit(f"ADMIN_IDS must be comma-separated numbers, got {raw!r}") from None


def _database_url(env: Mapping[str, str]) -> str:
    """DATABASE_URL wins; otherwise DATABASE_PATH (default data/bot.sqlite3) as SQLite."""
    url = env.get("DATABASE_URL", "").strip()
    if url:
        return url
    return "sqlite:///" + (env.get("DATABASE_PATH", "").strip() or "data/bot.sqlite3")


@dataclass(frozen=True)
class Settings:
    token: str = field(default="", repr=False)
    api_url: str = DEFAULT_API_URL
    admin_ids: frozenset[int] = frozenset()
    # DATABASE_URL, or DATABASE_PATH as a sqlite:/// URL; repr=False: it may hold a password
    database_url: str = field(default="sqlite:///data/bot.sqlite3", repr=False)
    webhook_url: str = ""
    webhook_listen: str = "127.0.0.1"  # behind a reverse proxy; 0.0.0.0 to face the internet
    port: int = 8443
    log_level: str = "INFO"
    kb_root: Path = field(default_factory=default_kb_root)
    cache_dir: Path | None = field(default_factory=default_cache_dir)
    retention_days: int = 180
    stale_days: int = 365
    auto_reload: bool = False
    hash_secret: str = field(default="", repr=False)

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        return cls(
            token=env.get("TELEGRAM_BOT_TOKEN", "").strip(),
            api_url=env.get("TELEGRAM_API_URL", "").strip() or DEFAULT_API_URL,
            admin_ids=_ids(env.get("ADMIN_IDS", "")),
            database_url=_database_url(env),
            webhook_url=env.get("WEBHOOK_URL", "").strip(),
            webhook_listen=env.get("WEBHOOK_LISTEN", "").strip() or "127.0.0.1",
            port=_int("PORT", 8443),
            log_level=(env.get("LOG_LEVEL", "").strip() or "INFO").upper(),
            kb_root=default_kb_root(),
            cache_dir=default_cache_dir(),
            retention_days=_int("RETENTION_DAYS", 180),
            stale_days=_int("STALE_DAYS", 365),
            auto_reload=env.get("AUTO_RELOAD", "").strip().lower() in ("1", "true", "yes"),
            hash_secret=env.get("USER_HASH_SECRET", "").strip(),
        )

"""What a running bot holds: settings, the current engine, storage, flood control.

No Telegram here. A reload builds a new engine off the event loop and swaps it in with one
assignment, so every message is answered by one complete knowledge base, old or new.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from pathlib import Path

from .config import Settings
from .engine import Engine
from .flood import FloodGate
from .knowledge import KnowledgeBaseError, Problem, load_knowledge_base
from .storage import Storage

log = logging.getLogger(__name__)
WATCHED = ("intents", "content")


def _snapshot(root: Path) -> dict[str, float]:
    files = {}
    for folder in WATCHED:
        for path in (root / folder).rglob("*"):
            if path.is_file():
                files[str(path)] = path.stat().st_mtime
    return files


@dataclass
class Services:
    settings: Settings
    engine: Engine
    storage: Storage
    flood: FloodGate = field(default_factory=FloodGate)
    _seen: dict[str, float] = field(default_factory=dict)

    @classmethod
    async def start(cls, settings: Settings) -> Services:
        """Load the knowledge base and open the database (raises KnowledgeBaseError)."""
        engine = await asyncio.to_thread(_build_engine, settings.kb_root)
        storage = await Storage.open(settings.database_path, secret=settings.hash_secret)
        services = cls(settings, engine, storage)
        services._seen = await asyncio.to_thread(_snapshot, settings.kb_root)
        return services

    async def close(self) -> None:
        await self.storage.close()

    async def reload(self) -> list[Problem]:
        """Swap in a freshly validated knowledge base; on problems keep the current one."""
        seen = await asyncio.to_thread(_snapshot, self.settings.kb_root)
        self._seen = seen  # a broken edit is reported once, not at every check
        try:
            engine = await asyncio.to_thread(_build_engine, self.settings.kb_root)
        except KnowledgeBaseError as exc:
            log.warning("reload refused, still serving the last good knowledge base:\n%s", exc)
            return exc.problems
        self.engine = engine
        log.info("knowledge base reloaded: %d intents", len(engine.kb.intents))
        return []

    async def changed_on_disk(self) -> bool:
        return await asyncio.to_thread(_snapshot, self.settings.kb_root) != self._seen


def _build_engine(root: Path) -> Engine:
    return Engine(load_knowledge_base(root))

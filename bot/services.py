"""What a running bot holds: settings, the current engine, storage, flood control.

No Telegram here. A reload builds a new engine off the event loop and swaps it in with one
assignment, so every message is answered by one complete knowledge base, old or new.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

from .cache import content_digest, load_engine, rebuild
from .config import Settings
from .engine import Engine
from .flood import Check, Rules
from .knowledge import KnowledgeBase, KnowledgeBaseError, Location, Problem
from .storage import Storage, open_storage

log = logging.getLogger(__name__)
WATCHED = ("intents", "content")


def _snapshot(root: Path) -> dict[str, float]:
    """Modification times of the knowledge-base files; a file vanishing mid-scan is skipped."""
    files = {}
    for folder in WATCHED:
        for path in (root / folder).rglob("*"):
            try:
                if path.is_file():
                    files[str(path)] = path.stat().st_mtime
            except OSError:
                continue
    return files


@dataclass(frozen=True)
class Reload:
    """What a reload did: the problems that refused it, or the intents it changed."""

    problems: list[Problem] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    edited: list[str] = field(default_factory=list)

    @classmethod
    def between(cls, old: KnowledgeBase, new: KnowledgeBase) -> Reload:
        before, after = set(old.intents), set(new.intents)
        edited = [i for i in sorted(before & after) if old.intents[i] != new.intents[i]
                  or old.answers.get(i) != new.answers.get(i)]
        return cls(added=sorted(after - before), removed=sorted(before - after), edited=edited)


@dataclass
class Services:
    settings: Settings
    engine: Engine
    storage: Storage
    flood: Rules = field(default_factory=Rules)
    health_reported: bool = False  # a database problem is reported to admins once
    _seen: dict[str, float] = field(default_factory=dict)

    @classmethod
    async def start(cls, settings: Settings) -> Services:
        """Load the knowledge base and open the database (raises KnowledgeBaseError)."""
        engine = await asyncio.to_thread(load_engine, settings.kb_root, settings.cache_dir)
        _freeze()
        storage = await open_storage(settings.database_url, secret=settings.hash_secret)
        services = cls(settings, engine, storage)
        services._seen = await asyncio.to_thread(_snapshot, settings.kb_root)
        return services

    async def close(self) -> None:
        await self.storage.close()

    async def check_flood(self, user_id: int) -> Check:
        """Count a message against the user's bucket, which every instance shares."""
        return await self.storage.take_token(user_id, self.flood)

    async def reload(self) -> Reload:
        """Swap in a freshly validated knowledge base; on problems keep the current one."""
        seen = await asyncio.to_thread(_snapshot, self.settings.kb_root)
        self._seen = seen  # a broken edit is reported once, not at every check
        try:
            engine = await _rebuilt(self.settings.kb_root, self.settings.cache_dir)
        except KnowledgeBaseError as exc:
            log.warning("reload refused, still serving the last good knowledge base:\n%s", exc)
            return Reload(problems=exc.problems)
        changes = Reload.between(self.engine.kb, engine.kb)
        self.engine = engine
        _freeze()
        log.info("knowledge base reloaded: %d intents", len(engine.kb.intents))
        return changes

    async def kb_version(self) -> str:
        """A digest of the knowledge-base files: the same edit has the same version on every
        instance (modification times differ between machines, contents do not)."""
        return await asyncio.to_thread(content_digest, self.settings.kb_root)

    async def changed_on_disk(self) -> bool:
        return await asyncio.to_thread(_snapshot, self.settings.kb_root) != self._seen


async def _rebuilt(root: Path, cache_dir: Path | None) -> Engine:
    """A freshly built engine. Building takes seconds of pure Python; in a thread of this
    process it would hold the interpreter lock from the event loop all that time, and every
    user's reply would wait. So it is built in a process of its own, which stores it in the
    cache, and read back from there here (a tenth of a second), with where each entry was
    written (which a cached engine leaves out; /stale names files and lines). Without a cache,
    or when the files changed in between, `load_engine` builds it here as before."""
    where: dict[str, Location] = {}
    if cache_dir is not None:
        pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        try:
            where = await asyncio.get_running_loop().run_in_executor(
                pool, _build_into_cache, root, cache_dir)
        except BrokenProcessPool:  # it was killed, or could not start: build here after all
            log.warning("the reload's build process died: building in the bot's own process")
        finally:
            pool.shutdown(wait=False)
    engine = await asyncio.to_thread(load_engine, root, cache_dir)
    if not engine.kb.where:  # read from the cache the build process wrote
        engine.kb.where.update(where)
    return engine


def _build_into_cache(root: Path, cache_dir: Path) -> dict[str, Location]:
    return rebuild(root, cache_dir).kb.where


def _freeze() -> None:
    """Move what is alive now (mostly the engine's hundreds of thousands of objects) out of
    the garbage collector's sight: they live as long as the engine, and a full collection
    walking them all would cost some message milliseconds. Unfrozen first, so the engine a
    reload replaced is collected rather than kept frozen."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()

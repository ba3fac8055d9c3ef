"""The built engine kept on disk, so a start reads it back instead of building it again.

Building an engine (YAML, validation, checks, every index) takes most of a start; reading a
pickle of it takes a fraction. A cached engine is used only when it was built from the very
same knowledge-base files and the very same code: its file is named by a hash of both, and
anything else about it (missing, truncated, corrupt, another format or Python) means a
rebuild, never a wrong answer. Validation runs on that rebuild, as it does on `validate`
and `/reload`: a cache is only written after the knowledge base passed it.

The cache lives outside the repository (see `default_cache_dir`); files are written to a
temporary name and renamed into place, so two processes starting at once each read either
nothing or a whole file.
"""

from __future__ import annotations

import gc
import hashlib
import logging
import os
import pickle
import sys
import tempfile
import zlib
from importlib.util import find_spec
from pathlib import Path

from .engine import Engine
from .matching.features import known_pinyin, learn_pinyin
from .understanding.reader import Learnt

log = logging.getLogger(__name__)

FORMAT = 1  # bump when what is stored changes shape
KEEP = 4  # cached engines kept per folder (a few knowledge bases, or a few recent edits)
KEEP_IN_MEMORY = 2  # learnt guessers a process keeps (see LearntMemo)
_MAGIC = b"policybot-engine"
_PACKAGE = Path(__file__).resolve().parent
_LIBRARIES = ("pypinyin", "opencc", "rapidfuzz")  # whose output a cached engine holds
_RECENT: dict[tuple[str, str], Learnt] = {}  # (code, training key): this process's last few


def content_digest(root: Path) -> str:
    """A hash of the knowledge-base files' names and contents: the same edit has the same
    digest on every machine (modification times differ between machines, contents do not)."""
    h = hashlib.sha256()
    _hash_files(h, [(p.relative_to(root).as_posix(), p) for folder in ("intents", "content")
                    for p in (Path(root) / folder).rglob("*") if p.is_file()])
    return h.hexdigest()


def fingerprint(root: Path) -> str:
    """A hash of everything an engine is built from: the knowledge-base files, the bot's
    code, the Python running it and the libraries whose results it stores."""
    h = hashlib.sha256(f"{code_digest()}\0{Path(root).resolve()}\0".encode())
    h.update(content_digest(root).encode())
    return h.hexdigest()


def code_digest() -> str:
    """A hash of the bot's code, the Python running it and the libraries whose results a
    cached engine or model holds."""
    h = hashlib.sha256(f"{FORMAT}\0{sys.version}\0".encode())
    _hash_files(h, [(p.relative_to(_PACKAGE).as_posix(), p) for p in _PACKAGE.rglob("*.py")])
    for library in _LIBRARIES:
        spec = find_spec(library)
        origin = spec.origin if spec is not None else None
        stamp = os.stat(origin).st_mtime_ns if origin else 0
        h.update(f"{library}\0{origin}\0{stamp}\0".encode())
    return h.hexdigest()


def _hash_files(h: hashlib._Hash, files: list[tuple[str, Path]]) -> None:
    for name, path in sorted(files):
        try:
            data = path.read_bytes()
        except FileNotFoundError:  # removed while listed: hashed as absent (see _build_and_store)
            continue
        h.update(f"{name}\0{len(data)}\0".encode())
        h.update(data)


def build_engine(root: Path, directory: Path | None = None) -> Engine:
    """An engine from the YAML files, validated and checked (raises KnowledgeBaseError);
    with a cache `directory`, its guessers are learnt again only when what they learn from
    changed."""
    from .validation import load_valid_knowledge_base

    kb = load_valid_knowledge_base(root)
    return Engine(kb, LearntMemo(directory) if directory is not None else None)


def load_engine(root: Path, directory: Path | None) -> Engine:
    """The engine for the knowledge base at `root`: the cached one if it was built from these
    files by this code, else a freshly built one, which is then cached (no cache when
    `directory` is None)."""
    if directory is None:
        return build_engine(root)
    key = fingerprint(root)
    stored = _read(directory / f"engine-{key}.pickle", key, "engine")
    if stored is not None:
        if isinstance(stored, tuple) and len(stored) == 2 and isinstance(stored[0], dict) \
                and isinstance(stored[1], Engine):
            learn_pinyin(stored[0])
            # out of the collector's sight at once: else the first young collection and the
            # interpreter's last one each walk its ~100,000 objects (0.1 s of a 0.5 s start)
            gc.freeze()
            return stored[1]
        log.info("cached engine for %s holds something else: rebuilding", key)
    return _build_and_store(root, directory, key)


def rebuild(root: Path, directory: Path | None) -> Engine:
    """A freshly built engine (what /reload serves: never a cached one, though its guessers
    may be, when what they learn from is unchanged), kept for the next start."""
    if directory is None:
        return build_engine(root)
    return _build_and_store(root, directory, fingerprint(root))


def _build_and_store(root: Path, directory: Path, key: str) -> Engine:
    engine = build_engine(root, directory)
    # A file edited while the engine was built: the engine may hold either version, so it is
    # not kept under the name of the one hashed before.
    if fingerprint(root) == key:
        _write(directory, "engine", key, (known_pinyin(), engine))
    return engine


class LearntMemo:
    """Guessers learnt before, by their training key, for this version of the code: kept on
    disk beside the engines and, for the builds of one process (a test run, an in-process
    reload), in memory too. Training is most of a build, and most edits (an answer, a link)
    change nothing the guessers learn from."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._code = code_digest()[:16]
        self._prefix = f"learnt-{self._code}"

    def _path(self, key: str) -> Path:
        return self._directory / f"{self._prefix}-{key}.pickle"

    def get(self, key: str) -> Learnt | None:
        learnt = _RECENT.get((self._code, key))
        if learnt is None:
            stored = _read(self._path(key), key, "learnt model")
            if not isinstance(stored, Learnt):
                return None
            learnt = stored
        elif not self._path(key).exists():  # learnt for another folder: this one keeps it too
            _write(self._directory, self._prefix, key, learnt)
        self._remember(key, learnt)
        return learnt

    def __setitem__(self, key: str, learnt: Learnt) -> None:
        self._remember(key, learnt)
        _write(self._directory, self._prefix, key, learnt)

    def _remember(self, key: str, learnt: Learnt) -> None:
        _RECENT.pop((self._code, key), None)
        _RECENT[(self._code, key)] = learnt
        while len(_RECENT) > KEEP_IN_MEMORY:
            del _RECENT[next(iter(_RECENT))]


def _read(path: Path, key: str, what: str) -> object | None:
    """What was stored under `key`, or None (logged) when it is missing or unusable."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        log.info("no cached %s for this knowledge base and code: building it", what)
        return None
    except OSError as exc:
        log.info("cannot read the cached %s %s (%s): rebuilding", what, path, exc)
        return None
    end = data.find(b"\n")
    body = memoryview(data)[end + 1:]  # a view, not a copy: a start holds the file once
    if end < 0 or data[:end] != _header(key, body):
        log.info("cached %s %s is truncated, corrupt or of another version: rebuilding",
                 what, path)
        return None
    try:
        return _unpickle(body)
    except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, ValueError,
            TypeError) as exc:
        # The checksum held, so the bytes are what was written: what fails is reading them
        # with these classes (a module or attribute renamed since), or the shape stored.
        log.info("cached %s %s cannot be read (%s): rebuilding", what, path, exc)
        return None


def _header(key: str, body: bytes | memoryview) -> bytes:
    return b" ".join((_MAGIC, str(FORMAT).encode(), key.encode(), str(zlib.crc32(body)).encode()))


def _write(directory: Path, prefix: str, key: str, value: object) -> None:
    """Write `value` as `prefix`-`key` (atomically) and drop the oldest others of `prefix`."""
    body = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    tmp = None
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{prefix}-", suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(_header(key, body) + b"\n" + body)
        os.replace(tmp, directory / f"{prefix}-{key}.pickle")
        tmp = None
        _prune(directory, prefix)
    except OSError as exc:
        log.info("cannot write the cache in %s (%s): the next start builds again",
                 directory, exc)
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)


def _prune(directory: Path, prefix: str) -> None:
    """Keep the KEEP most recently written files of `prefix`; another process may prune at
    once."""
    def age(path: Path) -> float:
        try:
            return -path.stat().st_mtime
        except OSError:
            return 0.0

    for old in sorted(directory.glob(f"{prefix}-*.pickle"), key=age)[KEEP:]:
        old.unlink(missing_ok=True)


def _unpickle(body: bytes | memoryview) -> tuple[object, object]:
    """pickle.loads with the collector paused: the engine is ~100,000 containers, and the
    collections they would trigger while arriving (none of them garbage) cost as much as the
    loading itself (about 50 ms of a 0.3 s start)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return pickle.loads(body)
    finally:
        if enabled:
            gc.enable()

"""Logging set-up that never lets a secret through.

httpx logs every request URL at INFO, and Telegram URLs contain the bot token; exceptions can
carry URLs too. Redacting the fully formatted record (tracebacks included) catches them all.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable

REDACTED = "<redacted>"


class RedactingFormatter(logging.Formatter):
    def __init__(self, secrets: Iterable[str], fmt: str) -> None:
        super().__init__(fmt)
        self._secrets = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text


def configure(level: str, secrets: Iterable[str]) -> None:
    """Route every log line through one redacting handler on stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        RedactingFormatter(secrets, "%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(getattr(logging, level.upper(), logging.INFO))
    # Request lines are noise at INFO (and carry the token, redacted above).
    quiet = logging.DEBUG if level.upper() == "DEBUG" else logging.WARNING
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(quiet)
    # aiosqlite logs every statement with its parameters at DEBUG: pseudonyms and questions,
    # next to PTB's DEBUG lines with the user ids they stand for. Never at any level.
    logging.getLogger("aiosqlite").setLevel(logging.INFO)

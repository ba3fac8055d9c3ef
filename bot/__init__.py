"""CDHT Policy Bot: answers public-policy questions about the Chengdu Hi-Tech Zone."""

from __future__ import annotations


def __getattr__(name: str) -> str:
    """`__version__` on first use: importlib.metadata costs a start ~20 ms, and only /about
    and the Telegram profile show the version."""
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("cdht-policy-bot")
    except PackageNotFoundError:  # running from a checkout that was never installed
        return "0.0.0+checkout"

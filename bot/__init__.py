"""CDHT Policy Bot: answers public-policy questions about the Chengdu Hi-Tech Zone."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("cdht-policy-bot")
except PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0.0.0+checkout"

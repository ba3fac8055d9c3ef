"""The dialogue engine: read → rank → understand → decide → compose, with no I/O."""

from .conversation import Conversation
from .core import Engine, MenuItem
from .decide import Reading
from .replies import Kind, LinkOut, Option, Reply

__all__ = ["Conversation", "Engine", "Kind", "LinkOut", "MenuItem", "Option", "Reading", "Reply"]

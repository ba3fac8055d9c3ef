"""The dialogue engine: read → rank → understand → decide → compose, with no I/O."""

from .conversation import Conversation
from .core import Engine
from .decide import Reading
from .replies import Kind, LinkOut, Option, Reply

__all__ = ["Conversation", "Engine", "Kind", "LinkOut", "Option", "Reading", "Reply"]

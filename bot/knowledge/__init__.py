"""The knowledge base: schema, loading with located errors, and content checks."""

from __future__ import annotations

from typing import Any

from .base import KnowledgeBase, Location
from .errors import ContentError, KnowledgeBaseError, Problem, SchemaError, YAMLSyntaxError

__all__ = [
    "ContentError",
    "KnowledgeBase",
    "KnowledgeBaseError",
    "Location",
    "Problem",
    "SchemaError",
    "YAMLSyntaxError",
    "load_knowledge_base",  # imported on first use, see __getattr__
]


def __getattr__(name: str) -> Any:
    """The loader on first use: it brings yaml and pydantic, which a start from the cache
    does without."""
    if name == "load_knowledge_base":
        from .loader import load_knowledge_base

        return load_knowledge_base
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

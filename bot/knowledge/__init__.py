"""The knowledge base: schema, loading with located errors, and content checks."""

from .base import KnowledgeBase, Location
from .errors import ContentError, KnowledgeBaseError, Problem, SchemaError, YAMLSyntaxError
from .loader import load_knowledge_base

__all__ = [
    "ContentError",
    "KnowledgeBase",
    "KnowledgeBaseError",
    "Location",
    "Problem",
    "SchemaError",
    "YAMLSyntaxError",
    "load_knowledge_base",
]

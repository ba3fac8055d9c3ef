"""Errors raised while loading the knowledge base.

Admins fix YAML, not Python, so every problem names the file, the line and what to change,
in the spirit of httpx's exception hierarchy: catch `KnowledgeBaseError` for all of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """One thing wrong (or suspicious) in a knowledge-base file."""

    file: str
    line: int | None
    message: str
    fix: str = ""
    severity: str = "error"  # "error" blocks loading; "warning" is reported only

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        text = f"{where}: {self.severity}: {self.message}"
        return f"{text}\n    fix: {self.fix}" if self.fix else text


class KnowledgeBaseError(Exception):
    """The knowledge base cannot be loaded; `problems` says where and why."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class YAMLSyntaxError(KnowledgeBaseError):
    """A file is not valid YAML."""


class SchemaError(KnowledgeBaseError):
    """A file is valid YAML but not the shape the schema asks for."""


class ContentError(KnowledgeBaseError):
    """The files are well-formed but inconsistent (unknown links, missing answers, ...)."""


def relative(path: Path, root: Path) -> str:
    """Show paths relative to the knowledge-base root, as admins see them in the repo."""
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)

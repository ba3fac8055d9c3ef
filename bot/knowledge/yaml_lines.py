"""YAML loading that remembers where each value came from.

Pydantic reports *what* is wrong as a path of keys; these containers let us turn that path
into a line number the admin can jump to.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class LineDict(dict):
    """A mapping that knows the line of each key (1-based)."""

    line: int = 0
    key_lines: dict[Any, int]


class LineList(list):
    """A sequence that knows the line of each item (1-based)."""

    line: int = 0
    item_lines: list[int]


class DuplicateKey(yaml.YAMLError):
    """YAML silently keeps the last of two equal keys; an admin almost never means that."""

    def __init__(self, key: Any, line: int, first_line: int) -> None:
        super().__init__(f"key {key!r} appears twice (first on line {first_line})")
        self.line = line


class _LineLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    pass


def _construct(loader: _LineLoader, node: yaml.Node) -> Any:
    """A value, or a located YAML error for one that cannot be built (a date like
    2024-13-45, a list used as a key): every problem of a file carries its line."""
    try:
        return loader.construct_object(node, deep=True)
    except yaml.YAMLError:
        raise
    except (ValueError, TypeError, OverflowError) as exc:
        raise yaml.constructor.ConstructorError(
            None, None, f"cannot read this value: {exc}", node.start_mark) from None


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    result = LineDict()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = _construct(loader, key_node)
        line = key_node.start_mark.line + 1
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, "a list or mapping cannot be a key", key_node.start_mark) from None
        if key in result.key_lines:
            raise DuplicateKey(key, line, result.key_lines[key])
        result[key] = _construct(loader, value_node)
        result.key_lines[key] = line
    return result


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> LineList:
    result = LineList(_construct(loader, child) for child in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def load_yaml(text: str) -> Any:
    """Parse YAML text into LineDict/LineList containers (raises yaml.YAMLError)."""
    return yaml.load(text, Loader=_LineLoader)


def line_of(data: Any, path: Sequence[int | str]) -> int | None:
    """The line of the deepest element of `path` that can be located in `data`."""
    line = getattr(data, "line", None) or None
    node = data
    for step in path:
        if isinstance(node, LineDict) and step in node:
            line = node.key_lines.get(step, line)
            node = node[step]
        elif isinstance(node, LineList) and isinstance(step, int) and 0 <= step < len(node):
            line = node.item_lines[step]
            node = node[step]
        else:
            break
    return line

"""What the engine holds of a validated file: its fields as plain, immutable records.

pydantic checks every file once, when the knowledge base is loaded (`validate`, `/reload`, the
first start); the knowledge base keeps the data, not the models. Building pydantic's model
classes costs more (~130 ms) than a whole start from the cache, and a knowledge base read back
from the cache must not need them: nothing here, nor in the engine, imports pydantic.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import FrozenInstanceError
from typing import Any, Literal, TypeGuard, get_args

Lang = Literal["zh", "en"]  # the languages content is written in: the fields of LangText
LANGS: tuple[Lang, ...] = get_args(Lang)


def is_lang(value: object) -> TypeGuard[Lang]:
    """A content language ("zh", "en"), not "other" nor None (what detection may also say)."""
    return value in LANGS


class Record:
    """The fields of one validated model (named by `model`), read as attributes.

    Equal to another record of the same model with equal fields, as the models were: a
    reload compares the old knowledge base with the new one entry by entry.
    """

    __slots__ = ("__dict__", "model")
    model: str  # set once in __init__ (past the read-only __setattr__)

    def __init__(self, model: str, fields: dict[str, Any]) -> None:
        object.__setattr__(self, "model", model)
        self.__dict__.update(fields)

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenInstanceError(f"{self.model} is read-only")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Record):
            return NotImplemented
        return self.model == other.model and self.__dict__ == other.__dict__

    def __hash__(self) -> int:
        return hash((self.model, *self.__dict__.values()))

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self.__dict__.items())
        return f"{self.model}({fields})"

    def __iter__(self) -> Iterator[tuple[str, Any]]:
        """(field, value) pairs, as a model iterates (checks walk every message this way)."""
        return iter(self.__dict__.items())

    def __reduce__(self) -> tuple:
        return type(self), (self.model, self.__dict__)

    def model_copy(self, *, update: dict[str, Any] | None = None) -> Record:
        """A copy with some fields changed, as a model's model_copy makes (how `eval --sweep`
        tries other thresholds)."""
        return type(self)(self.model, {**self.__dict__, **(update or {})})


class LangRecord(Record):
    """A text in both content languages."""

    zh: str  # the fields of LangText, set by Record.__init__
    en: str

    def get(self, lang: Lang) -> str:
        return self.zh if lang == "zh" else self.en

"""Typed button data: one small class per kind of button, packed into Telegram's 64 bytes.

Each kind has a prefix (`1:t:` …) that its CallbackQueryHandler matches with `pattern=`, and
`unpack` validates the rest strictly: anything stale, malformed or forged ("1:f:²:u", an
enormous number) unpacks to None and is answered as an expired button, never as an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar, Self

VERSION = "1"
_ID = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$")
_LANG = re.compile(r"^[a-z]{2}(-[a-z]+)?$")
_ROW = re.compile(r"^[0-9]{1,12}$")  # ASCII digits only: "²" is a digit to str.isdigit
LIMIT = 64


class Button:
    kind: ClassVar[str]

    def fields(self) -> tuple[str, ...]:
        return ()

    def pack(self) -> str:
        data = ":".join((VERSION, self.kind, *self.fields()))
        if len(data.encode()) > LIMIT:
            raise ValueError(f"button data too long: {data!r}")
        return data

    @classmethod
    def pattern(cls) -> str:
        """The regex its CallbackQueryHandler is registered with."""
        return f"^{VERSION}:{re.escape(cls.kind)}(:|$)"

    @classmethod
    def unpack(cls, data: str | None) -> Self | None:
        if not data or len(data) > LIMIT:
            return None
        parts = data.split(":")
        if parts[:2] != [VERSION, cls.kind]:
            return None
        return cls._from(parts[2:])

    @classmethod
    def _from(cls, args: list[str]) -> Self | None:
        return cls() if not args else None


@dataclass(frozen=True)
class Menu(Button):
    """Back to the areas, in place (the menu message itself is edited)."""

    kind: ClassVar[str] = "m"


@dataclass(frozen=True)
class Home(Button):
    """The main menu as a new message (from under an answer, which stays)."""

    kind: ClassVar[str] = "h"


@dataclass(frozen=True)
class Area(Button):
    kind: ClassVar[str] = "a"
    area: str

    def fields(self) -> tuple[str, ...]:
        return (self.area,)

    @classmethod
    def _from(cls, args: list[str]) -> Self | None:
        return cls(args[0]) if len(args) == 1 and _ID.match(args[0]) else None


@dataclass(frozen=True)
class Topic(Button):
    kind: ClassVar[str] = "t"
    intent: str

    def fields(self) -> tuple[str, ...]:
        return (self.intent,)

    @classmethod
    def _from(cls, args: list[str]) -> Self | None:
        return cls(args[0]) if len(args) == 1 and _ID.match(args[0]) else None


@dataclass(frozen=True)
class Language(Button):
    kind: ClassVar[str] = "l"
    code: str

    def fields(self) -> tuple[str, ...]:
        return (self.code,)

    @classmethod
    def _from(cls, args: list[str]) -> Self | None:
        return cls(args[0]) if len(args) == 1 and _LANG.match(args[0]) else None


@dataclass(frozen=True)
class Vote(Button):
    """👍 / 👎 on the logged message `row`."""

    kind: ClassVar[str] = "f"
    row: int
    up: bool

    def fields(self) -> tuple[str, ...]:
        return (str(self.row), "u" if self.up else "d")

    @classmethod
    def _from(cls, args: list[str]) -> Self | None:
        if len(args) != 2 or not _ROW.match(args[0]) or args[1] not in ("u", "d"):
            return None
        return cls(int(args[0]), args[1] == "u")


@dataclass(frozen=True)
class NoneOfThese(Button):
    """None of the topics a clarify offered: the hotline and the menu."""

    kind: ClassVar[str] = "n"


@dataclass(frozen=True)
class Forget(Button):
    """/forget's confirmation: delete everything, or keep it."""

    kind: ClassVar[str] = "x"
    confirm: bool

    def fields(self) -> tuple[str, ...]:
        return ("y" if self.confirm else "n",)

    @classmethod
    def _from(cls, args: list[str]) -> Self | None:
        return cls(args[0] == "y") if len(args) == 1 and args[0] in ("y", "n") else None


KINDS: tuple[type[Button], ...] = (Menu, Home, Area, Topic, Language, Vote, NoneOfThese, Forget)

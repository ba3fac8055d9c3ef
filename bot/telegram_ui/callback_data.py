"""Compact, versioned button data, validated on the way back in.

Telegram allows 64 bytes. Anything that does not parse, names an unknown topic, or comes from
an older version of the bot is treated as an expired button, never as an error.
"""

from __future__ import annotations

from dataclasses import dataclass

VERSION = "1"
ACTIONS = {
    "m": 0,  # the area menu
    "a": 1,  # an area's topics: area
    "t": 1,  # a topic's answer: intent id
    "l": 1,  # language choice: zh | en
    "f": 2,  # feedback: message row id, u | d
    "n": 0,  # none of the offered topics: the hotline and the menu
}


@dataclass(frozen=True)
class Button:
    action: str
    args: tuple[str, ...] = ()


def encode(action: str, *args: str) -> str:
    data = ":".join((VERSION, action, *args))
    if ACTIONS.get(action) != len(args) or len(data.encode()) > 64:
        raise ValueError(f"bad button {data!r}")
    return data


def decode(data: str | None) -> Button | None:
    """The button, or None when the data is stale, malformed or forged."""
    if not data or len(data) > 64:
        return None
    parts = data.split(":")
    if len(parts) < 2 or parts[0] != VERSION or ACTIONS.get(parts[1]) != len(parts) - 2:
        return None
    args = tuple(parts[2:])
    if any(not a or len(a) > 50 for a in args):
        return None
    return Button(parts[1], args)

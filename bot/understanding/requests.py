"""Which kinds of request a message makes: apply, eligibility, a price, a booking, ..."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .patterns import PhraseIndex, Span, overlaps, unvetoed

if TYPE_CHECKING:
    from ..knowledge.schema import Disavowals, RequestKind


@dataclass(frozen=True)
class Request:
    kind: str
    serve: str  # "answer" | "decline"
    follow_up: bool  # with a topic in context, a message making only this request asks about it
    spans: tuple[Span, ...]


class Requests:
    """Request kinds, tried in YAML order; a message may make several requests."""

    def __init__(self, kinds: dict[str, RequestKind], disavowals: Disavowals,
                 index: PhraseIndex) -> None:
        # each kind with its two labels, formatted once rather than on every message
        self._kinds = [(name, kind, f"request:{name}", f"request:{name}:unless")
                       for name, kind in kinds.items()]
        for _, kind, label, unless in self._kinds:
            index.add(label, [*kind.zh, *kind.en])
            index.add(unless, kind.unless)
        index.add("disavowal", disavowals.phrases)
        index.add("disavowal:unless", disavowals.unless)
        self._reach = disavowals.reach
        self._unless = {name: unless for name, _, _, unless in self._kinds}

    def ruled_out(self, kind: str, found: dict[str, list[Span]]) -> bool:
        """Whether the message holds a phrase that rules `kind` out (its `unless`): what
        vetoes the kind's phrases vetoes a guess of it too ("whats the hotline for…" asks
        nobody's details)."""
        return bool(found.get(self._unless[kind]))

    @staticmethod
    def disavowed(found: dict[str, list[Span]]) -> list[Span]:
        """Where the message says what it does not ask ("不用帮我申请 就想知道…", "…? not
        asking you to do it for me")."""
        return unvetoed(found, "disavowal", "disavowal:unless")

    def read(self, text: str, found: dict[str, list[Span]], story: int = 0,
             disavowed: list[Span] | None = None) -> tuple[Request, ...]:
        """`story`: how much of `text` is a story told before the question (see
        `reader.story_part`); an `asked_only` kind counts only where it starts after it (in
        "…paid 8000 in fees. Is there legal aid?" no price is asked). `disavowed`: the
        `disavowed` spans, when the caller has them already."""
        found_by: dict[str, list[Span]] = {}
        # a request no answer serves, reaching into where a disavowal does (up to `reach`
        # characters after it), is said not asked; so is one begun before it ("2025年目标是啥
        # 不用你猜能不能实现")
        disowned = [(start, end + self._reach + 1) for start, end in
                    (self.disavowed(found) if disavowed is None else disavowed)]
        for name, kind, label, unless in self._kinds:
            spans = unvetoed(found, label, unless)
            if disowned and kind.serve == "decline":
                spans = [s for s in spans if not overlaps(s, disowned)]
            if kind.whole and not _covers(spans, text):
                spans = []  # "ok" or "好 了解" alone, not "ok. what about housing?"
            if kind.asked_only:
                spans = [s for s in spans if s[0] >= story]
            found_by[name] = spans
        for name, kind, _, _ in self._kinds:
            for other in kind.takes_over:
                if found_by[name] and found_by[other]:
                    found_by[other] = [s for s in found_by[other]
                                       if not overlaps(s, found_by[name])]
        return tuple(Request(name, kind.serve, kind.follow_up, tuple(sorted(found_by[name])))
                     for name, kind, _, _ in self._kinds if found_by[name])


def _covers(spans: list[Span], text: str) -> bool:
    """Whether the spans together take up all of the text but its spaces."""
    covered = bytearray(len(text))
    for start, end in spans:
        covered[start:end] = b"\x01" * (end - start)
    return bool(text) and all(covered[i] or c == " " for i, c in enumerate(text))

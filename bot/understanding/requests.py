"""Which kinds of request a message makes: apply, eligibility, a price, a booking, ..."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .patterns import PhraseIndex, Span, overlaps

if TYPE_CHECKING:
    from ..knowledge.schema import RequestKind


@dataclass(frozen=True)
class Request:
    kind: str
    serve: str  # "answer" | "decline"
    follow_up: bool  # with a topic in context, a message making only this request asks about it
    spans: tuple[Span, ...]


class Requests:
    """Request kinds, tried in YAML order; a message may make several requests."""

    def __init__(self, kinds: dict[str, RequestKind], index: PhraseIndex) -> None:
        self._kinds = kinds
        for name, kind in kinds.items():
            index.add(f"request:{name}", [*kind.zh, *kind.en])
            index.add(f"request:{name}:unless", kind.unless)

    def read(self, text: str, found: dict[str, list[Span]]) -> tuple[Request, ...]:
        requests = []
        for name, kind in self._kinds.items():
            vetoes = found.get(f"request:{name}:unless", [])
            spans = [s for s in found.get(f"request:{name}", []) if not overlaps(s, vetoes)]
            if kind.whole:
                spans = [s for s in spans if s == (0, len(text))]
            if spans:
                requests.append(Request(name, kind.serve, kind.follow_up, tuple(sorted(spans))))
        return tuple(requests)

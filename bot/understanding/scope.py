"""Whether a message is *about* another place, or only says where the asker comes from.

"北京的人才公寓怎么申请" asks about Beijing; "我老家在长沙，人才公寓可以申请不" asks about our zone
from someone born in Changsha, and so does "在北京做了十年投资，想来高新区创业". A place counts
against the zone unless an origin phrase covers it ("老家{place}", "from {place}", "比{place}"),
or the message names our zone — and even then not when the place names a zone of its own
("深圳高新区").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .patterns import PhraseIndex, Span, inside, overlaps

if TYPE_CHECKING:
    from ..knowledge.schema import Places


class Scope:
    def __init__(self, places: Places, index: PhraseIndex) -> None:
        index.add("place", places.other)
        index.add("ours", [*places.zone, *places.ours])
        index.add("zone", places.zone)
        index.add("about", places.about, slots={"place": "place"})
        index.add("origin", places.origin, slots={"place": "place"})

    def read(self, text: str, found: dict[str, list[Span]]) -> tuple[str | None, tuple[str, ...]]:
        """The first other place the (compact, normalised) text asks about, if any, and the
        places an origin phrase names as where the asker comes from or what they compare with."""
        places = _longest(found.get("place", []))
        if not places:
            return None, ()
        origin, about = found.get("origin", []), found.get("about", [])
        taken = places + about
        ours = any(not overlaps(s, taken) for s in found.get("ours", []))
        asked, origins = None, []
        for span in places:
            place = text[span[0]:span[1]]
            if inside(span, origin):
                origins.append(place)
            elif inside(span, about) or not ours:
                asked = asked or place
        return asked, tuple(origins)


def _longest(spans: list[Span]) -> list[Span]:
    """Place spans without those inside a longer one (成都武侯区 over 武侯区), in text order."""
    spans = sorted(set(spans), key=lambda s: (s[0], -s[1]))
    kept: list[Span] = []
    for span in spans:
        if not any(k[0] <= span[0] and span[1] <= k[1] for k in kept):
            kept.append(span)
    return kept




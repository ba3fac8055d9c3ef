"""The best few intents for a question's weighted tokens, without scoring every intent.

An intent scores by how completely one of its examples is found in the question times how much
of the question its examples explain together (see `Matcher.rank`). Both parts are bounded
cheaply: what an intent explains is one addition per (question token, intent), and no example
is found more than the sum, over the question's tokens the intent has, of that token's share of
the lightest example holding it. Intents are scored in the order of that bound, and the rest
skipped once no bound reaches the `limit`-th score: a message scores a short list, not every
intent that shares a common word with it, and the list is the one scoring them all would give.
"""

from __future__ import annotations

from bisect import insort
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from operator import truediv

COVERAGE_EXPONENT = 0.8  # how much unexplained words in the question lower a score
SLACK = 1.0 + 1e-9  # a bound summed in another order than the score may be a few ulps lower


@dataclass(frozen=True)
class Scored:
    intent: str
    score: float  # 0–100, rounded to one decimal
    example: int  # the example that matched best (first in the question's order among
    #               equals), -1 when only a keyword matched


def _order(s: Scored) -> tuple[float, str]:
    return -s.score, s.intent


class IntentIndex:
    """Examples' tokens grouped by intent; built once, `rank` is a pure function."""

    def __init__(self, examples: Sequence[tuple[str, Iterable[str]]],
                 weigh: Callable[[str, int], float]) -> None:
        """`examples`: (intent, tokens) each; `weigh(token, intents having it)` its weight."""
        local: dict[str, dict[str, list[int]]] = {}
        members: dict[str, list[int]] = {}
        token_sets = []
        for i, (intent, tokens) in enumerate(examples):
            token_sets.append(tokens)
            mine = members.setdefault(intent, [])
            by_token = local.setdefault(intent, defaultdict(list))
            for t in tokens:
                by_token[t].append(len(mine))
            mine.append(i)
        having: dict[str, list[str]] = defaultdict(list)
        for intent, by_token in local.items():
            for t in by_token:
                having[t].append(intent)
        self.weight = {t: weigh(t, len(intents)) for t, intents in having.items()}
        ex_weight = [sum(self.weight[t] for t in tokens) for tokens in token_sets]
        # intent → token → its examples having it (positions within the intent)
        self._local = {iid: {t: tuple(ids) for t, ids in by_token.items()}
                       for iid, by_token in local.items()}
        self._members = {iid: tuple(ids) for iid, ids in members.items()}
        self._ex_weight = {iid: tuple(ex_weight[i] for i in ids) for iid, ids in members.items()}
        # token → (intent, 1 / the weight of the lightest of its examples having the token)
        self._postings = {
            t: tuple((iid, 1.0 / min(self._ex_weight[iid][j] for j in self._local[iid][t]))
                     for iid in intents)
            for t, intents in having.items()
        }

    def rank(self, weights: dict[str, float], hits: set[str], bonus: float,
             limit: int | None = None, floor: float = 0.0,
             exclude: int | None = None) -> list[Scored]:
        """The `limit` best intents (all if None), best first; beyond the best two (whose lead
        decides), only those scoring at least `floor`.

        `weights`: the question's tokens (unknown ones too, they count against coverage);
        `hits`: intents one of whose keywords it has, which get `bonus`; `exclude`: an example
        to leave out."""
        q_weight = sum(weights.values())
        if q_weight <= 0:
            return []
        shared = [(t, w) for t, w in weights.items() if w and t in self._postings]
        explained: dict[str, float] = {}
        reach: dict[str, float] = {}  # bounds how completely any example is found
        postings = self._postings
        for t, w in shared:
            for intent, inverse in postings[t]:
                explained[intent] = explained.get(intent, 0.0) + w
                reach[intent] = reach.get(intent, 0.0) + w * inverse
        out: list[Scored] = []
        lead = 2 if limit is None else min(2, limit)

        def needed(bound: float) -> bool:
            """Whether an intent this bound holds (rounded) could enter or tie into `out`."""
            bound = round(bound, 1)
            if len(out) < lead or bound >= out[lead - 1].score:
                return True
            return bound >= floor and (limit is None or len(out) < limit
                                       or bound >= out[-1].score)

        def keep(intent: str) -> None:
            scored = self._score(intent, shared, explained.get(intent, 0.0) / q_weight,
                                 intent in hits, bonus, exclude)
            if scored is not None and needed(scored.score):
                insort(out, scored, key=_order)
                if limit is not None:
                    del out[limit:]
                if len(out) > lead and out[-1].score < floor:
                    out.pop()  # pushed out of the lead by a better one, and below the floor

        for intent in hits:  # the bonus is beyond the bound: keyword hits are always scored
            keep(intent)
        bounds = []
        for intent, weight in explained.items():
            if intent not in hits:
                # min(1.0, x) spelt out: a builtin call per intent touched is a tenth of `rank`
                share, found = weight / q_weight, reach[intent]
                coverage = (share if share < 1.0 else 1.0) ** COVERAGE_EXPONENT
                bounds.append((100.0 * (SLACK * (found if found < 1.0 else 1.0) * coverage),
                               intent))
        bounds.sort(reverse=True)
        for bound, intent in bounds:
            if not needed(bound):
                break  # no intent left can reach a place in `out`, nor tie for one
            keep(intent)
        return out

    def score(self, weights: dict[str, float], intent: str, hit: bool, bonus: float) -> float:
        """The score `rank` gives one intent (0 when it shares nothing with the question)."""
        q_weight = sum(weights.values())
        local = self._local.get(intent)
        if q_weight <= 0 or local is None:
            return 0.0
        shared = [(t, w) for t, w in weights.items() if w and t in self._postings]
        explained = 0.0
        for t, w in shared:
            if t in local:
                explained += w
        scored = self._score(intent, shared, explained / q_weight, hit, bonus, None)
        return scored.score if scored is not None else 0.0

    def _score(self, intent: str, shared: list[tuple[str, float]], explained: float,
               hit: bool, bonus: float, exclude: int | None) -> Scored | None:
        """Its best example's share found in the question, times how much of the question the
        intent explains; None if it has neither an example sharing a token nor a keyword."""
        local, weights = self._local[intent], self._ex_weight[intent]
        found_in = [0.0] * len(weights)
        holding: set[int] = set()  # the examples sharing a token: only they can be found
        for t, w in shared:
            ids = local.get(t)
            if ids is not None:
                holding.update(ids)
                for j in ids:
                    found_in[j] += w
        members = self._members[intent]
        if exclude is not None and exclude in members:
            found_in[members.index(exclude)] = -1.0
            holding.discard(members.index(exclude))
        found = max(map(truediv, map(found_in.__getitem__, holding),
                        map(weights.__getitem__, holding)), default=0.0)
        if found <= 0.0 and not hit:
            return None
        example = -1
        if found > 0.0:
            example = members[next(j for t, _ in shared for j in local.get(t, ())
                                   if found_in[j] / weights[j] == found)]
        score = max(found, 0.0) * min(1.0, explained) ** COVERAGE_EXPONENT
        return Scored(intent, round(min(100.0, 100.0 * score + (bonus if hit else 0.0)), 1),
                      example)

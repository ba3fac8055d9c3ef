"""Which request a message makes, learnt from labelled messages rather than listed as phrases.

Phrase lists in understanding.yaml catch the wordings someone thought of; people find others
("大概什么价位", "busy rn?"). The guesser learns from labelled messages over the *frame* of a
message: characters, character pairs and triples, words and word pairs that occur with several
topics (多少钱, 会不会, "for me", "right now"). Those seen with fewer topics name the topic, not
the request, and are left out, so what is learnt about rents for one topic carries over to all.

Two models, each what its job needs: whether the topic's answer can serve the message at all
is a logistic regression (it weighs correlated n-grams properly, and the decision is the one
that must be right); which request it is, once it is one no answer serves, is naive Bayes over
the labelled requests alone (it only picks the reason the reply gives).
"""

from __future__ import annotations

import math
import re
import sys
import zlib
from array import array
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise

from ..matching.features import stem
from ..matching.normalize import CJK

NONE = "none"  # the label of a message the topic's answer serves

# passes over the labelled messages: 8 did as well on the dev sets (within 2 items each), in
# 60% more build time
EPOCHS = 5
# the regression learnt this many times, each taking the messages in other orders, and its
# weights averaged: one order's model is sure of a few words it happened to learn late, the
# average of three is not (benchmarks/learnt_cv.py, 5-fold over the messages no phrase reads,
# at 0.8: 933 of 1,179 declines caught with 85 false in 9,958, where one order caught 932 with
# 103; five orders caught 10 more with as many false, for two thirds more training). The
# averaged weights are one model: no cost per message.
ORDERS = 3
_RATE = 0.5  # AdaGrad's step
_L2 = 1e-4
_TOKEN = re.compile(f"[{CJK}]|[a-z]+|[0-9]+")
# the topic guess's fixed point: a log-likelihood in units of 1/SCALE (log((n + 0.1) / 0.1) is
# under 17 for any count n below a million, so a value fits 32 bits and a message's sum for one
# topic stays far below a packed row's 64-bit field); a feature seen with at least WIDE topics
# (and a quarter of all of them) is one packed row
SCALE = 1 << 24
WIDE = 20


# The reader and the topic guess frame the same message: a few entries serve one message,
# and a stream of distinct messages gains nothing from them.
@lru_cache(maxsize=4)
def frame_features(normalized: str) -> frozenset[str]:
    """Single tokens, pairs, and Chinese triples, digits folded to #: "2000块" → "#块".
    Frozen, as callers share it (memoised)."""
    # a token is one Chinese character, a Latin word or a number: only the character is not
    # ASCII (per-token regex tests were a third of a long message's framing)
    tokens = [("#" if t.isdigit() else t if not t.isascii() else stem(t))
              for t in _TOKEN.findall(normalized)]
    out = set(tokens)
    out.update(map(" ".join, pairwise(tokens)))
    # triples of consecutive characters: the runs of characters between the other tokens
    for run in "".join(t if not t.isascii() else " " for t in tokens).split():
        out.update(run[i:i + 3] for i in range(len(run) - 2))
    return frozenset(out)


@dataclass(frozen=True)
class Guess:
    kind: str  # the likeliest request kind no answer serves (NONE when not worked out)
    probability: float  # that the message makes a request no answer serves


class KindGuesser:
    """Trained once per knowledge base; `guess` is a pure function of the normalised text."""

    def __init__(self, labelled: Iterable[tuple[frozenset[str], str, str]], min_topics: int,
                 epochs: int = EPOCHS, balanced: bool = True, orders: int = ORDERS) -> None:
        """`labelled`: (the `frame_features` of a normalised message, request kind or NONE,
        topic id); features rather than text, as two guessers learn from the same messages.
        `balanced`, `orders`: see `_logistic`."""
        rows = list(labelled)
        topics: dict[str, set[str]] = defaultdict(set)
        for features, _, topic in rows:
            for f in features:
                topics[f].add(topic)
        vocabulary = {f for f, seen in topics.items() if len(seen) >= min_topics}
        rows = [(features & vocabulary, kind, topic) for features, kind, topic in rows]
        weights, self._bias = _logistic([(list(f), kind != NONE) for f, kind, _ in rows], epochs,
                                       balanced, orders)
        self._kinds, likelihoods = _bayes([(f, kind) for f, kind, _ in rows if kind != NONE])
        # One row per feature: its weight in the regression, then its log-likelihood in each
        # kind (0 where it has none), as float32 in one array: a cached engine loads it at once.
        known = sorted(weights.keys() | likelihoods.keys())
        self._index = {f: i for i, f in enumerate(known)}
        self._width = width = 1 + len(self._kinds)
        self._table = array("f", bytes(4 * width * len(known)))
        for f, i in self._index.items():
            self._table[i * width] = weights.get(f, 0.0)
            for k, value in enumerate(likelihoods.get(f, ())):
                self._table[i * width + 1 + k] = value

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_index": _packed(self._index)}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state, _index=_unpacked(state["_index"]))

    def guess(self, normalized: str, at_least: float = 0.0,
              features: frozenset[str] | None = None) -> Guess:
        """The kind is worked out only when the probability reaches `at_least` (it names the
        reason of a decline; below that there is none, and half the time is saved).
        `features`: the text's `frame_features`, when another guesser framed it already."""
        index, table, width = self._index, self._table, self._width
        framed = frame_features(normalized) if features is None else features
        rows = [i * width for i in map(index.get, framed) if i is not None]
        z = self._bias + sum(table[r] for r in rows)
        probability = _sigmoid(z)
        if probability < at_least or not self._kinds:
            return Guess(NONE, probability)
        # each kind's column summed in C over the rows' slices, in the same order as before
        columns = zip(*(table[r + 1:r + width] for r in rows), strict=True)
        scores: list[float] = list(map(sum, columns)) if rows else [0.0] * (width - 1)
        return Guess(self._kinds[scores.index(max(scores))], probability)


class TopicGuesser:
    """Which topic a message is about, learnt from every labelled message: a second opinion
    where the ranking cannot choose between close topics ("想带孙子去有草地的地方" is near
    parks and shopping alike; the words people use for each, over thousands of messages,
    say which). Naive Bayes over all of the frame's features, topic words included.

    Its log-likelihoods are fixed-point integers (units of 1/SCALE), so a message's scores are
    exact sums, the same in any order. A feature seen with many topics (的, 高新区, "how") is
    one integer holding every topic's value in a 64-bit field of its own: adding those rows
    adds all the topics at once, in C. Such rows are few (781) but are most of what a close
    call adds up (on the eval sets' close calls, 835 of 925 (feature, topic) pairs); the rest
    are added pair by pair."""

    def __init__(self, labelled: Iterable[tuple[frozenset[str], str]], smoothing: float = 0.1,
                 ) -> None:
        counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for features, topic in labelled:
            for f in features:
                counts[f][topic] += 1
        self._topics = sorted({t for seen in counts.values() for t in seen})
        number = {t: i for i, t in enumerate(self._topics)}
        totals = [0] * len(self._topics)
        for seen in counts.values():
            for t, n in seen.items():
                totals[number[t]] += n
        # log((n + a) / (total + a·V)) = log((n + a) / a) + log(a / (total + a·V)): the first
        # part is 0 where a topic never had the feature, so only the pairs seen are stored
        size = len(counts)
        self._base = [math.log(smoothing / (total + smoothing * size)) for total in totals]

        def fixed(n: int) -> int:
            return round(math.log((n + smoothing) / smoothing) * SCALE)

        # packed where a row fills a good part of its fields: a grown knowledge base of
        # thousands of topics packs only the features seen with a quarter of them
        least = max(WIDE, len(self._topics) // 4)
        wide = [f for f, seen in counts.items() if len(seen) >= least]
        narrow = [f for f, seen in counts.items() if len(seen) < least]
        # rows 0 … len(wide) - 1 are packed integers, the others slices of the pair arrays
        self._wide = [self._packed_row({number[t]: fixed(n) for t, n in counts[f].items()})
                      for f in wide]
        self._index: dict[str, int] | str = {f: i for i, f in enumerate([*wide, *narrow])}
        self._starts = array("I", [0])
        self._topic_of = array("H")
        self._value = array("i")
        for f in narrow:
            for t, n in sorted(counts[f].items()):
                self._topic_of.append(number[t])
                self._value.append(fixed(n))
            self._starts.append(len(self._value))

    def _packed_row(self, values: dict[int, int]) -> int:
        """Topic number → value, as one integer with topic i's value in field i."""
        fields = array("Q", bytes(8 * len(self._topics)))
        for topic, value in values.items():
            fields[topic] = value
        return int.from_bytes(fields.tobytes(), sys.byteorder)

    def __getstate__(self) -> dict:
        # ~90,000 features: a start from the cache should not pay for what only a close call
        # needs, so they stay one string until the first
        return {**self.__dict__, "_index": _packed(self._features())}

    def _features(self) -> dict[str, int]:
        """Feature → row, made from the string it was stored as on first use."""
        if isinstance(self._index, str):
            self._index = _unpacked(self._index)
        return self._index

    def guess(self, normalized: str) -> tuple[str, float]:
        """The likeliest topic and its probability among all ("", 0.0) with no known word."""
        index = self._features()
        rows = [i for i in map(index.get, frame_features(normalized)) if i is not None]
        if not rows or not self._topics:
            return "", 0.0
        wide, topics = self._wide, len(self._topics)
        packed = sum(wide[i] for i in rows if i < len(wide))
        sums = list(array("Q", packed.to_bytes(8 * topics, sys.byteorder))) if packed else (
            [0] * topics)
        starts, topic_of, value = self._starts, self._topic_of, self._value
        for i in rows:
            if i >= len(wide):
                row = i - len(wide)
                for j in range(starts[row], starts[row + 1]):
                    sums[topic_of[j]] += value[j]
        scores = [b * len(rows) + s / SCALE for b, s in zip(self._base, sums, strict=True)]
        best = max(scores)
        total = sum(math.exp(v - best) for v in scores)
        return self._topics[scores.index(best)], 1.0 / total


def _packed(index: dict[str, int]) -> str:
    """A feature → row index (rows numbered in insertion order) as one string: a pickled
    dict of tens of thousands of features takes tens of milliseconds to load, one string
    none. No feature holds a newline (they are made of normalised text)."""
    return "\n".join(index)


def _unpacked(packed: str) -> dict[str, int]:
    """The index `_packed` stored, rebuilt in C (dict over zip, not a Python loop)."""
    features = packed.split("\n") if packed else []
    return dict(zip(features, range(len(features)), strict=True))


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(min(z, 30.0), -30.0)))


def _logistic(rows: list[tuple[list[str], bool]], epochs: int, balanced: bool = True,
              orders: int = 1) -> tuple[dict[str, float], float]:
    """Weights by AdaGrad, the two classes weighted to count equally where `balanced` (the
    answerable messages outnumber the others many times over); learnt `orders` times and
    averaged. Each pass takes the messages in an order drawn from their own words (a hash of
    each with the pass and the order number), not from a seeded shuffle of the list: a
    knowledge base always trains to the same model, and one message added or dropped leaves
    the order of all the others, so a small edit makes a small change."""
    ids: dict[str, int] = {}  # features as list positions: a third faster than dict keys
    ordered = [sorted(features) for features, _ in rows]
    numbered = [([ids.setdefault(f, len(ids)) for f in features], y)
                for features, (_, y) in zip(ordered, rows, strict=True)]
    names = ["\x1f".join(features).encode() for features in ordered]
    positive = sum(1 for _, y in numbered if y)
    weight = (len(numbered) - positive) / positive if positive and balanced else 1.0
    total, total_bias = [0.0] * len(ids), 0.0
    for run in range(orders):
        w = [0.0] * len(ids)
        squares = [1e-8] * len(ids)
        bias = 0.0
        sqrt, get, rate, l2 = math.sqrt, w.__getitem__, _RATE, _L2
        for epoch in range(epochs):
            # the first order is the one a single run always took
            salt = (epoch + 100 * run).to_bytes(2, "big")
            order = sorted(range(len(numbered)), key=lambda i: (zlib.crc32(salt + names[i]), i))
            for features, y in map(numbered.__getitem__, order):
                p = _sigmoid(bias + sum(map(get, features)))
                g = (p - 1.0) * weight if y else p
                bias -= 0.1 * rate * g
                for i in features:
                    gf = g + l2 * w[i]
                    s = squares[i] + gf * gf
                    squares[i] = s
                    w[i] -= rate * gf / sqrt(s)
        total = [t + x for t, x in zip(total, w, strict=True)]
        total_bias += bias
    return {f: total[i] / orders for f, i in ids.items() if total[i]}, total_bias / orders


def _bayes(rows: list[tuple[frozenset[str], str]],
           ) -> tuple[list[str], dict[str, tuple[float, ...]]]:
    """Multinomial naive Bayes with add-one smoothing, equal priors."""
    kinds = sorted({kind for _, kind in rows})
    counts: dict[str, dict[str, int]] = {k: defaultdict(int) for k in kinds}
    totals = dict.fromkeys(kinds, 0)
    vocabulary = set().union(*(f for f, _ in rows)) if rows else set()
    for features, kind in rows:
        for f in features:
            counts[kind][f] += 1
        totals[kind] += len(features)
    size = len(vocabulary)
    return kinds, {f: tuple(math.log((counts[k][f] + 1) / (totals[k] + size)) for k in kinds)
                   for f in vocabulary}

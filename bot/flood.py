"""Per-user flood control: a token bucket that normal human pace never empties.

A user may send `burst` messages at once, and one more every `refill` seconds after that: someone
typing, or pasting a few questions, never notices it. When the bucket is empty the user is told
once how many seconds to wait; what they send after that is answered as usual. Button presses
are not messages and do not count (the guard only checks messages and commands).

The buckets live in the database (storage.take_token), so several instances behind a load
balancer count one user's messages together; this module is only the arithmetic, pure and
clock-injected so it is tested without sleeping. Times are wall-clock seconds because
instances on different machines share no monotonic clock.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum


class Verdict(Enum):
    ALLOW = "allow"
    NOTIFY = "notify"  # just ran out: tell the user when to come back
    DROP = "drop"  # still out, already told


@dataclass(frozen=True)
class Rules:
    burst: int = 8
    refill: float = 3.0  # seconds per token


@dataclass(frozen=True)
class Bucket:
    tokens: float
    at: float
    told: bool = False


@dataclass(frozen=True)
class Check:
    verdict: Verdict
    wait: int = 0  # whole seconds until the next message is answered


def take(bucket: Bucket | None, now: float, rules: Rules) -> tuple[Bucket, Check]:
    """One message arrives: the bucket after it, and what to do with the message."""
    if bucket is None:
        bucket = Bucket(float(rules.burst), now)
    # a clock a little behind another instance's never takes tokens away
    tokens = min(float(rules.burst), bucket.tokens + max(0.0, now - bucket.at) / rules.refill)
    if tokens >= 1.0:
        return Bucket(tokens - 1.0, now), Check(Verdict.ALLOW)
    wait = max(1, math.ceil((1.0 - tokens) * rules.refill))
    if bucket.told:
        return Bucket(tokens, now, True), Check(Verdict.DROP, wait)
    return Bucket(tokens, now, True), Check(Verdict.NOTIFY, wait)

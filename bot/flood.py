"""Per-user flood control: a token bucket that normal human pace never empties.

A user may send `burst` messages at once, and one more every `refill` seconds after that: someone
typing, or pasting a few questions, never notices it. When the bucket is empty the user is told
once how many seconds to wait; what they send after that is answered as usual. Button presses
are not messages and do not count (the guard only checks messages and commands).

Pure and clock-injected so it is tested without sleeping; no Telegram here.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from enum import Enum

MAX_USERS = 10_000  # idle users are forgotten beyond this, so memory stays bounded


class Verdict(Enum):
    ALLOW = "allow"
    NOTIFY = "notify"  # just ran out: tell the user when to come back
    DROP = "drop"  # still out, already told


@dataclass
class _Bucket:
    tokens: float
    at: float
    told: bool = False


@dataclass(frozen=True)
class Check:
    verdict: Verdict
    wait: int = 0  # whole seconds until the next message is answered


class FloodGate:
    def __init__(self, burst: int = 8, refill: float = 3.0) -> None:
        self.burst, self.refill = burst, refill
        self._buckets: dict[int, _Bucket] = {}

    def check(self, user_id: int, now: float | None = None) -> Check:
        now = time.monotonic() if now is None else now
        bucket = self._buckets.get(user_id)
        if bucket is None:
            if len(self._buckets) >= MAX_USERS:
                self._forget_full(now)
            bucket = self._buckets[user_id] = _Bucket(float(self.burst), now)
        bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.at) / self.refill)
        bucket.at = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            bucket.told = False
            return Check(Verdict.ALLOW)
        wait = max(1, math.ceil((1.0 - bucket.tokens) * self.refill))
        if bucket.told:
            return Check(Verdict.DROP, wait)
        bucket.told = True
        return Check(Verdict.NOTIFY, wait)

    def _forget_full(self, now: float) -> None:
        """Forget users whose bucket has refilled: they are as new anyway."""
        full = [u for u, b in self._buckets.items()
                if b.tokens + (now - b.at) / self.refill >= self.burst]
        for user_id in full:
            del self._buckets[user_id]

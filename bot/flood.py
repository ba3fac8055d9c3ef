"""Per-user flood control: one polite notice, then a short silence.

Pure and clock-injected so it is tested without sleeping; no Telegram here.
"""

from __future__ import annotations

import time
from collections import deque
from enum import Enum


class Verdict(Enum):
    ALLOW = "allow"
    NOTIFY = "notify"  # over the limit: tell the user once
    DROP = "drop"  # still cooling down: ignore


class FloodGate:
    def __init__(self, limit: int = 10, window: float = 10.0, cooldown: float = 30.0) -> None:
        self.limit, self.window, self.cooldown = limit, window, cooldown
        self._seen: dict[int, deque[float]] = {}
        self._quiet_until: dict[int, float] = {}

    def check(self, user_id: int, now: float | None = None) -> Verdict:
        now = time.monotonic() if now is None else now
        if self._quiet_until.get(user_id, 0.0) > now:
            return Verdict.DROP
        seen = self._seen.setdefault(user_id, deque())
        while seen and now - seen[0] > self.window:
            seen.popleft()
        seen.append(now)
        if len(seen) > self.limit:
            self._quiet_until[user_id] = now + self.cooldown
            seen.clear()
            return Verdict.NOTIFY
        if len(self._seen) > 10_000:  # forget idle users so memory stays bounded
            self._forget_idle(now)
        return Verdict.ALLOW

    def _forget_idle(self, now: float) -> None:
        for uid in [u for u, s in self._seen.items() if not s or now - s[-1] > self.window]:
            del self._seen[uid]
        for uid in [u for u, t in self._quiet_until.items() if t <= now]:
            del self._quiet_until[uid]

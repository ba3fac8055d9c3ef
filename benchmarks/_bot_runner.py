"""`policybot run` as bench_e2e.py starts it: the real bot process, optionally without limits.

--no-limiter: this process only, nothing in bot/ changed: PTB's AIORateLimiter is replaced by
no limiter (Application.builder().rate_limiter(None)) and per-user flood control gets a bucket
nobody empties. The bot has no switch for either (see bench_e2e.py's report).
SIGUSR1 starts cProfile (main thread: the event loop, PTB, httpx, the engine), SIGUSR2 stops it
and writes the stats to --profile.
"""

from __future__ import annotations

import argparse
import cProfile
import signal
import sys

import _common  # noqa: F401  (puts the checkout on sys.path)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--no-limiter", action="store_true")
    parser.add_argument("--profile", default="")
    args = parser.parse_args()
    if args.no_limiter:
        from bot import flood
        from bot.telegram_ui import application

        application.AIORateLimiter = lambda **kw: None
        flood.Rules.__init__.__defaults__ = (10**9, 3.0)  # a bucket nobody empties
    profiler = cProfile.Profile()

    def start(*_: object) -> None:
        profiler.enable()

    def stop(*_: object) -> None:
        profiler.disable()
        if args.profile:
            profiler.dump_stats(args.profile)

    signal.signal(signal.SIGUSR1, start)
    signal.signal(signal.SIGUSR2, stop)
    from bot.cli import main as cli

    return cli(["run"])


if __name__ == "__main__":
    sys.exit(main())

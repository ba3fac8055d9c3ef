"""End to end: the real bot process (python-telegram-bot, httpx, SQLite) against the fake Bot API.

For each setting — limits on (as shipped: PTB's AIORateLimiter and per-user flood control) and
limits off (patched in the bot process by benchmarks/_bot_runner.py: the bot has no switch) —
it measures:
  * reply latency, one message at a time (a new user each): Bot API sendMessage arrival minus
    the moment the update was queued (the fake answers the pending long poll at once);
  * throughput: BURST messages queued at once, each from a different user (so the per-user
    flood control never trips), until every chat has its reply; with the bot's CPU per update;
  * limits off only, a second burst under cProfile (main thread), time split into HTTP client
    (httpx/httpcore/h11/anyio), PTB, event loop, engine, storage, the bot's Telegram layer; and
    every thread's CPU from /proc (aiosqlite runs SQLite in its own thread).
With limits on, one user sending 20 messages at once shows the flood control.

Prints numbers; asserts nothing. Run: python benchmarks/bench_e2e.py [--burst 600]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import pstats
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from _common import ROOT, eval_questions, machine, pick

sys.path.insert(0, str(ROOT / "tests"))
import fake_bot_api
from fake_bot_api import TOKEN, FakeBotAPI

# The fake writes a response's headers and body in two send()s; with Nagle on, the body waits
# for the client's delayed ACK of the headers (~40 ms on Linux). Telegram does not do that, so
# the fake's sockets get TCP_NODELAY here (this process only; latency is shown both ways).
NODELAY = {"on": False}
_setup = fake_bot_api._Handler.setup


def _setup_nodelay(self) -> None:
    _setup(self)
    if NODELAY["on"]:
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


fake_bot_api._Handler.setup = _setup_nodelay


def set_nodelay(fake: FakeBotAPI, on: bool) -> None:
    NODELAY["on"] = on
    with fake._lock:
        for conn in fake._connections:
            with contextlib.suppress(OSError):
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, int(on))

TICK = os.sysconf("SC_CLK_TCK")
RUNNER = Path(__file__).resolve().parent / "_bot_runner.py"


def thread_cpu(pid: int) -> dict[str, float]:
    """CPU seconds of a process's main thread (the event loop) and of its other threads
    (aiosqlite's SQLite threads, executors), from /proc."""
    out: dict[str, float] = defaultdict(float)
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        name = "main thread" if task.name == str(pid) else "other threads"
        out[name] += (int(fields[11]) + int(fields[12])) / TICK
    return dict(out)


class Bot:
    def __init__(self, fake: FakeBotAPI, workdir: Path, limits: bool, profile: Path) -> None:
        self.fake, self.profile = fake, profile
        env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": fake.base_url,
               "DATABASE_PATH": str(workdir / "bot.sqlite3"), "PYTHONUNBUFFERED": "1"}
        cmd = [sys.executable, str(RUNNER), "--profile", str(profile)]
        if not limits:
            cmd.append("--no-limiter")
        mark = fake.mark()
        self.log = (workdir / "bot.log").open("ab")
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=subprocess.STDOUT)
        fake.wait_for_sync("setMyCommands", after=mark, timeout=60)
        fake.wait_for_sync("getUpdates", after=mark, timeout=60)

    def cpu(self) -> float:
        return sum(thread_cpu(self.proc.pid).values())

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


class Users:
    """Fresh user ids, so no one's flood bucket is shared."""

    def __init__(self) -> None:
        self.next = 100_000

    def __call__(self) -> int:
        self.next += 1
        return self.next


def replies_to(fake: FakeBotAPI, chats: set[int], after: int, timeout: float) -> dict[int, float]:
    """chat → arrival time of its first sendMessage (index >= after), waiting for them all."""
    got: dict[int, float] = {}
    deadline = time.monotonic() + timeout
    seen = after
    while len(got) < len(chats) and time.monotonic() < deadline:
        with fake._lock:
            new = fake.calls[seen:]
        seen += len(new)
        for c in new:
            chat = c.params.get("chat_id")
            if c.method == "sendMessage" and c.ok and chat in chats and chat not in got:
                got[chat] = c.at
        time.sleep(0.005)
    return got


def latency(fake: FakeBotAPI, users: Users, questions: list[str]) -> list[float]:
    out = []
    for q in questions:
        uid, mark = users(), fake.mark()
        t = time.time()
        fake.push_message(q, user_id=uid)
        got = replies_to(fake, {uid}, mark, 30)
        if uid in got:
            out.append(got[uid] - t)
    return out


def burst(fake: FakeBotAPI, bot: Bot, users: Users, questions: list[str]) -> dict:
    uids = [users() for _ in questions]
    mark, cpu0, fake0 = fake.mark(), bot.cpu(), time.process_time()
    t0 = time.time()
    for uid, q in zip(uids, questions, strict=True):
        fake.push_message(q, user_id=uid)
    pushed = time.time() - t0
    got = replies_to(fake, set(uids), mark, 300)
    end = max(got.values()) if got else t0
    fake_cpu = time.process_time() - fake0  # this process: the fake API's threads (and polling)
    return {"n": len(questions), "answered": len(got), "seconds": end - t0, "push_s": pushed,
            "per_s": len(got) / (end - t0) if got else 0.0,
            "cpu_ms_per_update": (bot.cpu() - cpu0) * 1e3 / max(1, len(got)),
            "fake_cpu_ms_per_update": fake_cpu * 1e3 / max(1, len(got)),
            "wait": sorted(v - t0 for v in got.values())}


CATEGORIES = (  # first match on the function's file path wins
    ("engine", ("/bot/engine/", "/bot/matching/", "/bot/understanding/", "rapidfuzz",
                "pypinyin", "opencc")),
    ("storage", ("/bot/storage.py", "aiosqlite", "sqlite3", "cryptography")),
    ("HTTP client", ("/httpx/", "/httpcore/", "/h11/", "/anyio/", "/sniffio/", "/ssl.py",
                     "/socket.py", "/idna/", "/certifi/", "/urllib/")),
    ("PTB", ("/telegram/",)),
    ("event loop", ("/asyncio/", "/selectors.py")),
    ("imports (httpcore's `import sniffio` per request: not installed)",
     ("<frozen importlib", "_distutils_hack", "__editable__")),
    ("json", ("/json/",)),
    ("bot Telegram layer", ("/bot/",)),
    ("logging", ("/logging/",)),
)


def category(path: str) -> str:
    for name, marks in CATEGORIES:
        if any(m in path for m in marks):
            return name
    return "other Python (json, enum, dataclasses, ...)"


def top_functions(path: Path, n: int = 12) -> list[str]:
    stats = pstats.Stats(str(path)).stats
    rows = sorted(stats.items(), key=lambda kv: -kv[1][2])[:n]
    return [f"{tt:.3f} s self, {ct:.3f} s cumulative, {nc} calls: "
            f"{Path(f).parent.name}/{Path(f).name}:{line} {fn}" if f != "~" else
            f"{tt:.3f} s self, {ct:.3f} s cumulative, {nc} calls: {fn}"
            for (f, line, fn), (_cc, nc, tt, ct, _callers) in rows]


def split_profile(path: Path) -> tuple[dict[str, float], float]:
    """Self time per category; a C function's time goes to its callers' categories (in
    proportion to its time under each), waiting in epoll to "idle"."""
    stats = pstats.Stats(str(path)).stats
    cat = {fn: category(fn[0]) for fn in stats}
    out: dict[str, float] = defaultdict(float)

    def owner(fn, depth: int = 0) -> dict[str, float]:
        """Shares of the categories a function's time belongs to."""
        if fn[0] != "~" or depth > 5:
            return {cat.get(fn, category(fn[0])): 1.0}
        name = fn[2]
        if "poll' of 'select.epoll" in name or "select.epoll" in name:
            return {"idle (epoll wait)": 1.0}
        if "sqlite3" in name:
            return {"storage": 1.0}
        callers = stats[fn][4] if fn in stats else {}
        total = sum(v[2] for v in callers.values()) or 0.0
        shares: dict[str, float] = defaultdict(float)
        for caller, v in callers.items():
            w = v[2] / total if total else 1.0 / len(callers)
            for c, s in owner(caller, depth + 1).items():
                shares[c] += w * s
        return shares or {"other Python (json, enum, dataclasses, ...)": 1.0}

    for fn, (_cc, _nc, tt, _ct, _callers) in stats.items():
        for c, s in owner(fn).items():
            out[c] += tt * s
    return dict(out), sum(out.values())


def ms_line(xs: list[float]) -> str:
    return (f"p50 {pick(xs, .5) * 1e3:.1f} ms, p99 {pick(xs, .99) * 1e3:.1f} ms, "
            f"max {pick(xs, 1.0) * 1e3:.1f} ms (n={len(xs)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--burst", type=int, default=600)
    parser.add_argument("--sequential", type=int, default=100)
    parser.add_argument("--save-profile", type=Path, help="keep the cProfile stats here")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    pool = [x.q for x in eval_questions(("dev", "test"))]
    qs = lambda n, k=0: [pool[(k + i) % len(pool)] for i in range(n)]  # noqa: E731
    users = Users()
    results = {}
    with FakeBotAPI() as fake, tempfile.TemporaryDirectory() as tmp:
        for limits in (True, False):
            work = Path(tmp) / ("on" if limits else "off")
            work.mkdir()
            profile = work / "bot.prof"
            bot = Bot(fake, work, limits, profile)
            try:
                set_nodelay(fake, False)
                latency(fake, users, qs(20, 500))  # warm-up
                lat_nagle = latency(fake, users, qs(args.sequential, 600))
                set_nodelay(fake, True)
                latency(fake, users, qs(5, 700))
                lat = latency(fake, users, qs(args.sequential))
                b = burst(fake, bot, users, qs(args.burst, 100))
                r = {"latency": lat, "latency_nagle": lat_nagle, "burst": b}
                if limits:
                    uid, mark = users(), fake.mark()
                    for q in qs(20, 300):
                        fake.push_message(q, user_id=uid)
                    time.sleep(3)
                    sent = [c for c in fake.calls[mark:]
                            if c.method == "sendMessage" and c.params.get("chat_id") == uid]
                    r["flood"] = len(sent)
                else:
                    threads0 = thread_cpu(bot.proc.pid)
                    bot.proc.send_signal(signal.SIGUSR1)
                    time.sleep(0.2)
                    r["profiled"] = burst(fake, bot, users, qs(args.burst, 200))
                    bot.proc.send_signal(signal.SIGUSR2)
                    time.sleep(1.0)
                    threads1 = thread_cpu(bot.proc.pid)
                    r["threads"] = {k: v - threads0.get(k, 0.0) for k, v in threads1.items()}
                    r["split"] = split_profile(profile)
                    r["top"] = top_functions(profile)
                    if args.save_profile:
                        shutil.copy(profile, args.save_profile)
                results[limits] = r
            finally:
                bot.stop()

    print("\nsequential reply latency, one message at a time (new user each), fake's sockets as "
          "the tests have them (Nagle on) / with TCP_NODELAY:")
    for limits, r in results.items():
        print(f"  limits {'on ' if limits else 'off'}: {ms_line(r['latency_nagle'])}  /  "
              f"{ms_line(r['latency'])}")
    print("\nfake with TCP_NODELAY from here on")
    print("\n| setting | sequential reply latency | burst: updates/s | burst: all answered in "
          "| burst: wait p50 / max | bot CPU per update | fake API CPU per update |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for limits, r in results.items():
        b = r["burst"]
        print(f"| limits {'on (as shipped)' if limits else 'off (patched)'} | "
              f"{ms_line(r['latency'])} | {b['per_s']:.0f} ({b['answered']}/{b['n']}) | "
              f"{b['seconds']:.2f} s | {pick(b['wait'], .5):.2f} / {pick(b['wait'], 1.0):.2f} s "
              f"| {b['cpu_ms_per_update']:.1f} ms | {b['fake_cpu_ms_per_update']:.1f} ms |")
    on = results[True]
    print(f"\nlimits on, one user sending 20 messages at once: {on['flood']} sendMessage calls "
          "(flood control answers 8 and says once when to come back)")
    off = results[False]
    split, total = off["split"]
    p = off["profiled"]
    print(f"\nwhere the time goes, limits off, a burst of {p['n']} under cProfile (main thread; "
          f"{p['per_s']:.0f} updates/s while profiled), self time per category:")
    print("| part | s | % of main thread | ms per update |")
    print("|---|---:|---:|---:|")
    busy = total - split.get("idle (epoll wait)", 0.0)
    for name, sec in sorted(split.items(), key=lambda kv: -kv[1]):
        share = f"{sec / busy * 100:.1f}" if name != "idle (epoll wait)" else "-"
        print(f"| {name} | {sec:.2f} | {share} | {sec * 1e3 / max(1, p['answered']):.2f} |")
    print("\nCPU during the profiled burst (/proc, s; cProfile sees the main thread only): "
          + ", ".join(f"{k} {v:.2f}" for k, v in sorted(off["threads"].items())))
    print("\nthe 12 functions with the most self time (profiled burst):")
    for line in off["top"]:
        print(f"  {line}")


if __name__ == "__main__":
    main()

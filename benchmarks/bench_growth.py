"""Engine speed as the knowledge base grows: the shipped KB, then 20,000 and 100,000 phrases.

Growth is realistic (benchmarks/growth_kb.py): new intents at ~34 phrases per language, every
phrase distinct, made of real words of the area. Each point runs in its own process (clean RSS,
clean GC state): generate, build the Engine (timed, wall and CPU), gc.freeze() as the bot does
after a build, then time every message of a question stream — every question of the four
labelled files plus generated ones (recombined real examples, held-out phrases of synthetic
intents) — wall (perf_counter) and CPU (thread_time), after one warm-up pass. The same stream
is also timed without gc.freeze(), and GC pauses are recorded (gc.callbacks) in both runs.
Then start-up: CPU of a whole `policybot ask "你好"` process (bytecode cached, as installed)
against `python -c pass`, and the RSS of a process that loads the cached engine and answers.

Prints numbers; asserts nothing. Run: python benchmarks/bench_growth.py [--points 0 20000 100000]
(0 is the shipped KB).
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, eval_questions, machine, pick, rss_mb

GENERATED = 800  # generated questions in the stream (half real-intent, half synthetic-intent)


class GCWatch:
    """Pauses of the cyclic GC, by generation, while installed."""

    def __init__(self) -> None:
        self.pauses: list[tuple[int, float]] = []
        self._t = 0.0

    def __call__(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._t = time.perf_counter()
        else:
            self.pauses.append((info["generation"], time.perf_counter() - self._t))

    def __enter__(self) -> GCWatch:
        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self)


def run_stream(engine, questions: list[str]) -> tuple[list[float], list[float], GCWatch]:
    wall, cpu = [], []
    with GCWatch() as watch:
        for q in questions:
            c, t = time.thread_time(), time.perf_counter()
            engine.reply(q)
            wall.append(time.perf_counter() - t)
            cpu.append(time.thread_time() - c)
    return wall, cpu, watch


def generate(target: int, path: Path) -> float:
    """Grow the shipped KB to `target` phrases and save it with the generated questions;
    seconds taken. (Done here, not in the timed process, which so never loads jieba.)"""
    import growth_kb

    from bot.knowledge import load_knowledge_base

    kb = load_knowledge_base(ROOT)
    t = time.perf_counter()
    rc = growth_kb.Recombiner(kb)
    grown, synthetic = growth_kb.grow(kb, target, recombiner=rc) if target else (kb, [])
    rc.rng.shuffle(synthetic)
    generated = [q for q, _ in rc.real_questions(GENERATED - min(len(synthetic), GENERATED // 2))]
    generated += [q for q, _ in synthetic[: GENERATED - len(generated)]]
    took = time.perf_counter() - t
    growth_kb.save(kb, grown, {"questions": generated}, path)
    return took


def point(path: Path) -> dict:
    """One point, in this process: numbers as a dict."""
    import growth_kb

    from bot.engine import Engine
    from bot.knowledge import load_knowledge_base

    kb, extra = growth_kb.load(load_knowledge_base(ROOT), path)
    generated = extra["questions"]
    labelled = [x.q for x in eval_questions()]
    rss_before, _ = rss_mb()

    gc.collect()
    c, t = time.process_time(), time.perf_counter()
    engine = Engine(kb)
    build_wall, build_cpu = time.perf_counter() - t, time.process_time() - c
    rss_after, peak = rss_mb()

    questions = labelled + generated
    run_stream(engine, questions)  # warm-up: caches as a running bot has them

    # without freeze: the KB's objects stay in the generations the GC walks
    wall_nf, cpu_nf, gc_nf = run_stream(engine, questions)
    gc.collect()  # the garbage first: the next one times only the walk over what is alive
    t = time.perf_counter()
    gc.collect()
    full_nf = time.perf_counter() - t
    gc.freeze()  # as the bot does after every build
    wall, cpu, gc_f = run_stream(engine, questions)
    gc.collect()
    t = time.perf_counter()
    gc.collect()
    full_f = time.perf_counter() - t
    frozen = gc.get_freeze_count()
    gc.unfreeze()

    def gcsum(w: GCWatch) -> dict:
        return {"collections": len(w.pauses),
                "gen2": sum(1 for g, _ in w.pauses if g == 2),
                "max_pause_ms": max((p for _, p in w.pauses), default=0.0) * 1e3,
                "total_ms": sum(p for _, p in w.pauses) * 1e3}

    ms = lambda xs, p: pick(xs, p) * 1e3  # noqa: E731
    return {
        "phrases": growth_kb.phrases(kb), "intents": len(kb.intents),
        "questions": len(questions),
        "build_wall_s": build_wall, "build_cpu_s": build_cpu,
        "rss_kb_mb": rss_before, "rss_engine_mb": rss_after, "peak_mb": peak,
        "wall": {"p50": ms(wall, .5), "p99": ms(wall, .99), "max": ms(wall, 1.0),
                 "mean": statistics.fmean(wall) * 1e3},
        "cpu": {"p50": ms(cpu, .5), "p99": ms(cpu, .99), "max": ms(cpu, 1.0)},
        "nofreeze": {"wall_p50": ms(wall_nf, .5), "wall_p99": ms(wall_nf, .99),
                     "wall_max": ms(wall_nf, 1.0), "cpu_max": ms(cpu_nf, 1.0)},
        "gc_nofreeze": gcsum(gc_nf), "gc_freeze": gcsum(gc_f),
        "full_collect_nofreeze_ms": full_nf * 1e3, "full_collect_freeze_ms": full_f * 1e3,
        "frozen_objects": frozen,
    }


def slope(xs: list[float], ys: list[float]) -> float:
    """Least-squares slope of log y against log x: the growth exponent."""
    lx, ly = [math.log(x) for x in xs], [math.log(max(y, 1e-9)) for y in ys]
    mx, my = statistics.fmean(lx), statistics.fmean(ly)
    den = sum((x - mx) ** 2 for x in lx)
    return sum((x - mx) * (y - my) for x, y in zip(lx, ly, strict=True)) / den if den else 0.0


def installed_env() -> dict[str, str]:
    """The environment a start is measured in: as an installed bot runs, with its modules'
    bytecode cached (a machine that sets PYTHONDONTWRITEBYTECODE would otherwise have every
    start compile the bot's sources again, a cost no deployment pays)."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def child_cpu(cmd: list[str], runs: int = 7) -> list[float]:
    """CPU seconds (user + sys) of each whole process, after one warm-up run."""
    out = []
    for i in range(runs + 1):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(cmd, cwd=ROOT, env=installed_env(), stdout=subprocess.DEVNULL,
                       check=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if i:
            out.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return out


def loaded() -> dict:
    """In this process: the cached engine loaded as `policybot ask` loads it, one answer,
    then the RSS (what a running bot holds) and its peak (the load included)."""
    from bot.cache import load_engine
    from bot.config import default_cache_dir, default_kb_root

    load_engine(default_kb_root(), default_cache_dir()).reply("你好")
    current, peak = rss_mb()
    return {"rss_mb": current, "peak_mb": peak}


def startup() -> None:
    policybot = os.path.join(os.path.dirname(sys.executable), "policybot")
    ask = child_cpu([policybot, "ask", "你好"])
    bare = child_cpu([sys.executable, "-c", "pass"])
    memory = json.loads(subprocess.run([sys.executable, __file__, "--loaded"], cwd=ROOT,
                                       env=installed_env(), check=True, capture_output=True,
                                       text=True).stdout.strip().splitlines()[-1])
    m_ask, m_bare = statistics.median(ask), statistics.median(bare)
    print(f'\nstart-up, CPU of the whole process, median of 7 after a warm-up: `policybot ask '
          f'"你好"` {m_ask:.3f} s (min {min(ask):.3f}, max {max(ask):.3f}); `python -c pass` '
          f"{m_bare * 1e3:.1f} ms; ratio {m_ask / m_bare:.0f}x. A process loading the cached "
          f"engine and answering: RSS {memory['rss_mb']:.0f} MB, peak {memory['peak_mb']:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--points", type=int, nargs="+", default=[0, 20_000, 100_000])
    parser.add_argument("--point", type=Path, help=argparse.SUPPRESS)  # worker mode
    parser.add_argument("--loaded", action="store_true", help=argparse.SUPPRESS)  # worker
    parser.add_argument("--no-startup", action="store_true")
    args = parser.parse_args()
    if args.point is not None:
        print(json.dumps(point(args.point)))
        return
    if args.loaded:
        print(json.dumps(loaded()))
        return

    print(f"machine: {machine()}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for target in args.points:
            path = Path(tmp) / f"grown{target}.json"
            took = generate(target, path)
            out = subprocess.run([sys.executable, __file__, "--point", str(path)], cwd=ROOT,
                                 check=True, capture_output=True, text=True).stdout
            rows.append({**json.loads(out.strip().splitlines()[-1]), "generate_s": took})
    n = rows[0]["questions"]
    print(f"\nper message, {n} questions (labelled {n - GENERATED} + generated {GENERATED}), "
          "after a warm-up pass, gc.freeze() after build; ms")
    print("| phrases | intents | generated in s | build wall s | build CPU s "
          "| RSS after build MB (KB alone) | wall p50 | wall p99 | wall max "
          "| CPU p50 | CPU p99 | CPU max |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        w, c = r["wall"], r["cpu"]
        print(f"| {r['phrases']:,} | {r['intents']:,} | {r['generate_s']:.1f} | "
              f"{r['build_wall_s']:.2f} | "
              f"{r['build_cpu_s']:.2f} | {r['rss_engine_mb']:.0f} ({r['rss_kb_mb']:.0f}) | "
              f"{w['p50']:.3f} | {w['p99']:.3f} | {w['max']:.3f} | {c['p50']:.3f} | "
              f"{c['p99']:.3f} | {c['max']:.3f} |")
    print("\nGC: the same stream without gc.freeze(), and one full gc.collect() after it")
    print("| phrases | wall max, no freeze | wall max, freeze | GC runs (gen2) no freeze "
          "| GC runs (gen2) freeze | longest GC pause no freeze / freeze ms "
          "| full gc.collect() no freeze / freeze ms | objects frozen |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        a, b = r["gc_nofreeze"], r["gc_freeze"]
        print(f"| {r['phrases']:,} | {r['nofreeze']['wall_max']:.3f} | {r['wall']['max']:.3f} | "
              f"{a['collections']} ({a['gen2']}) | {b['collections']} ({b['gen2']}) | "
              f"{a['max_pause_ms']:.2f} / {b['max_pause_ms']:.2f} | "
              f"{r['full_collect_nofreeze_ms']:.1f} / {r['full_collect_freeze_ms']:.1f} | "
              f"{r['frozen_objects']:,} |")
    if len(rows) >= 2:
        xs = [r["phrases"] for r in rows]
        fit = {name: slope(xs, [get(r) for r in rows]) for name, get in (
            ("wall p50", lambda r: r["wall"]["p50"]), ("wall p99", lambda r: r["wall"]["p99"]),
            ("CPU p50", lambda r: r["cpu"]["p50"]), ("CPU p99", lambda r: r["cpu"]["p99"]),
            ("build", lambda r: r["build_wall_s"]),
            ("RSS", lambda r: r["rss_engine_mb"]))}
        print("\ngrowth exponent k (time ∝ phrases^k, log-log least squares over "
              f"{len(rows)} points): " + ", ".join(f"{k} {v:.2f}" for k, v in fit.items()))
    if not args.no_startup:
        startup()


if __name__ == "__main__":
    main()

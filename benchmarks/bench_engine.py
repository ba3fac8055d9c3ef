"""Engine speed: start-up, and time per message with the shipped and a 20,000-example KB.

Prints numbers; asserts nothing (timings belong in benchmarks, not in tests).
Run: python benchmarks/bench_engine.py
"""

from __future__ import annotations

import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.engine import Engine  # noqa: E402
from bot.evaluation import load_labelled  # noqa: E402
from bot.knowledge import load_knowledge_base  # noqa: E402
from bot.knowledge.schema import Examples  # noqa: E402


def percentiles(samples: list[float]) -> str:
    s = sorted(samples)
    pick = lambda p: s[min(len(s) - 1, int(p * len(s)))] * 1000  # noqa: E731
    return (f"p50 {pick(0.50):.3f} ms  p90 {pick(0.90):.3f} ms  p99 {pick(0.99):.3f} ms  "
            f"max {s[-1] * 1000:.3f} ms  (n={len(s)})")


def time_questions(engine: Engine, questions: list[str], rounds: int = 3) -> list[float]:
    for q in questions:  # warm caches the way a running bot has them
        engine.reply(q)
    samples = []
    for _ in range(rounds):
        for q in questions:
            t = time.perf_counter()
            engine.reply(q)
            samples.append(time.perf_counter() - t)
    return samples


def grown(kb, target: int) -> object:
    """The shipped KB with examples multiplied (shuffled characters/words) up to `target`."""
    rng = random.Random(7)
    intents = {}
    total = sum(len(i.examples.zh) + len(i.examples.en) for i in kb.intents.values())
    factor = max(1, target // total)
    for iid, intent in kb.intents.items():
        zh, en = list(intent.examples.zh), list(intent.examples.en)
        for _ in range(factor - 1):
            zh += ["".join(rng.sample(x, len(x))) for x in intent.examples.zh]
            en += [" ".join(rng.sample(x.split(), len(x.split()))) + f" v{rng.randint(0, 999)}"
                   for x in intent.examples.en]
        intents[iid] = intent.model_copy(update={"examples": Examples(zh=zh, en=en)})
    big = kb.__class__(**{**kb.__dict__, "intents": intents})
    return big, sum(len(i.examples.zh) + len(i.examples.en) for i in intents.values())


def main() -> None:
    cmd = [sys.executable, "-c",
           "import time;t=time.perf_counter();from bot.engine import Engine;"
           "from bot.knowledge import load_knowledge_base;from pathlib import Path;"
           f"Engine(load_knowledge_base(Path({str(ROOT)!r})));"
           "print(time.perf_counter()-t)"]
    starts = [float(subprocess.check_output(cmd, cwd=ROOT)) for _ in range(5)]
    print(f"start-up (imports + load + checks + index), 5 runs: "
          f"median {statistics.median(starts):.3f} s, max {max(starts):.3f} s")

    kb = load_knowledge_base(ROOT)
    questions = [x.q for f in ("dev", "test")
                 for x in load_labelled(ROOT / "tests/data/eval" / f"{f}.yaml")]
    questions += ["人才公寓" * 2500, "🙂" * 500, "x" * 10_000]
    engine = Engine(kb)
    n = sum(len(i.examples.zh) + len(i.examples.en) for i in kb.intents.values())
    print(f"shipped KB ({len(kb.intents)} intents, {n} examples): "
          f"{percentiles(time_questions(engine, questions))}")

    big, n_big = grown(kb, 20_000)
    t = time.perf_counter()
    big_engine = Engine(big)
    build = time.perf_counter() - t
    print(f"grown KB ({n_big} examples, index built in {build:.2f} s): "
          f"{percentiles(time_questions(big_engine, questions, rounds=1))}")


if __name__ == "__main__":
    main()

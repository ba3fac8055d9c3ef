"""Shared by the benchmark scripts: paths, the machine they ran on, percentiles, questions."""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EVAL = ROOT / "tests" / "data" / "eval"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def machine() -> str:
    """CPU model, cores and Python: the line every printed table carries."""
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"{model}, {cores} cores, Python {platform.python_version()} "
            f"({platform.python_implementation()}), {platform.system()} {platform.release()}; "
            f"load average {load:.1f} at start (other work on the machine shows in wall times, "
            "less in CPU times)")


def pick(samples: list[float], p: float) -> float:
    """The p-quantile by nearest rank (p=1.0: the maximum)."""
    s = sorted(samples)
    return s[min(len(s) - 1, max(0, round(p * len(s)) - 1))] if s else float("nan")


def rss_mb() -> tuple[float, float]:
    """(current VmRSS, peak VmHWM) in MB, of this process's own memory: ru_maxrss would carry
    over the high-water mark of the process it was forked from (a benchmark holding a grown
    knowledge base), which exec does not reset."""
    found = {"VmRSS:": float("nan"), "VmHWM:": float("nan")}
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            key = line.split(maxsplit=1)[0] if line else ""
            if key in found:
                found[key] = int(line.split()[1]) / 1024
    except OSError:
        pass
    return found["VmRSS:"], found["VmHWM:"]


def eval_questions(files: tuple[str, ...] = ("dev", "test", "asks_dev", "asks_test")) -> list:
    from bot.evaluation import load_labelled

    return [x for f in files for x in load_labelled(EVAL / f"{f}.yaml")]

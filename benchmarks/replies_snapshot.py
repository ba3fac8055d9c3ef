"""Every reply to every question of tests/data/eval, as JSON: a speed change must not change one.

Run before a change with `--write FILE`, after it with `--compare FILE`; exit 1 on any
difference. Conversations are replayed turn by turn, so context handling is covered too.
Run: python benchmarks/replies_snapshot.py --write /tmp/before.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot import evaluation  # noqa: E402
from bot.engine import Engine, Reply  # noqa: E402
from bot.knowledge import load_knowledge_base  # noqa: E402

EVAL = ROOT / "tests" / "data" / "eval"


def _row(reply: Reply) -> list:
    return [reply.kind, reply.intent, reply.score, reply.text, reply.request,
            [o.intent for o in reply.options], [link.url for link in reply.links]]


def snapshot(engine: Engine) -> dict[str, list]:
    """file name → one row per question (or conversation turn), in file order."""
    out: dict[str, list] = {}
    for path in sorted(EVAL.glob("*.yaml")):
        outcomes = evaluation.run_set(engine, path)
        out[path.name] = [[o.item.q, *_row(o.reply)] for o in outcomes]
    return out


def differences(before: dict[str, list], after: dict[str, list]) -> list[str]:
    lines = []
    for name in sorted(before.keys() | after.keys()):
        old, new = before.get(name, []), after.get(name, [])
        if len(old) != len(new):
            lines.append(f"{name}: {len(old)} rows before, {len(new)} after")
        lines += [f"{name}: {a[0]!r}\n  before {a[1:4]}\n  after  {b[1:4]}"
                  for a, b in zip(old, new, strict=False) if a != b]
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--write", type=Path)
    group.add_argument("--compare", type=Path)
    args = parser.parse_args()
    current = snapshot(Engine(load_knowledge_base(ROOT)))
    rows = sum(len(v) for v in current.values())
    if args.write:
        args.write.write_text(json.dumps(current, ensure_ascii=False), encoding="utf-8")
        print(f"{rows} replies written to {args.write}")
        return 0
    diff = differences(json.loads(args.compare.read_text(encoding="utf-8")), current)
    print("\n".join(diff) if diff else f"all {rows} replies identical")
    return 1 if diff else 0


if __name__ == "__main__":
    sys.exit(main())

"""Labelled questions → the figures that decide whether a knowledge-base change ships."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import yaml

from .engine import Engine, Reply
from .knowledge.errors import Problem, SchemaError


@dataclass(frozen=True)
class Labelled:
    q: str
    expect: str | None  # an intent id or prefix; None for "should decline"


@dataclass(frozen=True)
class Outcome:
    item: Labelled
    reply: Reply

    @property
    def in_scope(self) -> bool:
        return self.item.expect is not None

    @property
    def correct(self) -> bool:
        e, got = self.item.expect, self.reply.intent
        return (self.reply.kind == "answer" and e is not None and got is not None
                and (got == e or got.startswith(e + ".")))

    @property
    def right(self) -> bool:
        """Answered with the right topic, or (off-topic) not answered."""
        return self.correct or (not self.in_scope and self.reply.kind != "answer")

    @property
    def wrong(self) -> bool:
        return self.reply.kind == "answer" and not self.correct

    @property
    def area(self) -> str:
        return self.item.expect.split(".", 1)[0] if self.item.expect else "none"


def load_labelled(path: Path) -> list[Labelled]:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise SchemaError([Problem(str(path), None, f"cannot read: {exc}", "")]) from None
    if not isinstance(data, list):
        raise SchemaError([Problem(str(path), None, "expected a list of {q, expect}", "")])
    items = []
    for row in data:
        if not isinstance(row, dict) or "q" not in row or "expect" not in row:
            raise SchemaError([Problem(str(path), None, f"bad entry {row!r}", "use {q, expect}")])
        expect = row["expect"]
        items.append(Labelled(str(row["q"]), None if expect in (None, "none") else str(expect)))
    return items


def run(engine: Engine, items: list[Labelled]) -> list[Outcome]:
    return [Outcome(item, engine.reply(item.q)) for item in items]


def _rates(outcomes: list[Outcome]) -> dict[str, float | int]:
    scope = [o for o in outcomes if o.in_scope]
    off = [o for o in outcomes if not o.in_scope]

    def pct(n: int, d: int) -> float:
        return round(100.0 * n / d, 1) if d else 0.0

    return {
        "questions": len(outcomes),
        "accuracy": pct(sum(o.correct for o in scope), len(scope)),
        "clarify": pct(sum(o.reply.kind == "clarify" for o in scope), len(scope)),
        "wrong": pct(sum(o.wrong for o in outcomes), len(outcomes)),
        "declined_off_topic": pct(sum(o.reply.kind != "answer" for o in off), len(off)),
    }


def report(outcomes: list[Outcome]) -> dict:
    """Overall, per language and per area figures, and the most confused pairs."""
    by_lang: dict[str, list[Outcome]] = defaultdict(list)
    by_area: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        by_lang[o.reply.lang].append(o)
        by_area[o.area].append(o)
    confused = Counter(
        (o.item.expect or "none", o.reply.intent) for o in outcomes if o.wrong
    )
    return {
        "overall": _rates(outcomes),
        "by_language": {k: _rates(v) for k, v in sorted(by_lang.items())},
        "by_area": {k: _rates(v) for k, v in sorted(by_area.items())},
        "confused": [{"expected": e, "answered": g, "count": n}
                     for (e, g), n in confused.most_common(15)],
        "failures": [
            {"q": o.item.q, "expect": o.item.expect or "none", "kind": o.reply.kind,
             "intent": o.reply.intent, "score": o.reply.score}
            for o in outcomes if not o.right
        ],
    }


def _label(reply: Reply) -> str:
    return f"{reply.kind}:{reply.intent}" if reply.intent else reply.kind


def diff(old: Engine, new: Engine, items: list[Labelled]) -> list[dict]:
    """Questions whose reply changes between two knowledge bases, judged against the label."""
    changes = []
    for item in items:
        before, after = Outcome(item, old.reply(item.q)), Outcome(item, new.reply(item.q))
        if _label(before.reply) == _label(after.reply):
            continue
        was, now = before.right, after.right
        verdict = "better" if now and not was else "worse" if was and not now else "changed"
        changes.append({"q": item.q, "expect": item.expect or "none", "verdict": verdict,
                        "before": _label(before.reply), "after": _label(after.reply)})
    return changes


def sweep(engine: Engine, items: list[Labelled], answers: list[float], margins: list[float],
          clarify_gap: float = 15.0) -> list[dict]:
    """Figures across thresholds: each question is read (and ranked) once."""
    readings = [(item, engine.read(item.q)) for item in items]
    rows = []
    for threshold in answers:
        for margin in margins:
            settings = engine.kb.matching.model_copy(update={
                "answer_threshold": threshold, "margin": margin,
                "clarify_threshold": max(0.0, threshold - clarify_gap)})
            outcomes = [Outcome(item, engine.respond(reading, settings=settings))
                        for item, reading in readings]
            rows.append({"answer_threshold": threshold, "margin": margin, **_rates(outcomes)})
    return rows



"""Labelled questions → the figures that decide whether a knowledge-base change ships.

A labelled question says what the bot ought to do: answer with a topic, decline (naming the
topic the request is about, when there is one), or give an emergency number first. Labels are
written independently of the examples; see tests/data/eval/README.md for the format.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeGuard, get_args

import yaml

from .engine import Conversation, Engine, Reply
from .errors import LabelledDataError

Want = Literal["answer", "decline", "emergency"]
WANTS: tuple[Want, ...] = get_args(Want)


@dataclass(frozen=True)
class Labelled:
    q: str
    expect: str | None  # an intent id or prefix; None when no topic is right
    want: Want = "answer"
    numbers: tuple[str, ...] = ()  # emergency: any of these, in the reply's first line
    cat: str = ""


def _matches(expect: str | None, got: str | None) -> bool:
    return expect is not None and got is not None and (got == expect
                                                       or got.startswith(expect + "."))


@dataclass(frozen=True)
class Outcome:
    item: Labelled
    reply: Reply

    @property
    def correct(self) -> bool:
        """What was wanted: the right topic answered, a decline, or the emergency number."""
        want, reply = self.item.want, self.reply
        if want == "answer":
            return reply.kind == "answer" and _matches(self.item.expect, reply.intent)
        if want == "decline":
            return reply.kind != "answer"
        first_line = reply.text.splitlines()[0] if reply.text else ""
        return reply.kind != "answer" and any(n in first_line for n in self.item.numbers)

    @property
    def wrong(self) -> bool:
        """A policy answer that is not the one wanted: the worst thing the bot can do."""
        return self.reply.kind == "answer" and not self.correct

    @property
    def topic_aware(self) -> bool:
        """A decline that names the topic asked about."""
        return self.item.want == "decline" and self.reply.kind != "answer" and _matches(
            self.item.expect, self.reply.intent)

    @property
    def area(self) -> str:
        return self.item.expect.split(".", 1)[0] if self.item.expect else "none"


def _problem(path: Path, message: str, fix: str = "") -> LabelledDataError:
    return LabelledDataError(f"{path}: {message}" + (f" ({fix})" if fix else ""))


def parse_item(row: object, path: Path) -> Labelled:
    """One labelled row: {q, expect, reply?, number?, cat?}."""
    if not isinstance(row, dict) or "q" not in row or "expect" not in row:
        raise _problem(path, f"bad entry {row!r}", "use {q, expect[, reply, number, cat]}")
    expect = None if row["expect"] in (None, "none") else str(row["expect"])
    want = row.get("reply") or ("answer" if expect else "decline")
    if not _is_want(want):
        raise _problem(path, f"bad reply {want!r} in {row!r}", f"use one of {WANTS}")
    raw = row.get("number")
    numbers = tuple(str(n) for n in (raw if isinstance(raw, list) else [raw] if raw else []))
    if (want == "emergency") != bool(numbers):
        raise _problem(path, f"{row!r}: an emergency needs `number`, and only an emergency")
    return Labelled(str(row["q"]), expect, want, numbers, str(row.get("cat") or ""))


def _is_want(value: object) -> TypeGuard[Want]:
    return value in WANTS


# libyaml's parser when PyYAML has it: the labelled sets are thousands of items, and the pure
# Python parser takes seconds to read them all (every `eval`, every floor test).
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read_yaml(path: Path) -> object:
    path = Path(path)
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
    except FileNotFoundError:
        raise _problem(path, "no such file", "check the path") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise _problem(path, f"cannot read: {exc}") from None


Dialogue = list[Labelled]  # one conversation: its turns in order, `cat` the kind of turn
TURN_SECONDS = 40.0  # how far apart the turns of a labelled conversation are taken to be


def is_conversations(data: object) -> TypeGuard[list[dict[str, Any]]]:
    return isinstance(data, list) and bool(data) and all(
        isinstance(row, dict) and "turns" in row for row in data)


def load_set(path: Path) -> tuple[list[Labelled], list[Dialogue]]:
    """A labelled file, read once: its questions, or its conversations (the other is empty)."""
    data = _read_yaml(path)
    if is_conversations(data):
        return [], _dialogues(data, Path(path))
    return _questions(data, Path(path)), []


def run_set(engine: Engine, path: Path) -> list[Outcome]:
    """Every reply to a labelled file: questions one by one, conversations turn by turn."""
    items, dialogues = load_set(path)
    return run_conversations(engine, dialogues) if dialogues else run(engine, items)


def load_labelled(path: Path) -> list[Labelled]:
    return _questions(_read_yaml(path), Path(path))


def load_conversations(path: Path) -> list[Dialogue]:
    """[{id, turns: [{q, expect, reply?, number?, turn}]}]: `turn` becomes the category."""
    return _dialogues(_read_yaml(path), Path(path))


def _questions(data: object, path: Path) -> list[Labelled]:
    if not isinstance(data, list) or is_conversations(data):
        raise _problem(path, "expected a list of {q, expect}")
    return [parse_item(row, path) for row in data]


def _dialogues(data: object, path: Path) -> list[Dialogue]:
    if not is_conversations(data):
        raise _problem(path, "expected a list of {id, turns: [...]}")
    dialogues = []
    for row in data:
        turns = row["turns"]
        if not isinstance(turns, list) or not turns:
            raise _problem(path, f"conversation {row.get('id')!r} has no turns")
        dialogues.append([parse_item({**t, "cat": t.get("turn")} if isinstance(t, dict) else t,
                                     path) for t in turns])
    return dialogues


def run(engine: Engine, items: list[Labelled]) -> list[Outcome]:
    return [Outcome(item, engine.reply(item.q)) for item in items]


def run_conversations(engine: Engine, dialogues: list[Dialogue]) -> list[Outcome]:
    """Every turn of every conversation, each conversation starting afresh."""
    outcomes = []
    for turns in dialogues:
        state, now = Conversation(), 0.0
        for item in turns:
            reply, state = engine.converse(item.q, state, now)
            outcomes.append(Outcome(item, reply))
            now += TURN_SECONDS
    return outcomes


def _pct(n: int, d: int) -> float:
    return round(100.0 * n / d, 1) if d else 0.0


def rates(outcomes: list[Outcome]) -> dict[str, float | int]:
    answerable = [o for o in outcomes if o.item.want == "answer"]
    declines = [o for o in outcomes if o.item.want == "decline"]
    about = [o for o in declines if o.item.expect]
    emergencies = [o for o in outcomes if o.item.want == "emergency"]
    return {
        "questions": len(outcomes),
        "right": _pct(sum(o.correct for o in outcomes), len(outcomes)),
        "accuracy": _pct(sum(o.correct for o in answerable), len(answerable)),
        "clarify": _pct(sum(o.reply.kind == "clarify" for o in answerable), len(answerable)),
        "wrong": _pct(sum(o.wrong for o in outcomes), len(outcomes)),
        "declined": _pct(sum(o.correct for o in declines), len(declines)),
        "topic_aware": _pct(sum(o.topic_aware for o in about), len(about)),
        "emergency": _pct(sum(o.correct for o in emergencies), len(emergencies)),
        "n_answer": len(answerable), "n_decline": len(declines), "n_emergency": len(emergencies),
    }


def _grouped(outcomes: list[Outcome], key) -> dict[str, dict]:
    groups: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        groups[key(o)].append(o)
    return {k: rates(v) for k, v in sorted(groups.items())}


def report(outcomes: list[Outcome], conversations: bool = False) -> dict:
    """Overall figures, per language, area and category, and the most confused pairs."""
    confused = Counter(
        (o.item.expect or "none", o.reply.intent) for o in outcomes if o.wrong
    )
    later = [o for o in outcomes if o.item.cat != "first"]
    return {
        "overall": rates(outcomes),
        # conversations: every turn after the first, read with what came before it
        "follow_ups": rates(later) if conversations else None,
        "by_language": _grouped(outcomes, lambda o: o.reply.lang),
        "by_area": _grouped(outcomes, lambda o: o.area),
        "by_category": _grouped(outcomes, lambda o: o.item.cat or "-"),
        "confused": [{"expected": e, "answered": g, "count": n}
                     for (e, g), n in confused.most_common(15)],
        "failures": [
            {"q": o.item.q, "expect": o.item.expect or "none", "want": o.item.want,
             "cat": o.item.cat, "kind": o.reply.kind, "intent": o.reply.intent,
             "request": o.reply.request, "score": o.reply.score}
            for o in outcomes if not o.correct
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
        was, now = before.correct, after.correct
        verdict = "better" if now and not was else "worse" if was and not now else "changed"
        changes.append({"q": item.q, "expect": item.expect or "none", "verdict": verdict,
                        "before": _label(before.reply), "after": _label(after.reply)})
    return changes


def sweep(engine: Engine, items: list[Labelled], answers: list[float], margins: list[float],
          clarify_gap: float = 15.0) -> list[dict]:
    """Figures across thresholds: each question is read (and ranked) once."""
    readings = [(item, engine.read(item.q, floor=0.0)) for item in items]  # any threshold
    rows = []
    for threshold in answers:
        for margin in margins:
            settings = engine.kb.matching.model_copy(update={
                "answer_threshold": threshold, "margin": margin,
                "clarify_threshold": max(0.0, threshold - clarify_gap)})
            outcomes = [Outcome(item, engine.respond(reading, settings=settings))
                        for item, reading in readings]
            rows.append({"answer_threshold": threshold, "margin": margin, **rates(outcomes)})
    return rows


# The learnt guesses' settings of matching.yaml, and the values `eval --sweep` tries
LEARNT_SETTINGS = {
    "guess_threshold": [0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99],
    "guess_over_answer_threshold": [0.8, 0.9, 0.95, 0.99, 1.0],
    "topic_guess_threshold": [0.9, 0.95, 0.99, 0.999, 1.0],
    "topic_guess_unless": [0.0, 0.2, 0.5, 0.8, 1.0],
}


def sweep_setting(engine: Engine, items: list[Labelled], name: str, values: list[float],
                  ) -> list[dict]:
    """Figures across the values of one setting (the others as they are): each question is
    read once."""
    readings = [(item, engine.read(item.q)) for item in items]
    rows = []
    for value in values:
        settings = engine.kb.matching.model_copy(update={name: value})
        outcomes = [Outcome(item, engine.respond(reading, settings=settings))
                    for item, reading in readings]
        rows.append({name: value, **rates(outcomes)})
    return rows

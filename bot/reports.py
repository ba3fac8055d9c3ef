"""What admins see: statistics, grouped unanswered questions, stale answers, CSV exports.

Plain text and bytes, no Telegram: the same reports serve /stats in Telegram and
`policybot stats` on the server.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

from .engine import Engine
from .knowledge.base import KnowledgeBase
from .knowledge.schema import Lang
from .matching.normalize import normalize
from .storage import FeedbackRow, Stats, UnansweredRow

SIMILAR = 75  # rapidfuzz score above which two unanswered questions are one group
MAX_GROUPS = 30


def _pct(part: int, whole: int) -> str:
    return f"{100.0 * part / whole:.0f}" if whole else "0"


def stats_text(engine: Engine, periods: Sequence[Stats], lang: Lang) -> str:
    lines = []
    for s in periods:
        lines.append(engine.message(
            "admin_stats", lang, days=str(s.days), messages=str(s.messages), users=str(s.users),
            answered=_pct(s.answered, s.messages), clarified=_pct(s.clarified, s.messages),
            fallback=_pct(s.fallback, s.messages)))
    widest = max(periods, key=lambda s: s.days) if periods else None
    if widest and widest.top_intents:
        lines.append("")
        lines.append(engine.message("admin_top_intents", lang))
        lines += [f"  {n:4} × {engine.kb.title(i, lang)} ({i})" for i, n in widest.top_intents]
    if widest and widest.feedback:
        lines.append("")
        lines.append(engine.message("admin_feedback", lang))
        ranked = sorted(widest.feedback.items(), key=lambda kv: (-kv[1][1], -kv[1][0]))
        lines += [f"  👍 {up:3}  👎 {down:3}  {i}" for i, (up, down) in ranked]
    return "\n".join(lines)


@dataclass(frozen=True)
class Group:
    count: int
    text: str  # the most recent wording
    variants: tuple[str, ...]


def _similarity(a: str, b: str) -> float:
    """Word-set overlap when both have several content words, else character similarity."""
    sets = min(len(a.split()), len(b.split())) >= 2
    return max(fuzz.ratio(a, b), fuzz.token_set_ratio(a, b) if sets else 0)


def group_questions(rows: Sequence[UnansweredRow],
                    key: Callable[[str], str] = normalize) -> list[Group]:
    """Similar questions together, most frequent first, so missing topics stand out.

    `key` reduces a question to what it is about (the engine passes its content words).
    """
    groups: list[tuple[str, list[str]]] = []  # (representative key, texts)
    for row in rows:
        key_text = key(row.text)
        for rep, texts in groups:
            if _similarity(key_text, rep) >= SIMILAR:
                texts.append(row.text)
                break
        else:
            groups.append((key_text, [row.text]))
    result = [Group(len(texts), texts[0], tuple(dict.fromkeys(texts[1:4])))
              for _, texts in groups]
    result.sort(key=lambda g: -g.count)
    return result[:MAX_GROUPS]


def unanswered_text(engine: Engine, rows: Sequence[UnansweredRow], days: int, lang: Lang) -> str:
    groups = group_questions(rows, engine.matcher.content_words)
    if not groups:
        return engine.message("admin_nothing", lang)
    lines = [engine.message("admin_unanswered", lang, days=str(days))]
    for g in groups:
        lines.append(f"{g.count:4} × {g.text}")
        lines += [f"       ~ {v}" for v in g.variants]
    return "\n".join(lines)


def stale_answers(kb: KnowledgeBase, days: int, today: dt.date | None = None) -> list[str]:
    today = today or dt.date.today()
    old = sorted((a.reviewed, a.id) for a in kb.answers.values()
                 if (today - a.reviewed).days > days)
    out = []
    for reviewed, aid in old:
        where = kb.locate("answer", aid)
        out.append(f"{reviewed.isoformat()}  {aid}  ({where.file}:{where.line})")
    return out


def stale_text(engine: Engine, days: int, lang: Lang, today: dt.date | None = None) -> str:
    rows = stale_answers(engine.kb, days, today)
    if not rows:
        return engine.message("admin_nothing", lang)
    return "\n".join([engine.message("admin_stale", lang, days=str(days)), *rows])


def unanswered_csv(rows: Sequence[UnansweredRow]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["time_utc", "lang", "question"])
    for r in rows:
        writer.writerow([r.at.isoformat(timespec="seconds"), r.lang, r.text])
    return buf.getvalue().encode("utf-8-sig")  # the BOM lets Excel read Chinese correctly


def feedback_csv(rows: Sequence[FeedbackRow]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["time_utc", "intent", "question", "vote"])
    for r in rows:
        writer.writerow([r.at.isoformat(timespec="seconds"), r.intent or "", r.question,
                         "up" if r.value > 0 else "down"])
    return buf.getvalue().encode("utf-8-sig")

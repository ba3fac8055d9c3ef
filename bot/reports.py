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
from .matching.normalize import normalize
from .storage import Day, FeedbackRow, Stats, UnansweredRow

SIMILAR = 75  # rapidfuzz score above which two unanswered questions are one group
MAX_GROUPS = 30


def _pct(part: int, whole: int) -> str:
    return f"{100.0 * part / whole:.0f}" if whole else "0"


def stats_text(engine: Engine, periods: Sequence[Stats], lang: str) -> str:
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
        lines += [f"  {n:4} × {engine.title(i, lang)} ({i})" for i, n in widest.top_intents]
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
    """Word-set overlap when both have several content words, else character similarity; the
    kind of request ("request:apply") may be said in one and only implied in the other."""
    best = 0.0
    for x, y in ((a, b), (_topic_words(a), _topic_words(b))):
        sets = min(len(x.split()), len(y.split())) >= 2
        best = max(best, fuzz.ratio(x, y), fuzz.token_set_ratio(x, y) if sets else 0)
    return best


def _topic_words(meaning: str) -> str:
    return " ".join(w for w in meaning.split() if not w.startswith("request:"))


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
    result = [Group(len(texts), texts[0],
                    tuple(t for t in dict.fromkeys(texts[1:]) if t != texts[0])[:3])
              for _, texts in groups]
    result.sort(key=lambda g: -g.count)
    return result[:MAX_GROUPS]


def unanswered_text(engine: Engine, rows: Sequence[UnansweredRow], days: int, lang: str) -> str:
    groups = group_questions(rows, engine.meaning)
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


def stale_text(engine: Engine, days: int, lang: str, today: dt.date | None = None) -> str:
    rows = stale_answers(engine.kb, days, today)
    if not rows:
        return engine.message("admin_stale_none", lang, count=str(len(engine.kb.answers)),
                              days=str(days))
    return "\n".join([engine.message("admin_stale", lang, days=str(days)), *rows])


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: str) -> str:
    """A cell a spreadsheet shows as text, never runs: users typed these questions, and
    "=HYPERLINK(…)" or "@SUM(…)" would otherwise become a formula when an admin opens the file."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def _csv(header: list[str], rows: list[list[str]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header)
    writer.writerows([[cell(v) for v in row] for row in rows])
    return buf.getvalue().encode("utf-8-sig")  # the BOM lets Excel read Chinese correctly


def unanswered_csv(rows: Sequence[UnansweredRow]) -> bytes:
    return _csv(["time_utc", "lang", "question"],
                [[r.at.isoformat(timespec="seconds"), r.lang, r.text] for r in rows])


def feedback_csv(rows: Sequence[FeedbackRow]) -> bytes:
    """Votes with the question they were about ("menu: 人才公寓" for an answer opened by a
    button, "link: …" by a deep link)."""
    return _csv(["time_utc", "intent", "question", "vote"],
                [[r.at.isoformat(timespec="seconds"), r.intent or "", r.question,
                  "up" if r.value > 0 else "down"] for r in rows])


def stats_chart(days: Sequence[Day], top: Sequence[tuple[str, int]], window: int) -> bytes:
    """A PNG: questions per day over the window, split into answered / clarified / fallback,
    and the most asked topics (by id, which any font can draw)."""
    from PIL import Image, ImageDraw  # only admins' /stats needs it

    width, height, pad = 720, 420, 40
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    colours = ("#2e7d32", "#f9a825", "#c62828")  # answered, clarified, fallback
    draw.text((pad, 10), f"questions per day, last {window} days (UTC)", fill="black")
    by_day = {d.day: d for d in days}
    today = dt.datetime.now(dt.UTC).date()
    span = [(today - dt.timedelta(days=i)).isoformat() for i in range(window - 1, -1, -1)]
    peak = max([d.total for d in days] or [1])
    chart_w, chart_h, top_y = width - 2 * pad, 200, 40
    bar = chart_w / max(len(span), 1)
    for i, day in enumerate(span):
        d = by_day.get(day)
        if d is None or not d.total:
            continue
        y: float = top_y + chart_h
        for count, colour in zip((d.answered, d.clarified, d.fallback), colours, strict=True):
            h = chart_h * count / peak
            x = pad + i * bar
            draw.rectangle([x + 1, y - h, x + max(bar - 2, 1), y], fill=colour)
            y -= h
    draw.line([pad, top_y + chart_h, width - pad, top_y + chart_h], fill="black")
    draw.text((pad, top_y + chart_h + 4), f"{span[0]}  …  {span[-1]}   peak {peak}/day",
              fill="black")
    for j, (name, colour) in enumerate(zip(("answered", "clarified", "fallback"), colours,
                                           strict=True)):
        draw.rectangle([width - 250 + j * 80, 12, width - 240 + j * 80, 22], fill=colour)
        draw.text((width - 236 + j * 80, 10), name, fill="black")
    y0 = top_y + chart_h + 30
    draw.text((pad, y0), "top topics", fill="black")
    most = max([n for _, n in top] or [1])
    for k, (intent, n) in enumerate(top[:6]):
        y = y0 + 18 + k * 18
        draw.rectangle([pad + 200, y, pad + 200 + (chart_w - 260) * n / most, y + 12],
                       fill="#1565c0")
        draw.text((pad, y), intent[:32], fill="black")
        draw.text((pad + 205 + (chart_w - 260) * n / most, y), str(n), fill="black")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()

"""The decision for one reading: emergency, another place, a decline, a fragment, the topic.

Thresholds come from content/matching.yaml (chosen with `policybot eval --sweep`), or from the
settings `eval --sweep` tries, so every branch is a pure function of its inputs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from ..knowledge.records import Lang
from ..matching.index import Candidate, Query
from ..understanding import Understanding
from ..understanding.guess import NONE
from .compose import Composer, is_meta
from .replies import Reply

if TYPE_CHECKING:
    from ..knowledge.schema import MatchingFile

MAX_OPTIONS = 3
NO_CANDIDATE = Candidate("", 0.0, "")


@dataclass(frozen=True)
class Reading:
    """What the engine made of a message, before deciding how to reply."""

    normalized: str  # what the ranking compares (synonyms applied)
    language: str | None  # "zh", "en", "other" (a language we do not speak) or None (no words)
    ranked: list[Candidate]  # the best two intents, and a few more worth offering
    understood: Understanding = field(default_factory=Understanding)
    traditional: bool = False  # written in traditional characters (繁體)
    query: Query | None = None  # what was ranked, to score another intent on demand
    plain: str = ""  # normalised, before synonyms: what the learnt guesses learnt from

    @property
    def top(self) -> Candidate:
        return self.ranked[0] if self.ranked else NO_CANDIDATE


def is_clear(ranked: list[Candidate], settings: MatchingFile) -> bool:
    """A best topic good enough to answer and ahead of the next by the margin: the ranking
    alone settles it (a story's question ranked alone is used only when it is this clear)."""
    if not ranked:
        return False
    runner_up = ranked[1].score if len(ranked) > 1 else 0.0
    return (ranked[0].score >= settings.answer_threshold
            and ranked[0].score - runner_up >= settings.margin)


def decide(reading: Reading, lang: Lang, settings: MatchingFile, compose: Composer,
           covers_place: Callable[[Reading, str], bool],
           learnt_topic: Callable[[Reading], tuple[str, float]]) -> Reply:
    """answer / clarify / decline / emergency for a message read on its own.

    `covers_place(reading, place)` says whether the best topic itself is about that place
    (北京中关村 in the national ranking), so naming the place is no reason to decline.
    `learnt_topic(reading)`: the learnt topic guess and its probability, asked for only
    where the ranking cannot choose (it costs as much as the ranking).
    """
    ranked, understood, top = reading.ranked, reading.understood, reading.top
    if understood.emergency:
        return compose.emergency(understood.emergency, lang)
    place = understood.place
    if place and not (top.intent and covers_place(reading, place)):
        return compose.fallback(lang, top.score, place=place)
    decline, learnt = understood.decline, understood.learnt
    kind, otherwise = None, None
    if decline is not None:
        kind, otherwise = decline.kind, compose.kb.understanding.requests[decline.kind].otherwise
    elif learnt is not None and learnt.kind != NONE and learnt.probability >= (
            settings.guess_over_answer_threshold if understood.requests
            else settings.guess_threshold) and (
            # a topic matched this well is asked about unless the guess is surer still
            top.score < settings.guess_strong_score
            or learnt.probability >= settings.guess_strong_threshold):
        kind = learnt.kind  # a learnt guess is not sure enough to answer `otherwise` instead
        requests = compose.kb.understanding.requests
        if top.score >= settings.clarify_threshold and (
                top.intent == requests[kind].otherwise
                or (top.score >= settings.answer_threshold
                    and any(r.otherwise == top.intent for r in requests.values()))):
            # ...but where the ranking finds that answer itself ("who do I speak to about
            # this", or well: "who should we contact about land" framed like advice), the
            # frame the guess reads is no reason to decline it
            return compose.answer(top.intent, top.score, lang, understood.aspects)
    if kind is not None:
        named = top.score >= settings.decline_topic_threshold and not is_meta(top.intent)
        if named and kind in compose.kb.answers[top.intent].covers:
            # the plan itself gives what is asked: "how many sq km is the zone" is a figure of
            # the area answer, not an amount the plan is silent on (the reply keeps the kind:
            # read with another topic in context, that topic's answer may give no figure)
            return replace(compose.answer(top.intent, top.score, lang, understood.aspects),
                           request=kind)
        if not named and otherwise:  # (the kind kept: a topic in context names one)
            return replace(compose.answer(otherwise, top.score, lang), request=kind)
        return compose.decline(kind, top.intent if named else None, top.score, lang,
                               read=decline is not None)
    if understood.fragment:
        return compose.ask_back(understood.requests[0].kind, top.score, lang)
    if top.score < settings.clarify_threshold:
        # too weak to offer as a list, yet where the learnt topic guess names the one close
        # topic from choose_threshold up, the ranking and the guess agree: answered
        low = [c for c in ranked[:MAX_OPTIONS] if c.score >= settings.choose_threshold
               and c.score >= top.score - settings.clarify_spread]
        chosen = _chosen(low, reading, settings, compose, learnt_topic) if low else None
        if chosen is not None:
            return compose.answer(chosen.intent, chosen.score, lang, understood.aspects)
        return compose.fallback(lang, top.score, unanswered=True)
    runner_up = ranked[1].score if len(ranked) > 1 else 0.0
    dominant = top.score >= settings.lead_threshold and top.score >= settings.lead_ratio * runner_up
    if is_clear(ranked, settings) or dominant:
        return compose.answer(top.intent, top.score, lang, understood.aspects)
    close = [c for c in ranked[:MAX_OPTIONS] if c.score >= settings.clarify_threshold
             and c.score >= top.score - settings.clarify_spread]
    if top.score >= settings.answer_threshold and all(
            compose.kb.answers[c.intent].small_talk for c in close):
        # no list of small talk: "好的谢谢 再见", "thx bye" leave; "好 了解" thanks
        first = min(close, key=lambda c: _order(settings.small_talk_order, c.intent))
        return compose.answer(first.intent, first.score, lang)
    chosen = _chosen(close, reading, settings, compose, learnt_topic)
    if chosen is not None:
        return compose.answer(chosen.intent, chosen.score, lang, understood.aspects)
    return compose.clarify([c.intent for c in close], top.score, lang)


def _order(order: list[str], intent: str) -> int:
    return order.index(intent) if intent in order else len(order)


def _chosen(close: list[Candidate], reading: Reading, settings: MatchingFile,
            compose: Composer, learnt_topic: Callable[[Reading], tuple[str, float]],
            ) -> Candidate | None:
    """The one close topic the learnt topic guess is sure of, if any: chosen on the dev sets,
    it answered 21 more questions rightly than a clarify did, and 2 wrongly (both would have
    been clarified between two wrong topics)."""
    learnt = reading.understood.learnt
    if learnt is not None and learnt.probability >= settings.topic_guess_unless:
        return None
    topic, probability = learnt_topic(reading)
    if probability < settings.topic_guess_threshold:
        return None
    named = [c for c in close if compose.kb.topic_id(c.intent) == topic]
    return named[0] if len(named) == 1 else None

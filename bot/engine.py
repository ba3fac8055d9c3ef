"""The dialogue engine: a question (and the user's language choice) → a Reply.

No I/O and no Telegram here: the same engine serves Telegram, the console chat and the CLI,
so what `policybot ask` prints is what a Telegram user reads.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Literal

from .knowledge.base import KnowledgeBase
from .knowledge.schema import Lang, MatchingFile
from .matching.index import Candidate, Matcher
from .matching.language import detect_language
from .matching.normalize import term_pattern

Kind = Literal["answer", "clarify", "fallback"]
MAX_OPTIONS = 3


@dataclass(frozen=True)
class LinkOut:
    title: str
    url: str


@dataclass(frozen=True)
class Option:
    intent: str
    title: str


@dataclass(frozen=True)
class Reply:
    """What the user gets: `text` is exactly what they read; links and options are buttons."""

    kind: Kind
    lang: Lang
    text: str
    intent: str | None = None
    score: float = 0.0
    title: str | None = None
    links: list[LinkOut] = field(default_factory=list)
    options: list[Option] = field(default_factory=list)
    unanswered: bool = False  # a real question we had no answer for: worth showing the team

    def to_json(self, question: str) -> dict:
        data = asdict(self)
        return {
            "question": question,
            "lang": self.lang,
            "kind": self.kind,
            "intent": self.intent,
            "score": self.score,
            "text": self.text,
            "links": data["links"],
            "options": data["options"],
        }


@dataclass(frozen=True)
class Reading:
    """What the engine made of a message, before deciding how to reply."""

    normalized: str
    language: str | None  # "zh", "en", "other" (a language we do not speak) or None (no words)
    ranked: list[Candidate]


class Engine:
    """Built once per knowledge base (a reload builds a new one and swaps it in)."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.matcher = Matcher(kb)
        places = {self.matcher.normalize(p) for p in kb.matching.other_places}
        self._place_res = [(p, re.compile(term_pattern(p)))
                           for p in sorted(places, key=len, reverse=True)]
        self._mentions: dict[tuple[str, str], bool] = {}

    # -- entry points ----------------------------------------------------------------

    def read(self, text: str) -> Reading:
        """Normalise (long input cut first, so time per message stays bounded), detect the
        language and rank the intents; the ranking is skipped when there is nothing to rank."""
        normalized = self.matcher.normalize((text or "")[: self.kb.matching.max_input_chars])
        language = detect_language(normalized)
        ranked = (self.matcher.rank(self.matcher.prepare(normalized))
                  if language in ("zh", "en") else [])
        return Reading(normalized, language, ranked)

    def reply(self, text: str, lang: Lang | None = None) -> Reply:
        """Answer a free-text question; `lang` is the user's explicit choice, if any."""
        return self.respond(self.read(text), lang)

    def respond(self, reading: Reading, lang: Lang | None = None,
                settings: MatchingFile | None = None) -> Reply:
        """The reply to a reading, by the YAML thresholds (or by `settings`, which is how
        `eval --sweep` tries others without reading every question again)."""
        if reading.language is None:
            return self._message("empty", lang or "zh")
        if reading.language == "other":
            return self._message("unsupported_language", lang or "en")
        return self.decide(reading.ranked, reading.normalized, lang or reading.language, settings)

    def suggest(self, text: str, lang: Lang | None = None, limit: int = 5) -> list[Reply]:
        """Answers of the few best topics (inline mode), never below the clarify threshold."""
        reading = self.read(text)
        ranked = reading.ranked
        if not ranked or self._other_place(reading.normalized, ranked[0].intent):
            return []
        reply_lang: Lang = lang or reading.language
        return [self._answer(c, reply_lang) for c in ranked[:limit]
                if c.score >= self.kb.matching.clarify_threshold]

    def answer(self, intent_id: str, lang: Lang) -> Reply | None:
        """The answer of a known intent (menus, deep links, clarify buttons)."""
        if intent_id not in self.kb.answers:
            return None
        return self._answer(Candidate(intent_id, 100.0, ""), lang)

    def message(self, key: str, lang: Lang, **fields: str) -> str:
        """An interface string from content/messages.yaml, placeholders filled."""
        template = getattr(self.kb.messages, key).get(lang)
        if "{" not in template:
            return template
        return template.format(hotline=self.hotline(lang), **fields)

    def hotline(self, lang: Lang) -> str:
        return getattr(self.kb.hotline, lang)

    # -- decision --------------------------------------------------------------------

    def decide(self, ranked: list[Candidate], normalized: str, lang: Lang,
               settings: MatchingFile | None = None) -> Reply:
        """answer / clarify / fallback from ranked candidates."""
        settings = settings or self.kb.matching
        top = ranked[0] if ranked else Candidate("", 0.0, "")
        place = self._other_place(normalized, top.intent)
        if place:
            return self._fallback(lang, top.score, place=place)
        if top.score < settings.clarify_threshold:
            return self._fallback(lang, top.score, unanswered=True)
        runner_up = ranked[1].score if len(ranked) > 1 else 0.0
        if top.score >= settings.answer_threshold and top.score - runner_up >= settings.margin:
            return self._answer(top, lang)
        close = [c for c in ranked[:MAX_OPTIONS] if c.score >= settings.clarify_threshold]
        key = "clarify" if len(close) > 1 else "did_you_mean"
        return Reply(
            kind="clarify",
            lang=lang,
            text=self.message(key, lang),
            score=top.score,
            options=[Option(c.intent, self.kb.title(c.intent, lang)) for c in close],
        )

    def _other_place(self, normalized: str, intent: str) -> str | None:
        """A place the question names that is not ours and that the topic does not cover."""
        for place, pattern in self._place_res:
            if pattern.search(normalized):
                if not intent:
                    return place
                key = (intent, place)
                if key not in self._mentions:
                    self._mentions[key] = self.matcher.mentions(intent, place)
                if not self._mentions[key]:
                    return place
        return None

    # -- building replies ------------------------------------------------------------

    def _answer(self, top: Candidate, lang: Lang) -> Reply:
        answer = self.kb.answers[top.intent]
        text = answer.answer.get(lang)
        if answer.plan:
            text = f"{text}\n\n{self.message('source', lang, passage=answer.plan)}"
        return Reply(
            kind="answer",
            lang=lang,
            text=text,
            intent=top.intent,
            score=top.score,
            title=self.kb.title(top.intent, lang),
            links=self._links(answer.links, lang),
            options=[Option(f, self.kb.title(f, lang)) for f in answer.follow_ups],
        )

    def _fallback(
        self, lang: Lang, score: float, place: str | None = None, unanswered: bool = False
    ) -> Reply:
        text = (
            self.message("other_place", lang, place=place)
            if place
            else self.message("fallback", lang)
        )
        return Reply(
            kind="fallback", lang=lang, text=text, score=score,
            links=self._links(["cdht"], lang), unanswered=unanswered,
        )

    def _message(self, key: str, lang: Lang) -> Reply:
        return Reply(kind="fallback", lang=lang, text=self.message(key, lang))

    def _links(self, keys: list[str], lang: Lang) -> list[LinkOut]:
        return [
            LinkOut(getattr(self.kb.links[k], lang), self.kb.links[k].url)
            for k in keys
            if k in self.kb.links
        ]

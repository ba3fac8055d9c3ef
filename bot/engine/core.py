"""The dialogue engine: a message (with the user's language choice and the conversation so far)
→ a Reply and the conversation after it.

No I/O and no Telegram here: the same engine serves Telegram, the console chat and the CLI,
so what `policybot ask` prints is what a Telegram user reads.
"""

from __future__ import annotations

from ..knowledge.base import KnowledgeBase
from ..knowledge.schema import Lang, MatchingFile
from ..matching.index import Matcher
from ..matching.language import detect_language
from ..matching.normalize import normalize
from ..understanding import Reader
from ..understanding.patterns import compact
from .compose import Composer
from .conversation import Conversation, in_context
from .decide import Reading, decide
from .replies import Reply

RANKED = 5  # intents a reading keeps: a clarify offers 3, inline mode 5


class Engine:
    """Built once per knowledge base (a reload builds a new one and swaps it in)."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.matcher = Matcher(kb)
        self.reader = Reader(kb.understanding, self._content)
        self.compose = Composer(kb)
        self.context_seconds = kb.understanding.conversation.expire_minutes * 60.0
        self._places = {iid: [compact(normalize(p)) for p in intent.places]
                        for iid, intent in kb.intents.items() if intent.places}

    def _content(self, text: str) -> list[str]:
        """Words that could name a topic: two Chinese characters or a real English word."""
        zh, words = self.matcher.tokenizer.segments(text, strict=True)
        return [w for w in zh if len(w) >= 2] + [w for w in words if len(w) >= 3]

    # -- entry points ----------------------------------------------------------------

    def read(self, text: str, limit: int = RANKED, floor: float | None = None) -> Reading:
        """Normalise (long input cut first, so time per message stays bounded), detect the
        language, rank the intents and understand what is asked.

        The reading keeps the best two intents (whose lead decides) and up to `limit` in all
        scoring at least `floor` (by default the clarify threshold: none below it is offered).
        """
        plain = normalize((text or "")[: self.kb.matching.max_input_chars])
        normalized = self.matcher.rewrite(plain)
        language = detect_language(normalized)
        if language not in ("zh", "en"):
            return Reading(normalized, language, [])
        understood = self.reader.read(plain)
        # Where the asker comes from is not what they ask about: rank without it.
        asked = normalized
        for place in understood.origins:
            asked = asked.replace(self.matcher.normalize(place), " ")
        query = self.matcher.prepare(asked)
        ranked = self.matcher.rank(query, limit=limit, floor=(
            self.kb.matching.clarify_threshold if floor is None else floor))
        return Reading(normalized, language, ranked, understood, query)

    def reply(self, text: str, lang: Lang | None = None) -> Reply:
        """Answer a message read on its own; `lang` is the user's explicit choice, if any."""
        return self.respond(self.read(text), lang)

    def converse(self, text: str, conversation: Conversation, now: float,
                 lang: Lang | None = None) -> tuple[Reply, Conversation]:
        """Answer the next message of a conversation and return the conversation after it."""
        reading = self.read(text)
        reply = self.respond(reading, lang or (None if reading.language in ("zh", "en")
                                               else conversation.lang))
        topic = conversation.topic(now, self.context_seconds)
        if topic is not None and topic in self.kb.answers:
            affinity = self.matcher.score(reading.query, topic) if reading.query else 0.0
            reply = in_context(reply, reading, topic, affinity, self.compose,
                               self.kb.understanding.conversation)
        return reply, conversation.after(reply, now)

    def respond(self, reading: Reading, lang: Lang | None = None,
                settings: MatchingFile | None = None) -> Reply:
        """The reply to a reading, by the YAML thresholds (or by `settings`, which is how
        `eval --sweep` tries others without reading every question again)."""
        if reading.language is None:
            return self.compose.notice("empty", lang or "zh")
        if reading.language == "other":
            return self.compose.notice("unsupported_language", lang or "en")
        return decide(reading, lang or reading.language, settings or self.kb.matching,
                      self.compose, self._covers_place)

    def suggest(self, text: str, lang: Lang | None = None, limit: int = 5) -> list[Reply]:
        """Answers of the few best topics (inline mode), never below the clarify threshold."""
        reading = self.read(text, max(limit, RANKED))
        place = reading.understood.place
        if not reading.ranked or (place and not self._covers_place(reading, place)):
            return []
        reply_lang: Lang = lang or reading.language
        return [self.compose.answer(c.intent, c.score, reply_lang) for c in reading.ranked[:limit]
                if c.score >= self.kb.matching.clarify_threshold]

    def answer(self, intent_id: str, lang: Lang) -> Reply | None:
        """The answer of a known intent (menus, deep links, clarify buttons)."""
        if intent_id not in self.kb.answers:
            return None
        return self.compose.answer(intent_id, 100.0, lang)

    def message(self, key: str, lang: Lang, **fields: str) -> str:
        """An interface string from content/messages.yaml, placeholders filled."""
        return self.compose.message(key, lang, **fields)

    def hotline(self, lang: Lang) -> str:
        return self.compose.hotline(lang)

    def _covers_place(self, reading: Reading, place: str) -> bool:
        """Whether the best topic is itself about a place the message names (北京中关村 in the
        national ranking): the topic lists the place, and no other topic fits better once
        the place is taken out (zone.area lists 武侯区 for its streets, but "武侯区的学位怎么
        分配" is about schools in Wuhou District)."""
        top = reading.top
        if not any(p in place for p in self._places.get(top.intent, ())):
            return False
        rest = self.matcher.rank(self.matcher.prepare(
            reading.normalized.replace(self.matcher.normalize(place), " ")), limit=1)
        return not rest or rest[0].intent == top.intent or rest[0].score <= top.score

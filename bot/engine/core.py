"""The dialogue engine: a message (with the user's language choice and the conversation so far)
→ a Reply and the conversation after it.

No I/O and no Telegram here: the same engine serves Telegram, the console chat and the CLI,
so what `policybot ask` prints is what a Telegram user reads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..knowledge.base import KnowledgeBase
from ..knowledge.records import LANGS, is_lang
from ..matching.index import Candidate, Matcher, Query
from ..matching.language import detect_language
from ..matching.normalize import is_traditional, normalize, term_prefix
from ..understanding import Reader, Understanding
from ..understanding.patterns import compact
from ..understanding.reader import story_part
from .compose import Composer, is_meta
from .conversation import Conversation, in_context
from .decide import Reading, decide, is_clear
from .display import Displays
from .replies import Reply

if TYPE_CHECKING:
    from ..knowledge.schema import MatchingFile
    from ..understanding.reader import Memo

RANKED = 5  # intents a reading keeps: a clarify offers 3, inline mode 5
SERVED = 10000  # intents' examples the request guesser learns from, at most (served_examples)
ECHO_ZH, ECHO_EN = 3, 7  # a term taken up from the answer in context: characters, letters


@dataclass(frozen=True)
class MenuItem:
    key: str  # an area, or the intent that opens a topic
    title: str


def served_examples(kb: KnowledgeBase) -> list[tuple[str, str]]:
    """The intents' examples the request guesser learns "the answer serves this" from: all of
    them in the shipped knowledge base, an even share of SERVED per intent in a grown one, so
    that building stays bounded (it trains on every one of them) as admins add topics."""
    share = max(2, SERVED // max(len(kb.intents), 1))
    return [(text, kb.topic_id(intent.id)) for intent in kb.intents.values()
            for lang in (intent.examples.zh, intent.examples.en)
            for text in lang[: (share + 1) // 2]]


def _no_guess(reading: Reading) -> tuple[str, float]:
    return "", 0.0


class Engine:
    """Built once per knowledge base (a reload builds a new one and swaps it in)."""

    def __init__(self, kb: KnowledgeBase, memo: Memo | None = None) -> None:
        """`memo`: guessers learnt before, kept by the caller (see `Reader`)."""
        self.kb = kb
        self.matcher = Matcher(kb)
        self._short_keywords = {w for intent in kb.intents.values() for k in intent.keywords
                                for w in [self.matcher.normalize(k)] if w.isascii() and len(w) < 3}
        self.reader = Reader(
            kb.understanding, self._content,
            kb.request_examples,
            served_examples(kb),
            kb.emergency_examples,
            memo)
        self.compose = Composer(kb)
        self.displays = Displays(kb)
        self.context_seconds = kb.understanding.conversation.expire_minutes * 60.0
        self._places = {iid: [compact(normalize(p)) for p in intent.places]
                        for iid, intent in kb.intents.items() if intent.places}
        # what each answer says, both languages, as a follow-up's words are compared with it
        self._said = {iid: compact(self.matcher.rewrite(normalize(
                          f"{a.answer.zh} {a.answer.en} {a.plan or ''}")))
                      for iid, a in kb.answers.items()}

    def _learnt_topic(self, reading: Reading) -> tuple[str, float]:
        return self.reader.topic(reading.plain)

    def _content(self, text: str) -> list[str]:
        """Words that could name a topic: two Chinese characters, a real English word, or a
        shorter one that is a topic's keyword ("what about IP?" names intellectual property)."""
        zh, words = self.matcher.tokenizer.segments(text, strict=True)
        return [w for w in zh if len(w) >= 2] + [w for w in words
                                                  if len(w) >= 3 or w in self._short_keywords]

    # -- entry points ----------------------------------------------------------------

    def read(self, text: str, limit: int = RANKED, floor: float | None = None) -> Reading:
        """Normalise (long input cut first, so time per message stays bounded), detect the
        language, rank the intents and understand what is asked.

        The reading keeps the best two intents (whose lead decides) and up to `limit` in all
        scoring at least `floor` (by default the clarify threshold: none below it is offered).
        """
        raw = (text or "")[: self.kb.matching.max_input_chars]
        plain = normalize(raw)
        normalized = self.matcher.rewrite(plain)
        language = detect_language(normalized)
        if language not in ("zh", "en"):
            return Reading(normalized, language, [])
        story = story_part(raw)
        understood = self.reader.read(plain, normalize(story) if story else "")
        floor = self.kb.matching.clarify_threshold if floor is None else floor
        query, ranked = self._rank(normalized, understood, limit, floor)
        if story and not is_clear(ranked, self.kb.matching):
            # The story's words dilute the question after it ("…We finally have data and a
            # couple of patents. What support is there for…"), or lend it another topic ("I
            # run a noodle shop near the metro…"): asked alone, it may be clear.
            asked, alone = self._rank(self.matcher.rewrite(normalize(raw[len(story):])),
                                      understood, limit, floor)
            if is_clear(alone, self.kb.matching):
                query, ranked = asked, alone
        return Reading(normalized, language, ranked, understood, is_traditional(raw), query,
                       plain)

    def _rank(self, normalized: str, understood: Understanding, limit: int, floor: float,
              ) -> tuple[Query, list[Candidate]]:
        # Where the asker comes from is not what they ask about: rank without it.
        asked = normalized
        for place in understood.origins:
            asked = asked.replace(self.matcher.normalize(place), " ")
        query = self.matcher.prepare(asked)
        return query, self.matcher.rank(query, limit=limit, floor=floor)

    def reply(self, text: str, lang: str | None = None, prefer: str | None = None) -> Reply:
        """Answer a message read on its own. `lang` is the user's explicit choice of display
        language, if any; `prefer` the one their app is set to (zh-hant for a zh-TW phone)."""
        return self.respond(self.read(text), lang, prefer=prefer)

    def converse(self, text: str, conversation: Conversation, now: float,
                 lang: str | None = None, prefer: str | None = None,
                 ) -> tuple[Reply, Conversation]:
        """Answer the next message of a conversation and return the conversation after it."""
        reading = self.read(text)
        wrote = reading.language in ("zh", "en")
        topic = conversation.topic(now, self.context_seconds)
        if topic is not None and topic not in self.kb.answers:
            topic = None
        shown = lang or (None if wrote else conversation.lang)
        reply = self.respond(reading, shown, prefer, topic_in_context=topic is not None)
        if shown is None and conversation.lang not in (None, reply.display) and (
                self._small_talk(reply)):
            # "ok" or "thanks!" in a Chinese conversation is no switch to English: small talk
            # has no language of its own, and is answered in the conversation's
            reply = self.respond(reading, conversation.lang, prefer,
                                 topic_in_context=topic is not None)
        u = reading.understood
        offered = [o.intent for o in reply.options]
        if topic is not None and reply.kind == "clarify" and not u.elliptical and (
                u.opener or (topic not in offered and not u.refers)):
            # "and the high-tech enterprise thing, is that different?" switches to topics of
            # its own: no follow-up, so the learnt topic guess settles the close call as it
            # would alone, rather than its "that" gluing it back to the topic it leaves
            alone = self.respond(reading, shown, prefer)
            if alone.kind == "answer":
                reply = alone
        if topic is not None:
            affinity = self.matcher.score(reading.query, topic) if reading.query else 0.0
            if self._echoes(reading.normalized, topic):
                affinity = max(affinity, self.kb.understanding.conversation.affinity)
            strange = bool(reading.query and self.matcher.unknown_words(reading.query))
            topic_place = u.place is not None and self._only_place(reading, u.place, topic)
            reply = self.displays.localize(
                in_context(reply, reading, topic, affinity, self.compose,
                           self.kb.understanding.conversation, strange, topic_place),
                reply.display)
        after = conversation.after(reply, now)
        listed = reply.options[0].intent if reply.kind == "clarify" and reply.options else None
        if topic is None and listed is not None and not is_meta(listed):
            # "which of these?" with no topic in context: people often ask on instead of
            # choosing, and then about the first (best) of them
            after = after.with_topic(listed, after.lang or reply.lang, now)
        return reply, after

    def respond(self, reading: Reading, lang: str | None = None, prefer: str | None = None,
                settings: MatchingFile | None = None, topic_in_context: bool = False,
                ) -> Reply:
        """The reply to a reading, by the YAML thresholds (or by `settings`, which is how
        `eval --sweep` tries others without reading every question again). `topic_in_context`:
        a topic is in context, so the learnt topic guess (learnt from messages read alone)
        settles no close call: `in_context` reads a clarify against the topic in context."""
        d = self.displays
        if not is_lang(reading.language):
            fallback = d.default if reading.language is None else d.others
            display = lang if d.known(lang) else prefer if d.known(prefer) else fallback
            key = "empty" if reading.language is None else "unsupported_language"
            return d.localize(self.compose.notice(key, d.content(display)), display)
        display = lang if d.known(lang) else d.for_message(reading.language, reading.traditional,
                                                           prefer)
        reply = decide(reading, d.content(display), settings or self.kb.matching,
                       self.compose, self._covers_place,
                       _no_guess if topic_in_context else self._learnt_topic)
        return d.localize(reply, display)

    def answer(self, intent_id: str, lang: str) -> Reply | None:
        """The answer of a known intent (menus, deep links, clarify buttons)."""
        if intent_id not in self.kb.answers:
            return None
        d = self.displays
        return d.localize(self.compose.answer(intent_id, 100.0, d.content(lang)), lang)

    def message(self, key: str, lang: str, **fields: str) -> str:
        """An interface string from content/messages.yaml in display language `lang`."""
        d = self.displays
        return d.convert(self.compose.message(key, d.content(lang), **fields), lang)

    def title(self, intent: str, lang: str) -> str:
        d = self.displays
        return d.convert(self.kb.title(intent, d.content(lang)), lang)

    def areas(self, lang: str) -> list[MenuItem]:
        """The menu's areas, in display language `lang`."""
        d = self.displays
        return [MenuItem(key, d.text(self.kb.areas[key], lang))
                for key in self.kb.menu_areas()]

    def topics(self, area: str, lang: str) -> list[MenuItem]:
        """An area's topics, each keyed by the intent that opens it."""
        d, kb = self.displays, self.kb
        return [MenuItem(kb.intents_of_topic(t.id)[0], d.text(t, lang))
                for t in kb.topics_of_area(area) if kb.intents_of_topic(t.id)]

    def default_topics(self) -> list[str]:
        """The first topic of every menu area: what an empty inline query shows."""
        return [self.topics(area, self.displays.default)[0].key
                for area in self.kb.menu_areas()]

    def find_topics(self, typed: str, lang: str, limit: int) -> list[str]:
        """Topics as you type (inline mode): those whose title or keywords hold what was typed
        (an English word's beginning: "gold" finds Golden Panda), then the topics the text
        best matches as a question."""
        query = self.matcher.normalize(typed)
        if not query:
            return []
        pattern = re.compile(term_prefix(query))
        titled: list[str] = []
        keyed: list[str] = []
        for intent_id, intent in self.kb.intents.items():
            if intent_id.startswith("meta."):
                continue
            titles = [self.kb.title(intent_id, c) for c in LANGS]
            if any(pattern.search(self.matcher.normalize(t)) for t in titles):
                titled.append(intent_id)
            elif any(pattern.search(self.matcher.normalize(k)) for k in intent.keywords):
                keyed.append(intent_id)
        found = titled + keyed
        reading = self.read(typed)
        found += [c.intent for c in reading.ranked
                  if c.score >= self.kb.matching.clarify_threshold and c.intent not in found
                  and not c.intent.startswith("meta.")]
        return found[:limit]

    def meaning(self, text: str) -> str:
        """A question reduced to what it means (繁→简, synonyms, typos corrected, request kinds
        and aspects named by concept), so that /unanswered groups "签证 办理" with "签证怎么办"."""
        labels, rest = self.reader.concepts(self.matcher.rewrite(normalize(text)))
        words = self.matcher.content_words(rest).split()
        return " ".join(sorted({*labels, *words}))

    def area_title(self, area: str, lang: str) -> str:
        return self.displays.text(self.kb.areas[area], lang)

    def _echoes(self, normalized: str, topic: str) -> bool:
        """Whether a message takes up a term of the answer in context ("梯度培育是啥意思"
        after one that names 梯度培育): three Chinese characters or a long English word."""
        said = self._said.get(topic, "")
        zh, words = self.matcher.tokenizer.segments(normalized, strict=True)
        return any(len(w) >= ECHO_ZH and w in said for w in zh) or any(
            len(w) >= ECHO_EN and re.search(rf"\b{re.escape(w)}", said) for w in words)

    def _small_talk(self, reply: Reply) -> bool:
        """Small talk, or the ask back of a request that is small talk after an answer ("ok"
        with no topic yet)."""
        kinds = self.kb.understanding.requests
        return reply.small_talk or (reply.request in kinds
                                    and kinds[reply.request].small_talk is not None)

    def _lists(self, intent: str, place: str) -> bool:
        """Whether the intent lists the place (a span of the normalised message) under
        `places:`."""
        return any(p in place for p in self._places.get(intent, ()))

    def _only_place(self, reading: Reading, place: str, topic: str) -> bool:
        """Whether a message names nothing but a place the topic lists, and "one" ("and the
        japan one?", "那新加坡的呢"): it asks about that part of the topic."""
        if not self._lists(topic, place):
            return False
        rest = reading.normalized.replace(self.matcher.normalize(place), " ")
        return set(self.matcher.content_words(rest).split()) <= {"one", "ones"}

    def _covers_place(self, reading: Reading, place: str) -> bool:
        """Whether the best topic is itself about a place the message names (北京中关村 in the
        national ranking): the topic lists the place, and no other topic fits better once
        the place is taken out (zone.area lists 武侯区 for its streets, but "武侯区的学位怎么
        分配" is about schools in Wuhou District)."""
        top = reading.top
        if top.score < self.kb.matching.answer_threshold or not self._lists(top.intent, place):
            return False  # weakly: "what about shanghai zhangjiang, do they do the same?"
        rest = self.matcher.rank(self.matcher.prepare(
            reading.normalized.replace(self.matcher.normalize(place), " ")), limit=1)
        return not rest or rest[0].intent == top.intent or rest[0].score <= top.score

"""Conversation state, and how a follow-up is read with the topic in context.

The state is a small immutable value the adapters keep (Telegram per chat and user, the console
per session, the CLI per conversation on stdin) and hand back with the next message; the engine
never stores it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from .compose import Composer, is_meta
from .decide import Reading
from .replies import Reply

if TYPE_CHECKING:
    from ..knowledge.schema import ConversationSettings

MAX_TOPICS = 3


@dataclass(frozen=True)
class Conversation:
    topics: tuple[str, ...] = ()  # recent topics, the one in context first
    lang: str | None = None  # the display language of the last reply
    at: float = 0.0  # when the topic was last set or talked around (seconds since the epoch)

    def topic(self, now: float, ttl: float) -> str | None:
        """The topic in context, unless it has expired."""
        return self.topics[0] if self.topics and now - self.at <= ttl else None

    def with_topic(self, intent: str, lang: str, now: float) -> Conversation:
        """The state after a reply about `intent` (typed, from a menu, a deep link, a quote)."""
        rest = tuple(t for t in self.topics if t != intent)
        return Conversation((intent, *rest)[:MAX_TOPICS], lang, now)

    def after(self, reply: Reply, now: float) -> Conversation:
        """The state once `reply` has been given: a topic's answer or decline sets the topic,
        small talk keeps it alive, anything else leaves it as it was."""
        lang = reply.display or reply.lang  # 繁體 stays 繁體 for a message with no words
        if reply.intent and not is_meta(reply.intent):
            return self.with_topic(reply.intent, lang, now)
        if reply.kind == "answer" and self.topics:  # small talk: the topic stays in context
            return replace(self, lang=lang, at=now)
        return replace(self, lang=lang)

    def to_json(self) -> str:
        return json.dumps({"topics": list(self.topics), "lang": self.lang, "at": self.at})

    @classmethod
    def from_json(cls, raw: str | None) -> Conversation:
        """A stored state; anything unreadable is a fresh conversation, never an error."""
        try:
            data = json.loads(raw) if raw else {}
            topics = tuple(str(t) for t in data.get("topics", ()))[:MAX_TOPICS]
            lang = data.get("lang") if isinstance(data.get("lang"), str) else None
            return cls(topics, lang, float(data.get("at", 0.0)))
        except (ValueError, TypeError, AttributeError):
            return cls()


def in_context(base: Reply, reading: Reading, topic: str, affinity: float, compose: Composer,
               settings: ConversationSettings, strange: bool = False,
               topic_place: bool = False) -> Reply:
    """The reply to a message with `topic` in context, given what it gets on its own (`base`)
    and the score the topic in context gets for it (`affinity`); `strange`: it names an
    English word no example has ("telescope"); `topic_place`: the other place it names is one
    the topic in context is itself about (Japan for the international cooperation parks).

    A clear new question, a switch ("那保租房呢") and small talk stand on their own; a switch
    that matches one topic far better than the others but not well enough to answer alone gets
    that topic, not a list. A decline that names no topic, or names another only weakly and
    without an opener, is about the topic in context ("租金多少", "how much is the rent?").
    A message that names nothing of its own beyond what it asks ("那怎么申请？", "外地人也可以吗"),
    or a short one that points back ("how big is it?"), names an aspect, or that the topic in
    context explains a little while nothing explains it well ("合同一般签几年"), is about the
    topic in context: its reply opens with the part that addresses the ask.
    """
    u = reading.understood
    short = u.length <= settings.short
    if (topic_place and short and not u.emergency and base.kind == "fallback"
            and base.request is None):
        # "and the japan one?" after the China-Korea park: not Japan's own policies, the
        # topic in context's part about it
        return compose.answer(topic, base.score, base.lang, u.aspects, brief=True,
                              request=u.follow_up.kind if u.follow_up else None)
    if u.emergency or (base.kind == "fallback" and base.request is None and not base.unanswered):
        return base  # an emergency, another place, or nothing to read: context changes nothing
    if base.kind == "clarify" and base.request is not None and not base.options and not any(
            r.follow_up for r in u.requests):
        # "got it", "ok good to know": what it says of "it" asks nothing more; after an
        # answer it acknowledges it, small talk that keeps the topic in context
        chat = compose.kb.understanding.requests[base.request].small_talk
        return compose.small_talk(chat, base) if chat else base
    read = u.decline is not None and u.decline.kind == base.request  # not a learnt guess
    # "need to have 社保 first?" after talent apartments: a short question with no opener
    # that the topic in context explains a little, and another topic only so-so, stays
    # (not one about the zone itself: "who runs the zone"); so does a question of a word or
    # two ("how large", "多大呢"), which is too short to name a topic of its own, whether the
    # topic in context explains it or not
    tiny = u.length <= settings.tiny and u.question
    # ...but not one asking what support exists for a thing another topic matches fairly
    # ("小公司有没有对应的政策" after industry leaders): a clear new question
    new_ask = u.seeking and base.score >= settings.seeking_score
    stays = (short and not u.opener and not u.zone and base.score < settings.stay_score
             and (affinity >= settings.affinity or tiny) and not is_meta(base.intent)
             and not new_ask)
    if base.kind == "fallback" and base.request is not None:
        if base.intent is not None and not stays and (base.score >= settings.switch_score
                                                       or u.opener):
            return base  # "那保租房租金多少" names its own topic, with an opener or clearly
        return compose.decline(base.request, topic, base.score, base.lang, read,
                               alone=u.fragment)
    if base.kind == "answer" and base.request is not None and is_meta(base.intent):
        # "what's their office address": with no topic named, the contact answer; with one
        # in context, the decline for that topic, its links and the hotline ("电话多少" alone:
        # the contact answer with them, where the request says so)
        return compose.decline(base.request, topic, base.score, base.lang, read,
                               alone=u.fragment)
    ask = u.follow_up.kind if u.follow_up else None
    if base.kind == "answer":
        below_switch = base.score < settings.switch_score
        # "do I need social insurance for it?": asking more about "it" is about the topic in
        # context, however well social insurance alone is matched
        # ("那新能源呢 比如光伏这些" names what it switches to: an opener and words of its own)
        points_back = u.refers and (u.elliptical or not u.opener) and (
            below_switch or (ask is not None and not u.opener))
        # ...and so is one naming only a requirement ("要交社保吗"), or only a group that another
        # topic matches weakly ("应届生"); not one asking something else of a thing of its own
        # ("where can I get a residence permit")
        aspects = compose.kb.understanding.aspects
        required = bool(u.aspects) and all(aspects[a].requirement for a in u.aspects)
        names_only_aspects = u.elliptical and ((required and not u.opener) or below_switch)
        taken_over = (base.intent != topic and short and not is_meta(base.intent)
                      and (points_back or names_only_aspects))
        # "有啥用", "多久更新一次" after a topic: about the topic, unless they speak to the bot
        # or ask what stands alone ("who do I call then"); "where can I actually see it" asks
        # about "it", whatever small talk it matches
        about_topic = (is_meta(base.intent) and base.intent not in settings.stand_alone
                       and short and ((not base.small_talk and not u.to_bot)
                                      or (u.refers and ask is not None)))
        if base.intent == topic or taken_over or about_topic or stays:
            if base.request is not None and base.request not in compose.kb.answers[topic].covers:
                # "how much space do they have in total" reads as the zone's figures alone;
                # of talent apartments in context, the plan gives no amount
                return compose.decline(base.request, topic, base.score, base.lang, read)
            return compose.answer(topic, base.score, base.lang, u.aspects, request=ask,
                                  brief=True)
        return base
    offered = [o.intent for o in base.options]
    if (base.kind == "clarify" and u.opener and not u.elliptical and not u.place
            and reading.ranked and topic not in offered):
        # "那融资呢": a switch names a topic of its own; the best of those it might mean, when
        # it is well ahead of the others
        best = reading.ranked[0]
        second = reading.ranked[1].score if len(reading.ranked) > 1 else 0.0
        if best.score >= settings.switch_lead * second:
            return compose.answer(best.intent, best.score, base.lang, u.aspects, request=ask)
    # an aspect ("for foreigners") is a sign only where the message has no close topics of
    # its own: "any funding for foreign researchers" is a list of its own, not the biotown
    aspect = bool(u.aspects) and base.kind != "clarify"
    signals = u.refers or aspect or (affinity >= settings.affinity and not u.zone)
    # "合同一般签几年", "is there a limit on how long u can stay": matching nothing well on
    # its own, a short question is asked about the topic in context; not a statement
    # ("我失恋了好难过"), one to the bot, or one naming what no example knows ("where can I
    # buy a telescope")
    weak = (base.kind == "fallback" and base.unanswered and u.question and not u.zone
            and not u.to_bot and not strange)
    if u.elliptical or topic in offered or (short and (signals or weak)):
        return compose.answer(topic, base.score, base.lang, u.aspects, request=ask, brief=True)
    return base

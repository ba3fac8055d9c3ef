"""Replies built from the knowledge base: every word comes from YAML, placeholders filled."""

from __future__ import annotations

from dataclasses import replace

from ..knowledge.base import KnowledgeBase
from ..knowledge.records import Lang
from .replies import LinkOut, Option, Reply


def is_meta(intent: str | None) -> bool:
    return intent is not None and intent.startswith("meta.")


class Composer:
    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb

    def message(self, key: str, lang: Lang, **fields: str) -> str:
        """An interface string from content/messages.yaml, placeholders filled."""
        template = getattr(self.kb.messages, key).get(lang)
        if "{" not in template:
            return template
        return template.format(hotline=self.hotline(lang), **fields)

    def hotline(self, lang: Lang) -> str:
        return getattr(self.kb.hotline, lang)

    def links(self, keys: list[str], lang: Lang) -> list[LinkOut]:
        return [LinkOut(getattr(self.kb.links[k], lang), self.kb.links[k].url)
                for k in keys if k in self.kb.links]

    def _listed(self, items: list[str], lang: Lang) -> str:
        return self.message("list_separator", lang).join(items)

    def _silent_lead(self, intent: str, aspects: tuple[str, ...], lang: Lang) -> str:
        """"规划没有专门提到幼儿园。" for the aspects asked about that the answer is silent on."""
        silent = [a for a in aspects if a in self.kb.answers[intent].silent_on]
        if not silent:
            return ""
        names = [getattr(self.kb.understanding.aspects[a], lang) for a in silent]
        return self.message("silent_on", lang, aspects=self._listed(names, lang)) + "\n"

    def answer(self, intent: str, score: float, lang: Lang, aspects: tuple[str, ...] = (),
               request: str | None = None, brief: bool = False) -> Reply:
        """The topic's answer. `brief` (a follow-up): when the answer does not cover what is
        asked, only the part that addresses the ask, the whole answer one button away."""
        answer = self.kb.answers[intent]
        title = self.kb.title(intent, lang)
        lead = self._silent_lead(intent, aspects, lang)
        kind = self.kb.understanding.requests.get(request) if request else None
        focus = kind.focus if kind is not None and request not in answer.covers else None
        if brief and answer.plan and (focus or lead):
            body = (focus.get(lang).format(title=title, passage=answer.plan,
                                           hotline=self.hotline(lang)) if focus
                    else self.message("brief", lang, title=title, passage=answer.plan))
            return Reply(kind="answer", lang=lang, text=lead + body, intent=intent, score=score,
                         title=title, request=request if focus else None,
                         links=self.links(answer.links, lang), options=[Option(intent, title)])
        body = answer.answer.get(lang)
        if answer.plan:
            body += "\n\n" + self.message("source", lang, passage=answer.plan)
        return Reply(kind="answer", lang=lang, text=lead + body, intent=intent, score=score,
                     title=title, links=self.links(answer.links, lang),
                     options=[Option(f, self.kb.title(f, lang)) for f in answer.follow_ups],
                     small_talk=answer.small_talk)

    def decline(self, request: str, intent: str | None, score: float, lang: Lang,
                read: bool = False, alone: bool = False) -> Reply:
        """What the bot cannot do or tell, why, and where to go for that topic. A request
        `read` in the message's own words (not a learnt guess, too unsure to answer anything)
        with an answer of its own for a topic (`for_topic`: whom to ask; `alone_for_topic`
        when the message says nothing else, `alone`) gets that answer."""
        spec = self.kb.understanding.requests[request]
        why = spec.reason.get(lang) if spec.reason else ""
        for_topic = spec.for_topic or (alone and spec.alone_for_topic)
        if read and intent is not None and spec.otherwise and for_topic and not is_meta(
                intent):
            return self._instead(spec.otherwise, request, intent, why, score, lang)
        if intent is None:
            return Reply(kind="fallback", lang=lang, request=request, score=score,
                         text=self.message("decline_general", lang, reason=why),
                         links=self.links(["cdht"], lang))
        title = self.kb.title(intent, lang)
        return Reply(kind="fallback", lang=lang, intent=intent, score=score, request=request,
                     text=self.message("decline_topic", lang, reason=why, title=title),
                     links=self.links(self.kb.answers[intent].links, lang),
                     options=[Option(intent, title)])

    def _instead(self, otherwise: str, request: str, intent: str, why: str, score: float,
                 lang: Lang) -> Reply:
        """"这个找哪个部门问" after talent apartments: the contact answer, opened by why no
        office is named, with the topic's own links and its button (the topic stays in
        context)."""
        base = self.answer(otherwise, score, lang)
        title = self.kb.title(intent, lang)
        own = self.links(self.kb.answers[intent].links, lang)
        text = "\n".join(t for t in (why, base.text, self.message("instead_topic", lang,
                                                                   title=title)) if t)
        return replace(base, text=text, request=request, options=[Option(intent, title)],
                       links=own + [link for link in base.links if link not in own])

    def ask_back(self, request: str, score: float, lang: Lang) -> Reply:
        """A request that names nothing ("在哪里办理"): ask what it is about."""
        ask = self.kb.understanding.requests[request].ask
        text = ask.get(lang) if ask else self.message("did_you_mean", lang)
        return Reply(kind="clarify", lang=lang, text=text, score=score, request=request)

    def small_talk(self, intent: str, said: Reply) -> Reply:
        """The small talk `intent` is, in the words already `said` for it."""
        return replace(said, kind="answer", intent=intent, small_talk=True,
                       title=self.kb.title(intent, said.lang))

    def emergency(self, numbers: tuple[str, ...], lang: Lang) -> Reply:
        """The emergency numbers first, before anything else."""
        known = self.kb.emergency_numbers
        listed = [self.message("emergency_number", lang, number=n, service=getattr(known[n], lang))
                  for n in numbers if n in known]
        return Reply(kind="fallback", lang=lang, request="emergency",
                     text=self.message("emergency", lang, numbers=self._listed(listed, lang)))

    def clarify(self, intents: list[str], score: float, lang: Lang) -> Reply:
        key = "clarify" if len(intents) > 1 else "did_you_mean"
        return Reply(kind="clarify", lang=lang, text=self.message(key, lang), score=score,
                     options=[Option(i, self.kb.title(i, lang)) for i in intents])

    def fallback(self, lang: Lang, score: float, place: str | None = None,
                 unanswered: bool = False) -> Reply:
        text = (self.message("other_place", lang, place=place) if place
                else self.message("fallback", lang))
        return Reply(kind="fallback", lang=lang, text=text, score=score,
                     links=self.links(["cdht"], lang), unanswered=unanswered)

    def notice(self, key: str, lang: Lang) -> Reply:
        return Reply(kind="fallback", lang=lang, text=self.message(key, lang))

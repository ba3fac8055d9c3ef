"""Content checks, one small function each, in the spirit of Rasa's `data validate`.

These need nothing but the knowledge base; the checks that read text the way the bot does
(normalising, phrase patterns, the matcher) live in `bot.validation`, above both, so that
`knowledge` depends on nothing of `matching` or `understanding`.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterator

from .base import KnowledgeBase
from .errors import Problem
from .records import LANGS

META = "meta"
_URL = re.compile(r"https?://|www\.", re.I)
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_FACT_MARK = {"zh": "据公开报道", "en": "according to public reports"}
MIN_EXAMPLES = {True: {"zh": 8, "en": 5}, False: {"zh": 6, "en": 4}}  # core / other areas
MAX_ANSWER = {"zh": 320, "en": 100}  # characters / words
_PLACEHOLDERS = {
    "fallback": {"hotline"}, "other_place": {"hotline", "place"}, "source": {"passage"},
    "menu_topics": {"area"},
    "admin_reloaded": {"count"},
    "admin_stats": {"days", "messages", "users", "answered", "clarified", "fallback"},
    "admin_unanswered": {"days"},
    "decline_topic": {"reason", "title"},
    "decline_general": {"reason"},
    "instead_topic": {"title"},
    "emergency": {"numbers"},
    "emergency_number": {"number", "service"},
    "silent_on": {"aspects"},
    "brief": {"title", "passage"},
    "about": {"days", "version"},
    "console_no_option": {"count"},
    "flood": {"seconds"},
    "group_start": {"username"},
    "admin_days_usage": {"command"},
    "admin_added": {"count", "ids"},
    "admin_removed": {"count", "ids"},
    "admin_edited": {"count", "ids"},
    "admin_job_failed": {"error"},
    "admin_db_problem": {"problem"},
    "admin_stale_none": {"count", "days"},
    "admin_stale": {"days"},
}


def located(kb: KnowledgeBase, kind: str, key: str, message: str, fix: str = "",
            severity: str = "error", field: str | None = None) -> Problem:
    """A problem at the line of `kind` `key` (its `field`'s own line when known)."""
    where = kb.locate(kind, key, field)
    return Problem(where.file, where.line, message, fix, severity)


def every_intent_has_an_answer(kb: KnowledgeBase) -> Iterator[Problem]:
    for iid in kb.intents.keys() - kb.answers.keys():
        yield located(kb, "intent", iid, f"intent {iid} has no answer",
                       f"add an entry with id: {iid} under content/answers/")
    for aid in kb.answers.keys() - kb.intents.keys():
        yield located(kb, "answer", aid, f"answer {aid} has no intent",
                       f"add intent {aid} under intents/, or fix the id")


def areas_are_known(kb: KnowledgeBase) -> Iterator[Problem]:
    for iid in kb.intents:
        if iid.split(".", 1)[0] not in kb.areas:
            yield located(kb, "intent", iid, f"area of {iid} is not in content/topics.yaml",
                           "use a known area as the first part of the id, or add the area")


def every_topic_has_an_intent(kb: KnowledgeBase) -> Iterator[Problem]:
    for topic in kb.topics.values():
        if not kb.intents_of_topic(topic.id):
            yield Problem("content/topics.yaml", None, f"topic {topic.id} has no intent",
                          f"add an intent {topic.id} (or {topic.id}.<sub>) under intents/")


def plan_passages_exist(kb: KnowledgeBase) -> Iterator[Problem]:
    for aid, answer in kb.answers.items():
        if answer.plan is None:
            if not aid.startswith(META + "."):
                yield located(kb, "answer", aid, f"{aid} names no plan passage",
                               "add plan: with a phrase copied from content/plan.zh.txt",
                               field="plan")
        elif answer.plan not in kb.plan:
            yield located(kb, "answer", aid, f"{aid}: plan passage “{answer.plan}” is not in "
                           "the plan", "copy the phrase exactly from content/plan.zh.txt",
                           field="plan")


def references_are_known(kb: KnowledgeBase) -> Iterator[Problem]:
    for aid, answer in kb.answers.items():
        for key in answer.links:
            if key not in kb.links:
                yield located(kb, "answer", aid, f"{aid}: unknown link key {key!r}",
                               "use a key of content/links.yaml", field="links")
        for fid in answer.follow_ups:
            if fid not in kb.intents or fid == aid:
                yield located(kb, "answer", aid, f"{aid}: follow-up {fid!r} is not another "
                               "known intent", "use the id of another intent", field="follow_ups")
        for fact in answer.facts:
            if fact not in kb.facts:
                yield located(kb, "answer", aid, f"{aid}: unknown fact {fact!r}",
                               "use an id of content/facts.yaml", field="facts")


def facts_are_attributed(kb: KnowledgeBase) -> Iterator[Problem]:
    for aid, answer in kb.answers.items():
        if answer.facts:
            for lang in LANGS:
                if _FACT_MARK[lang] not in answer.answer.get(lang).lower():
                    yield located(kb, "answer", aid, f"{aid} ({lang}) uses a fact without "
                                   "saying where it comes from",
                                   f"say “{_FACT_MARK[lang]}” where the fact is used",
                                   field="answer")


def no_urls_in_text(kb: KnowledgeBase) -> Iterator[Problem]:
    for aid, answer in kb.answers.items():
        for lang in LANGS:
            if _URL.search(answer.answer.get(lang)):
                yield located(kb, "answer", aid, f"{aid} ({lang}) has a URL in its text",
                               "remove it and add the link's key under links:", field="answer")


def numbers_are_sourced(kb: KnowledgeBase) -> Iterator[Problem]:
    """Amounts, dates and phone numbers may only repeat what the sources say."""
    sources = [kb.plan, kb.hotline.phone, kb.hotline.zh, kb.hotline.en]
    sources += [f.zh + f.en for f in kb.facts.values()]
    sources += [link.url for link in kb.links.values()]
    known = set()
    for text in sources:
        known.update(_NUMBER.findall(text))
    for aid, answer in kb.answers.items():
        for lang in LANGS:
            for number in _NUMBER.findall(answer.answer.get(lang)):
                if number not in known:
                    yield located(kb, "answer", aid, f"{aid} ({lang}): the number {number} is "
                                   "not in the plan, the facts or the link registry",
                                   "remove it: amounts, dates and phone numbers are never invented",
                                   field="answer")


def languages_agree(kb: KnowledgeBase) -> Iterator[Problem]:
    """zh and en share links and follow-ups by construction; their figures must agree too."""
    for aid, answer in kb.answers.items():
        zh = set(_NUMBER.findall(answer.answer.zh))
        en = set(_NUMBER.findall(answer.answer.en))
        if zh != en:
            yield located(kb, "answer", aid, f"{aid}: the zh and en answers give different "
                           f"figures (zh only: {sorted(zh - en)}, en only: {sorted(en - zh)})",
                           "make both languages say the same thing", severity="warning",
                           field="answer")


def every_language_is_present(kb: KnowledgeBase) -> Iterator[Problem]:
    for iid, intent in kb.intents.items():
        core = kb.areas.get(iid.split(".", 1)[0])
        minimum = MIN_EXAMPLES[bool(core and core.core)]
        if iid.startswith(META + "."):
            minimum = {"zh": 3, "en": 3}
        for lang in LANGS:
            n = len(getattr(intent.examples, lang))
            if n < minimum[lang]:
                yield located(kb, "intent", iid, f"{iid} has {n} {lang} examples "
                               f"(at least {minimum[lang]} expected)",
                               "add examples the way people type", severity="warning",
                               field="examples")


def synonyms_agree(kb: KnowledgeBase) -> Iterator[Problem]:
    seen: dict[str, tuple[str, str]] = {}
    for iid, intent in kb.intents.items():
        for variant, canonical in intent.synonyms.items():
            first = seen.setdefault(variant, (canonical, iid))
            if first[0] != canonical:
                yield located(kb, "intent", iid, f"synonym {variant!r} means {canonical!r} "
                               f"here but {first[0]!r} in {first[1]}", "use one meaning",
                               field="synonyms")


def messages_have_their_placeholders(kb: KnowledgeBase) -> Iterator[Problem]:
    for key, value in kb.messages:
        allowed = _PLACEHOLDERS.get(key, set()) | {"hotline"}
        for lang in LANGS:
            bad = _placeholders(value.get(lang)) - allowed
            if bad:
                yield Problem("content/messages.yaml", None, f"message {key} ({lang}) uses "
                              f"unknown placeholders {sorted(bad)}",
                              f"use only {sorted(allowed)}; write {{{{ }}}} for a literal brace")


def kb_phrases(kb: KnowledgeBase) -> Iterator[tuple[str, str, bool]]:
    """(location key, phrase, takes {place}) for every phrase of understanding.yaml."""
    u = kb.understanding
    groups: list[tuple[str, object, tuple[str, ...]]] = [
        (f"requests.{k}", r, ("zh", "en", "unless")) for k, r in u.requests.items()]
    groups += [(f"emergencies.{k}", e, ("zh", "en", "unless")) for k, e in u.emergencies.items()]
    for prefix, model, fields in groups:
        for name in fields:
            for i, phrase in enumerate(getattr(model, name)):
                yield f"{prefix}.{name}:{i}", phrase, False
    for name in ("other", "zone", "ours", "about", "origin"):
        for i, phrase in enumerate(getattr(u.places, name)):
            yield f"places.{name}:{i}", phrase, name in ("about", "origin")
    for key, aspect in u.aspects.items():
        for i, phrase in enumerate(aspect.terms):
            yield f"aspects.{key}.terms:{i}", phrase, False
    for i, phrase in enumerate(u.generic):
        yield f"generic:{i}", phrase, False
    for name in ("over", "now"):
        for i, phrase in enumerate(getattr(u.emergency_over, name)):
            yield f"emergency_over.{name}:{i}", phrase, False
    for name in ("phrases", "unless"):
        for i, phrase in enumerate(getattr(u.disavowals, name)):
            yield f"disavowals.{name}:{i}", phrase, False
    for name in ("openers", "closers", "references", "addressing"):
        for i, phrase in enumerate(getattr(u.conversation, name)):
            yield f"conversation.{name}:{i}", phrase, False


_REQUEST_PLACEHOLDERS = {"reason": set(), "ask": set(), "focus": {"title", "passage", "hotline"}}


def _placeholders(text: str) -> set[str]:
    try:
        return {f for _, f, _, _ in string.Formatter().parse(text) if f}
    except ValueError:
        return {"(unbalanced braces)"}


def stand_alone_intents_are_known(kb: KnowledgeBase) -> Iterator[Problem]:
    for i, intent in enumerate(kb.understanding.conversation.stand_alone):
        if intent not in kb.answers:
            yield located(kb, "phrase", f"conversation.stand_alone:{i}", f"conversation."
                          f"stand_alone: {intent!r} is not a known intent", "use an intent id")


def small_talk_order_is_small_talk(kb: KnowledgeBase) -> Iterator[Problem]:
    for i, intent in enumerate(kb.matching.small_talk_order):
        if intent not in kb.answers or not kb.answers[intent].small_talk:
            yield located(kb, "setting", f"small_talk_order:{i}", f"small_talk_order: "
                          f"{intent!r} is not a small-talk intent",
                          "use ids of answers with small_talk: true")


def requests_have_their_texts(kb: KnowledgeBase) -> Iterator[Problem]:
    for name, kind in kb.understanding.requests.items():
        if kind.otherwise is not None and kind.otherwise not in kb.answers:
            yield Problem("content/understanding.yaml", None, f"request {name}: otherwise "
                          f"{kind.otherwise!r} is not a known intent", "use an intent id")
        if kind.small_talk is not None and not (kind.small_talk in kb.answers
                                                and kb.answers[kind.small_talk].small_talk):
            yield Problem("content/understanding.yaml", None, f"request {name}: small_talk "
                          f"{kind.small_talk!r} is not a small-talk intent",
                          "use the id of an answer with small_talk: true")
        for i, other in enumerate(kind.takes_over):
            if other not in kb.understanding.requests or other == name:
                yield located(kb, "phrase", f"requests.{name}.takes_over:{i}", f"request "
                              f"{name}: takes_over {other!r} is not another request kind",
                              "use the name of another request kind")
        field = "reason" if kind.serve == "decline" else "ask"
        if getattr(kind, field) is None:
            yield Problem("content/understanding.yaml", None,
                          f"request {name} (serve: {kind.serve}) has no `{field}`",
                          f"add `{field}:` with zh and en text")
        for key, allowed in _REQUEST_PLACEHOLDERS.items():
            text = getattr(kind, key)
            for lang in LANGS:
                bad = _placeholders(text.get(lang)) - allowed if text else set()
                if bad:
                    yield Problem("content/understanding.yaml", None,
                                  f"request {name} {key} ({lang}) uses unknown placeholders "
                                  f"{sorted(bad)}", f"use only {sorted(allowed) or 'none'}")


def request_examples_are_labelled(kb: KnowledgeBase) -> Iterator[Problem]:
    """Each labelled message names a request kind no answer serves (or none), and a topic."""
    kinds = sorted(name for name, kind in kb.understanding.requests.items()
                   if kind.serve == "decline")
    yield from _labelled(kb, "request_example", kb.request_examples, kinds,
                         "a request kind no answer serves")


def emergency_examples_are_labelled(kb: KnowledgeBase) -> Iterator[Problem]:
    """Each labelled message names an emergency (or none), and a topic."""
    yield from _labelled(kb, "emergency_example", kb.emergency_examples,
                         sorted(kb.understanding.emergencies), "an emergency")


def _labelled(kb: KnowledgeBase, where: str, rows: list[tuple[str, str, str]],
              kinds: list[str], what: str) -> Iterator[Problem]:
    for i, (q, kind, topic) in enumerate(rows):
        if kind != "none" and kind not in kinds:
            yield located(kb, where, str(i), f"{q!r}: {kind!r} is not {what}",
                          f"use none or one of {', '.join(kinds)}")
        if topic != "none" and topic not in kb.topics and topic not in kb.intents:
            yield located(kb, where, str(i), f"{q!r}: topic {topic!r} is not known",
                          "use a topic id of content/topics.yaml, an intent id, or none")


def emergency_numbers_are_known(kb: KnowledgeBase) -> Iterator[Problem]:
    for name, emergency in kb.understanding.emergencies.items():
        for number in emergency.numbers:
            if number not in kb.emergency_numbers:
                yield Problem("content/understanding.yaml", None,
                              f"emergency {name}: {number} is not in facts.yaml emergency_numbers",
                              "use a number listed there")


def silent_on_and_covers_are_known(kb: KnowledgeBase) -> Iterator[Problem]:
    aspects, requests = kb.understanding.aspects, kb.understanding.requests
    for aid, answer in kb.answers.items():
        for key in answer.silent_on:
            if key not in aspects:
                yield located(kb, "answer", aid, f"{aid}: unknown aspect {key!r} in silent_on",
                               "use a key of aspects: in content/understanding.yaml",
                               field="silent_on")
        for key in answer.covers:
            if key not in requests:
                yield located(kb, "answer", aid, f"{aid}: unknown request kind {key!r} in "
                               "covers", "use a key of requests: in content/understanding.yaml",
                               field="covers")


def thresholds_are_ordered(kb: KnowledgeBase) -> Iterator[Problem]:
    if kb.matching.clarify_threshold > kb.matching.answer_threshold:
        yield Problem("content/matching.yaml", None, "clarify_threshold is above "
                      "answer_threshold", "make clarify_threshold ≤ answer_threshold")


def answers_are_short(kb: KnowledgeBase) -> Iterator[Problem]:
    for aid, answer in kb.answers.items():
        size = {"zh": len(answer.answer.zh), "en": len(answer.answer.en.split())}
        for lang in LANGS:
            if size[lang] > MAX_ANSWER[lang]:
                unit = "characters" if lang == "zh" else "words"
                yield located(kb, "answer", aid, f"{aid} ({lang}) is {size[lang]} {unit} long",
                               f"keep it under {MAX_ANSWER[lang]} {unit}", severity="warning",
                               field="answer")


def languages_are_consistent(kb: KnowledgeBase) -> Iterator[Problem]:
    """Every content language readable as is, the defaults known, no Telegram code twice."""
    where = "content/languages.yaml"
    for name in ("default_language", "other_language"):
        if getattr(kb, name) not in kb.languages:
            yield Problem(where, None, f"{getattr(kb, name)!r} is not one of the languages",
                          f"use one of {sorted(kb.languages)}")
    for lang in LANGS:
        if not any(s.content == lang and s.convert is None for s in kb.languages.values()):
            yield Problem(where, None, f"no language shows {lang} content as written",
                          f"add a language with content: {lang} and no convert")
    seen: dict[str, str] = {}
    for code, spec in kb.languages.items():
        for tg in spec.telegram:
            if seen.setdefault(tg, code) != code:
                yield Problem(where, None, f"Telegram code {tg} picks both {seen[tg]} and {code}",
                              "keep it under one language")


ERROR_CHECKS: list[Callable[[KnowledgeBase], Iterator[Problem]]] = [
    every_intent_has_an_answer,
    areas_are_known,
    every_topic_has_an_intent,
    plan_passages_exist,
    references_are_known,
    facts_are_attributed,
    no_urls_in_text,
    numbers_are_sourced,
    languages_agree,
    every_language_is_present,
    synonyms_agree,
    messages_have_their_placeholders,
    thresholds_are_ordered,
    answers_are_short,
    requests_have_their_texts,
    stand_alone_intents_are_known,
    small_talk_order_is_small_talk,
    emergency_numbers_are_known,
    request_examples_are_labelled,
    emergency_examples_are_labelled,
    silent_on_and_covers_are_known,
    languages_are_consistent,
]


def run_checks(kb: KnowledgeBase) -> list[Problem]:
    return [p for check in ERROR_CHECKS for p in check(kb)]

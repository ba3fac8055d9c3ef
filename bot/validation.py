"""The checks that read the knowledge base's text the way the bot reads a message: examples
normalised, phrases compiled, the matcher run over its own examples.

They sit above `knowledge`, `matching` and `understanding`, which is what keeps those three
free of an import cycle. `load_valid_knowledge_base` is what serves a knowledge base: the
loader's own checks, then these; any error refuses the whole knowledge base.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator
from pathlib import Path

from .knowledge.base import KnowledgeBase, Location
from .knowledge.checks import kb_phrases, located
from .knowledge.errors import ContentError, Problem
from .knowledge.loader import load_knowledge_base
from .knowledge.records import LANGS
from .matching.index import Example, Matcher
from .matching.normalize import normalize
from .understanding.patterns import PatternError, PhraseIndex, compact, phrase_regex


def examples_do_not_collide(kb: KnowledgeBase) -> Iterator[Problem]:
    owner: dict[str, str] = {}
    for iid, intent in kb.intents.items():
        for lang in LANGS:
            for j, text in enumerate(getattr(intent.examples, lang)):
                key = normalize(text)
                other = owner.setdefault(key, iid)
                if other != iid:
                    where = kb.locate("example", f"{iid}:{lang}:{j}")
                    yield Problem(where.file, where.line,
                                  f"example “{text}” of {iid} is also an example of {other}",
                                  "keep it in the intent it belongs to")


def phrases_are_usable(kb: KnowledgeBase) -> Iterator[Problem]:
    for key, phrase, slotted in kb_phrases(kb):
        try:
            phrase_regex(phrase, slots={"place": "x"} if slotted else None)
        except PatternError as exc:
            yield located(kb, "phrase", key, str(exc),
                           "write words; … is a gap, (a|b) alternatives, {place} a place")


def silent_on_is_true(kb: KnowledgeBase) -> Iterator[Problem]:
    """An answer cannot be silent on what its own text or plan passage mentions (matched the
    way messages are: whole English words)."""
    aspects = kb.understanding.aspects
    index = PhraseIndex()
    for key, aspect in aspects.items():
        index.add(key, aspect.terms)
    for aid, answer in kb.answers.items():
        said = compact(normalize(" ".join((answer.answer.zh, answer.answer.en, answer.plan or ""))))
        found = index.scan(said)
        for key in (k for k in answer.silent_on if k in found):
            hits = [said[a:b] for a, b in found[key]]
            if hits:
                yield located(kb, "answer", aid, f"{aid} lists {key} in silent_on but mentions "
                               f"{hits[0]!r}", f"remove {key} from silent_on", severity="warning",
                               field="silent_on")


TEXT_CHECKS: list[Callable[[KnowledgeBase], Iterator[Problem]]] = [
    examples_do_not_collide,
    phrases_are_usable,
    silent_on_is_true,
]


def text_problems(kb: KnowledgeBase) -> list[Problem]:
    return [p for check in TEXT_CHECKS for p in check(kb)]


def load_valid_knowledge_base(root: Path) -> KnowledgeBase:
    """Load (with the loader's own checks) and run the text checks: raises a
    KnowledgeBaseError on any error, so a broken edit is never served."""
    kb = load_knowledge_base(root)
    errors = [p for p in text_problems(kb) if p.severity == "error"]
    if errors:
        raise ContentError(errors)
    return kb


# -- matcher-based warnings (policybot validate only: they cost seconds) ---------------


def _locate_example(kb: KnowledgeBase, example: Example) -> Location:
    return kb.locate("example", f"{example.intent}:{example.lang}:{example.position}")


def near_duplicate_examples(kb: KnowledgeBase, matcher: Matcher, threshold: float = 90.0,
                            ) -> list[Problem]:
    """Examples of two intents that the runtime matcher can hardly tell apart."""
    from rapidfuzz import fuzz, process

    examples = matcher.examples
    # token_sort_ratio is the ratio of the sorted words: sorted once here rather than in each
    # of the n² comparisons (the same scores, in a fifth of the time)
    choices = [" ".join(sorted(e.normalized.split())) for e in examples]
    # A ratio counts at least the difference in length as edits: two strings of lengths a
    # and b score at most 100·(1 − |a − b| / (a + b)). So each example is compared only with
    # those of a length that can reach the threshold (a tenth of the list, not all of it).
    by_length = sorted(range(len(choices)), key=lambda j: len(choices[j]))
    ordered = [choices[j] for j in by_length]
    lengths = [len(c) for c in ordered]
    spread = (100.0 - threshold) / 100.0
    problems = []
    for i, choice in enumerate(choices):
        example = examples[i]
        n = len(choice)
        low = bisect_left(lengths, n * (1 - spread) / (1 + spread) - 1)
        high = bisect_right(lengths, n * (1 + spread) / (1 - spread) + 1 if spread < 1
                            else math.inf)
        alike = process.extract(choice, ordered[low:high], scorer=fuzz.ratio, processor=None,
                                score_cutoff=threshold, limit=None)
        # the five best, equals in the examples' order (as if all had been compared)
        best = sorted(((score, by_length[low + k]) for _, score, k in alike),
                      key=lambda found: (-found[0], found[1]))[:5]
        for score, j in best:
            other = examples[j]
            if i < j and other.intent != example.intent:
                where = _locate_example(kb, example)
                problems.append(Problem(
                    where.file, where.line,
                    f"“{example.text}” ({example.intent}) and “{other.text}” ({other.intent}) "
                    f"are {score:.0f}% alike", "reword one so each names its own topic",
                    "warning"))
    return problems


def misrouted_examples(kb: KnowledgeBase, matcher: Matcher) -> list[Problem]:
    """Examples that, left out, the matcher would send to another intent."""
    problems = []
    for i, example in enumerate(matcher.examples):
        ranked = matcher.rank(matcher.prepare(example.normalized), limit=1, exclude=i)
        top = ranked[0] if ranked else None
        if top and top.intent != example.intent and top.score >= kb.matching.clarify_threshold:
            where = _locate_example(kb, example)
            problems.append(Problem(
                where.file, where.line,
                f"example “{example.text}” of {example.intent} matches {top.intent} better "
                f"({top.score:.0f}, via “{top.example}”)",
                "reword it, or add a distinctive keyword to the right intent", "warning"))
    return problems

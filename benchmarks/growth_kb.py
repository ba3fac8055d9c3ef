"""A knowledge base grown the way a real one grows: new intents, each with its own distinct phrases.

Real examples are cut into words (jieba for Chinese, spaces for English). A synthetic intent of an
area gets three topic words of that area (its "subject", e.g. 人才 + 公寓 + 补贴); each of its
phrases is a real question frame of the same area (any intent's) in which one content word is
replaced by the synthetic intent's topic compound (人才公寓, 公寓补贴, ...) and, half the time, one
more content word by another word of the area. So phrases are recombinations of real words,
within and across the intents of an area; every phrase is distinct from every other (compared
after the engine's own normalisation), and the number of intents grows with the phrases, at 34
phrases per intent (17 per language): the size the speed targets are set for (20,000 phrases
over ~600 intents), fewer than the shipped intents' ~85, so that growth adds intents faster.
Synthetic intents get keywords (the compounds) and a copy of an answer of their area, so the
engine treats them like any other intent.

Deterministic: the same target and seed give the same knowledge base.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import logging
import random
from collections import defaultdict
from pathlib import Path

import _common  # noqa: F401  (puts the checkout on sys.path)

from bot.knowledge.base import KnowledgeBase
from bot.knowledge.schema import Examples, Intent
from bot.matching.normalize import normalize

PER_LANG = 17  # phrases per language per synthetic intent (shipped: 6,557 / 77 / 2 = 42.6)


def phrases(kb: KnowledgeBase) -> int:
    return sum(len(i.examples.zh) + len(i.examples.en) for i in kb.intents.values())


def _is_zh_word(w: str) -> bool:
    return len(w) >= 2 and all("\u4e00" <= c <= "\u9fff" for c in w)


def _is_en_word(w: str) -> bool:
    return w.isascii() and w.isalpha() and len(w) >= 4


class Recombiner:
    """Word frames and vocabularies of every area and intent of a knowledge base."""

    def __init__(self, kb: KnowledgeBase, seed: int = 7) -> None:
        import jieba  # here only: a process timing the engine never holds jieba's dictionary

        jieba.setLogLevel(logging.WARNING)
        self._lcut = jieba.lcut
        self.kb = kb
        self.rng = random.Random(seed)
        stop_zh = set(kb.matching.stop_words.zh)
        stop_en = {w.lower() for w in kb.matching.stop_words.en}
        self.content = {
            "zh": lambda w: _is_zh_word(w) and w not in stop_zh,
            "en": lambda w: _is_en_word(w) and w.lower() not in stop_en,
        }
        # (area or intent, lang) → frames (token lists with >= 1 content word) and vocabulary
        self.frames: dict[tuple[str, str], list[list[str]]] = defaultdict(list)
        self.vocab: dict[tuple[str, str], set[str]] = defaultdict(set)
        self.intents_per_area: dict[str, int] = defaultdict(int)
        self.seen: set[str] = set()
        for intent in kb.intents.values():
            area = intent.id.split(".", 1)[0]
            self.intents_per_area[area] += 1
            for lang in ("zh", "en"):
                for text in getattr(intent.examples, lang):
                    self.seen.add(self.key(text))
                    toks = self.cut(text, lang)
                    words = [t for t in toks if self.content[lang](t)]
                    if not words:
                        continue
                    for owner in (area, intent.id):
                        self.frames[owner, lang].append(toks)
                        self.vocab[owner, lang].update(words)
        self.vocab_list = {k: sorted(v) for k, v in self.vocab.items()}
        self.areas = sorted(a for a in self.intents_per_area
                            if all(self.vocab_list.get((a, lang), [])[2:] for lang in ("zh", "en")))
        self._topics_used: set[frozenset[str]] = set()

    @staticmethod
    def key(text: str) -> str:
        return normalize(text).replace(" ", "")

    def cut(self, text: str, lang: str) -> list[str]:
        if lang == "zh":
            return self._lcut(text, HMM=False)
        return text.split()

    @staticmethod
    def join(toks: list[str], lang: str) -> str:
        return "".join(toks) if lang == "zh" else " ".join(toks)

    def recombine(self, owner: str, lang: str, subject: list[str], vocab_owner: str) -> str | None:
        """One new distinct phrase: a frame of `owner` with a content word replaced by one of
        `subject` (if any) and maybe one more by a word of `vocab_owner`; None after 50 tries."""
        frames, vocab = self.frames[owner, lang], self.vocab_list[vocab_owner, lang]
        for _ in range(50):
            toks = list(self.rng.choice(frames))
            slots = [i for i, t in enumerate(toks) if self.content[lang](t)]
            self.rng.shuffle(slots)
            toks[slots[0]] = self.rng.choice(subject) if subject else self.rng.choice(vocab)
            if len(slots) > 1 and (not subject or self.rng.random() < 0.5):
                toks[slots[1]] = self.rng.choice(vocab)
            text = self.join(toks, lang)
            k = self.key(text)
            if k and k not in self.seen and len(text) <= 200:
                self.seen.add(k)
                return text
        return None

    def _subject(self, area: str, lang: str) -> tuple[list[str], list[str]]:
        """(topic words, their compounds) for a new intent, never used by an earlier one."""
        vocab = self.vocab_list[area, lang]
        while True:
            words = self.rng.sample(vocab, 3)
            if frozenset(words) not in self._topics_used:
                self._topics_used.add(frozenset(words))
                sep = "" if lang == "zh" else " "
                return words, [a + sep + b for a, b in itertools.permutations(words, 2)]

    def synthetic_intent(self, number: int, per_lang: int) -> tuple[Intent, list[str]]:
        """A new intent of a (weighted) random area, and two held-out questions for it."""
        area = self.rng.choices(self.areas, [self.intents_per_area[a] for a in self.areas])[0]
        examples: dict[str, list[str]] = {}
        keywords: list[str] = []
        held_out: list[str] = []
        for lang in ("zh", "en"):
            words, compounds = self._subject(area, lang)
            keywords += compounds
            subject = compounds + words
            out: list[str] = []
            while len(out) < per_lang + 1:
                text = self.recombine(area, lang, subject, area)
                if text is not None:
                    out.append(text)
            held_out.append(out.pop())
            examples[lang] = out
        intent = Intent(id=f"{area}.syn{number:05d}", examples=Examples(**examples),
                        keywords=keywords)
        return intent, held_out

    def real_questions(self, count: int) -> list[tuple[str, str]]:
        """(question, intent): a real intent's frame with one word swapped for another of the
        same intent's words; none is an example."""
        ids = sorted(self.kb.intents)
        out = []
        while len(out) < count:
            iid = self.rng.choice(ids)
            lang = self.rng.choice(("zh", "en"))
            if not self.frames.get((iid, lang)):
                continue
            text = self.recombine(iid, lang, [], iid)
            if text is not None:
                out.append((text, iid))
        return out


def grow(kb: KnowledgeBase, target: int, seed: int = 7,
         recombiner: Recombiner | None = None) -> tuple[KnowledgeBase, list[tuple[str, str]]]:
    """`kb` plus synthetic intents up to exactly `target` phrases, and held-out questions
    (question, intent) aimed at the synthetic intents."""
    rc = recombiner or Recombiner(kb, seed)
    intents, answers = dict(kb.intents), dict(kb.answers)
    missing = target - phrases(kb)
    questions: list[tuple[str, str]] = []
    number = 0
    while missing > 0:
        per_lang = min(PER_LANG, (missing + 1) // 2)
        intent, held_out = rc.synthetic_intent(number, per_lang)
        zh, en = intent.examples.zh, intent.examples.en
        if len(zh) + len(en) > missing:  # the last one: exactly up to target
            trimmed = Examples.model_construct(zh=zh, en=en[: missing - len(zh)])
            intent = intent.model_copy(update={"examples": trimmed})
        intents[intent.id] = intent
        answers[intent.id] = _answer(kb, intent.id)
        questions += [(q, intent.id) for q in held_out]
        missing -= len(intent.examples.zh) + len(intent.examples.en)
        number += 1
    return dataclasses.replace(kb, intents=intents, answers=answers), questions


def _answer(kb: KnowledgeBase, intent_id: str):
    """A copy of the first answer of the intent's area, under the intent's id."""
    area = intent_id.split(".", 1)[0]
    first = next(a for iid, a in kb.answers.items() if iid.split(".", 1)[0] == area)
    return first.model_copy(update={"id": intent_id})


def save(kb: KnowledgeBase, grown: KnowledgeBase, extra: dict, path: Path) -> None:
    """The synthetic intents of `grown` (not in `kb`) and `extra` (questions), as JSON."""
    new = [{"id": i.id, "zh": i.examples.zh, "en": i.examples.en, "keywords": i.keywords}
           for iid, i in grown.intents.items() if iid not in kb.intents]
    path.write_text(json.dumps({"intents": new, **extra}, ensure_ascii=False), encoding="utf-8")


def load(kb: KnowledgeBase, path: Path) -> tuple[KnowledgeBase, dict]:
    """`kb` with the synthetic intents saved in `path` (built in memory, as the loader does)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    intents, answers = dict(kb.intents), dict(kb.answers)
    for row in data.pop("intents"):
        intents[row["id"]] = Intent.model_construct(
            id=row["id"], examples=Examples.model_construct(zh=row["zh"], en=row["en"]),
            keywords=row["keywords"], synonyms={}, places=[])
        answers[row["id"]] = _answer(kb, row["id"])
    return dataclasses.replace(kb, intents=intents, answers=answers), data

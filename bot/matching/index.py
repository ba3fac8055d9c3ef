"""The matcher: an inverted index over every example, scored by weighted token overlap.

Only examples that share a token with the question are scored, so the time per message
grows with the few examples that are relevant, not with the size of the knowledge base.
Weights are inverse intent frequencies: a token used by one intent says much more than
a token used by thirty.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from ..knowledge.base import KnowledgeBase
from .features import CHAR, PHRASE, PINYIN, PREFIX, WORD, Tokenizer, pinyin_of, pinyin_string
from .normalize import SynonymRewriter, has_cjk, normalize
from .ranking import IntentIndex

# a phrase weighs two words: without it, its one content word finds a fifth to a quarter of
# the example ("who" of "who are you", "see" of "see you")
TYPE_WEIGHT = {CHAR: 1.0, PINYIN: 0.5, WORD: 1.0, PREFIX: 0.5, PHRASE: 2.0}
COMMON = 1  # a word of more policy topics than this says little on its own ("see", "who", 好)
UNKNOWN_FACTOR = 1.0  # an unseen token counts as much as the rarest known one
TYPO_CUTOFF = 80  # rapidfuzz ratio for an unknown English word to count as a known one
TYPO_LONG = 8  # from this length a typo may be two edits (OSA distance), below it one


_NOTHING: frozenset[str] = frozenset()

@dataclass(frozen=True)
class Query:
    text: str  # normalised, synonyms applied
    weights: dict[str, float]  # every token of the question and what it counts for
    pinyin: str  # " ren cai ... ": for Chinese keywords typed with a homophone
    phrase: str  # " word word ... ": every English stem, typo-corrected, for keyword phrases

    @property
    def compact(self) -> str:
        return self.text.replace(" ", "")


@dataclass(frozen=True)
class Candidate:
    intent: str
    score: float
    example: str  # the example that matched best, to explain a score


class Example(NamedTuple):
    """One example phrasing (a tuple: a cached engine holds 5,000 of them, and tuples
    unpickle in half the time of dataclass instances)."""

    intent: str
    text: str
    normalized: str
    lang: str
    position: int  # index within the intent's examples of that language, for locating it


@lru_cache(maxsize=65536)
def _units(token: str) -> tuple[str, ...]:
    """The characters (or pinyin syllables) a bigram token is made of."""
    body = token[2:]
    return tuple(body.split(" ")) if token.startswith(PINYIN) else tuple(body)


class Matcher:
    """Built once per knowledge base; `rank` is a pure function of the question."""

    def __init__(self, kb: KnowledgeBase) -> None:
        settings = kb.matching
        self.keyword_bonus = settings.keyword_bonus
        self._glue = frozenset(settings.glue_chars)
        synonyms: dict[str, str] = dict(settings.spellings)
        for intent in kb.intents.values():
            synonyms.update(intent.synonyms)
        self.rewrite = SynonymRewriter(synonyms)
        self.tokenizer = Tokenizer(settings.stop_words.zh, settings.stop_words.en)

        self.examples: tuple[Example, ...] = tuple(
            Example(intent.id, text, self.normalize(text), lang, j)
            for intent in kb.intents.values()
            for lang in ("zh", "en")
            for j, text in enumerate(getattr(intent.examples, lang))
        )
        # "see you", "who are you", "你好": small talk whose one content word is a common one
        # ("see", "who", 好) carries its meaning in the words around it. Matched by that word
        # alone, "see the plan" would find "see you" whole; so such an example holds the whole
        # phrase too, as a heavy token a question has only when it holds all of it.
        self._phrases: set[str] = set()
        tokens = [self.tokenizer.tokens(e.normalized) for e in self.examples]
        users: dict[str, set[str]] = defaultdict(set)
        # the meta area (small talk, the bot): a word policy topics use too is not its meaning
        about_chat = [e.intent.startswith("meta.") for e in self.examples]
        for e, found, chat in zip(self.examples, tokens, about_chat, strict=True):
            for t in found if not chat else ():
                users[t].add(e.intent)
        for e, found, chat in zip(self.examples, tokens, about_chat, strict=True):
            phrase = self._phrase(e.normalized) if chat else ""
            if phrase and all(len(users.get(t, ())) > COMMON for t in found):
                self._phrases.add(phrase)
                found.add(PHRASE + phrase)
        n = max(len(kb.intents), 1)
        self._index = IntentIndex(
            [(e.intent, frozenset(found)) for e, found in zip(self.examples, tokens, strict=True)],
            lambda t, having: TYPE_WEIGHT[t[:2]] * math.log(1 + n / having))
        self._weight = self._index.weight
        self._unknown = math.log(1 + n) * UNKNOWN_FACTOR
        self._vocab = sorted({t[2:] for t in self._weight if t.startswith(WORD)})
        self._vocab_set = set(self._vocab)
        self._vocab_by_initial: dict[str, list[str]] = defaultdict(list)
        for w in self._vocab:
            self._vocab_by_initial[w[0]].append(w)
        self._typo_cache: dict[str, str] = {}

        # Keywords by their first characters, syllables or word: a message tries only those
        # whose start it contains, not every keyword of every intent.
        self._keywords: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
        for intent in kb.intents.values():
            for kw in intent.keywords:
                norm = self.normalize(kw)
                if has_cjk(norm):
                    zh = norm.replace(" ", "")
                    self._keywords[zh[:2]].append(("zh", zh, intent.id))
                    syllables = pinyin_string(norm).split()
                    if syllables:
                        self._keywords[" ".join(syllables[:2])].append(
                            ("py", f" {' '.join(syllables)} ", intent.id))
                else:
                    words = self.tokenizer.words(norm)
                    if words:
                        self._keywords[words[0]].append(("en", f" {' '.join(words)} ", intent.id))


    # -- question side ---------------------------------------------------------------

    def normalize(self, text: str) -> str:
        return self.rewrite(normalize(text))

    def _phrase(self, normalized: str) -> str:
        """The whole of an example whose content is one word or character and whose other
        words are stop words ("see you" → " see you ", "你好" → "你好"); "" for any other."""
        zh, words = self.tokenizer.segments(normalized, strict=True)
        if len(zh) + len(words) != 1 or (zh and len(zh[0]) > 1):
            return ""
        if zh:
            whole = normalized.replace(" ", "")
            return whole if len(whole) > 1 and not self.tokenizer.words(normalized) else ""
        every = self.tokenizer.words(normalized)
        return f" {' '.join(every)} " if len(every) > 1 and not has_cjk(normalized) else ""

    def _phrase_tokens(self, compact: str, phrase: str) -> set[str]:
        return {PHRASE + p for p in self._phrases if p in (phrase if p[0] == " " else compact)}

    def _correct(self, word: str) -> str:
        if (word in self._vocab_set or len(word) < 4 or not word.isalpha()
                or self.tokenizer.is_stop_word(word)):
            return word  # known, too short to judge, or a stop word ("there" is no typo)
        hit = self._typo_cache.get(word)
        if hit is None:
            from rapidfuzz import fuzz, process  # 16 ms to import: only once a word is unknown
            from rapidfuzz.distance import OSA

            # Typos keep their first letter; a word that differs there is another word
            # ("driver" is not a misspelt "river").
            # A typo is an edit or two, not another word: "weather" is not a misspelt
            # "water", nor "turning" "training", however alike they look; a known word with
            # anything after it, as alike (ratio) as a typo, is that word: an ending
            # ("cleaner", "queueing") or a derivation ("reimbursement"). A list of endings
            # lost the derivations' scores, so it is not one; "router" is "route" either way.
            edits = 1 if len(word) < TYPO_LONG else 2
            hit = next((known for known, _, _ in process.extract(
                word, self._vocab_by_initial.get(word[0], ()), scorer=fuzz.ratio,
                score_cutoff=TYPO_CUTOFF, limit=3)
                if word.startswith(known) or OSA.distance(word, known) <= edits), word)
            if len(self._typo_cache) > 50_000:
                self._typo_cache.clear()
            self._typo_cache[word] = hit
        return hit

    def content_words(self, text: str) -> str:
        """What a question is about: its Chinese segments and English stems (typos corrected),
        stop words out (all of them: what is left may be nothing)."""
        zh, words = self.tokenizer.segments(self.normalize(text), strict=True)
        return " ".join([*zh, *(self._correct(w) for w in words)])

    def prepare(self, normalized: str) -> Query:
        """Tokens of an already-normalised question (see `normalize`), with their weights.

        A bigram we have never seen is an artefact of a word boundary, and counts for nothing,
        when its two characters both belong to known bigrams of the question (区一 in 高新区一共)
        or one of them is a function character such as 会 or 在 (区会, 会增 in 高新区会增加学位吗).
        Other unseen tokens are content we cannot explain and lower the score.
        """
        words = " ".join(self._correct(w) for w in self.tokenizer.words(normalized))
        tokens = self.tokenizer.tokens(normalized, self._correct)
        tokens |= self._phrase_tokens(normalized.replace(" ", ""), f" {words} ")
        weight, glue = self._weight, self._glue
        covered: dict[str, set[str]] = {CHAR: set(), PINYIN: set()}
        unseen = []
        for t in tokens:
            if t in weight:
                seen = covered.get(t[:2])
                if seen is not None:
                    seen.update(_units(t))
            else:
                unseen.append(t)
        glued = {PINYIN + " ".join(pinyin_of(c) for c in t[2:]) for t in unseen
                 if t.startswith(CHAR) and len(t) == 4 and (t[2] in glue or t[3] in glue)}
        weights = {}
        for t in tokens:
            w = weight.get(t)
            if w is None:
                units = _units(t)
                known: AbstractSet[str] = covered.get(t[:2], _NOTHING)
                boundary = (len(units) == 2 and all(u in known for u in units)) or (
                    t.startswith(CHAR) and any(u in glue for u in units)) or t in glued
                w = 0.0 if boundary else TYPE_WEIGHT[t[:2]] * self._unknown
            weights[t] = w
        return Query(normalized, weights, f" {pinyin_string(normalized)} ", f" {words} ")

    # -- scoring -----------------------------------------------------------------------

    def _keyword_hits(self, q: Query) -> set[str]:
        """The intents one of whose keywords occurs in the question (or its pinyin)."""
        compact, syllables, words = q.compact, q.pinyin.split(), q.phrase.split()
        keys = {*compact, *syllables, *words}  # one-character and one-syllable keywords too
        keys.update(compact[i:i + 2] for i in range(len(compact) - 1))
        keys.update(" ".join(syllables[i:i + 2]) for i in range(len(syllables) - 1))
        hits = set()
        for key in keys & self._keywords.keys():
            for kind, kw, intent in self._keywords[key]:
                if intent not in hits and kw in (compact if kind == "zh" else
                                                 q.pinyin if kind == "py" else q.phrase):
                    hits.add(intent)
        return hits

    def rank(self, q: Query, *, limit: int | None = None, floor: float = 0.0,
             exclude: int | None = None) -> list[Candidate]:
        """The `limit` best intents (all that share anything with the question if None), best
        first, scores 0–100; beyond the best two (whose lead decides), only those scoring at
        least `floor`. `exclude` leaves one example out (where would it go without itself?).

        An intent scores by how completely one of its examples is found in the question
        (so a short keyword-like example fully present counts) times how much of the
        question its examples explain together (so chatty questions whose parts match
        different examples of the same intent are not punished); a keyword adds a bonus.
        """
        ranked = self._index.rank(q.weights, self._keyword_hits(q), self.keyword_bonus,
                                  limit, floor, exclude)
        return [Candidate(s.intent, s.score, self.examples[s.example].text if s.example >= 0
                          else "") for s in ranked]

    def unknown_words(self, q: Query) -> list[str]:
        """The English words of the question no example has (typos corrected): "telescope"
        names something the knowledge base knows nothing of; a framing word ("planned", "there")
        names nothing, known or not."""
        return [t[2:] for t, w in q.weights.items()
                if t.startswith(WORD) and w > 0 and t not in self._weight
                and not self.tokenizer.is_stop_word(t[2:])]

    def score(self, q: Query, intent: str) -> float:
        """The score `rank` gives `intent` for the question (0 when it shares nothing)."""
        return self._index.score(q.weights, intent, intent in self._keyword_hits(q),
                                 self.keyword_bonus)

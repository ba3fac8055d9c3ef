"""The matcher: an inverted index over every example, scored by weighted token overlap.

Only examples that share a token with the question are scored, so the time per message
grows with the few examples that are relevant, not with the size of the knowledge base.
Weights are inverse intent frequencies: a token used by one intent says much more than
a token used by thirty.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from ..knowledge.base import KnowledgeBase
from .features import CHAR, PINYIN, WORD, Tokenizer, pinyin_string, stem
from .normalize import SynonymRewriter, has_cjk, normalize

TYPE_WEIGHT = {CHAR: 1.0, PINYIN: 0.5, WORD: 1.0}
UNKNOWN_FACTOR = 0.5  # an unseen token counts half as much as the rarest known one
QUERY_COVERAGE_EXPONENT = 0.5  # how much unexplained words in the question lower a score
TYPO_CUTOFF = 80  # rapidfuzz ratio for an unknown English word to count as a known one


@dataclass(frozen=True)
class Query:
    text: str  # normalised, synonyms applied
    tokens: frozenset[str]
    pinyin: str
    words: frozenset[str]


@dataclass(frozen=True)
class Candidate:
    intent: str
    score: float
    example: str
    keyword: bool


class Matcher:
    """Built once per knowledge base; `rank` is a pure function of the question."""

    def __init__(self, kb: KnowledgeBase) -> None:
        settings = kb.matching
        self.keyword_bonus = settings.keyword_bonus
        synonyms: dict[str, str] = {}
        for intent in kb.intents.values():
            synonyms.update(intent.synonyms)
        self._rewrite = SynonymRewriter(synonyms)
        self._tokenizer = Tokenizer(settings.stop_words.zh, settings.stop_words.en)

        self._ex_intent: list[str] = []
        self._ex_text: list[str] = []
        self._ex_tokens: list[frozenset[str]] = []
        for intent in kb.intents.values():
            for text in (*intent.examples.zh, *intent.examples.en):
                norm = self.normalize(text)
                self._ex_intent.append(intent.id)
                self._ex_text.append(text)
                self._ex_tokens.append(frozenset(self._tokenizer.tokens(norm)))

        intents_with: dict[str, set[str]] = defaultdict(set)
        self._postings: dict[str, list[int]] = defaultdict(list)
        for i, toks in enumerate(self._ex_tokens):
            for t in toks:
                intents_with[t].add(self._ex_intent[i])
                self._postings[t].append(i)
        n = max(len(kb.intents), 1)
        self._weight = {
            t: TYPE_WEIGHT[t[:2]] * math.log(1 + n / len(ids)) for t, ids in intents_with.items()
        }
        self._unknown = math.log(1 + n) * UNKNOWN_FACTOR
        self._ex_weight = [sum(self._weight[t] for t in toks) for toks in self._ex_tokens]
        self._vocab = sorted({t[2:] for t in self._weight if t.startswith(WORD)})
        self._vocab_set = set(self._vocab)
        self._typo_cache: dict[str, str] = {}

        self._keywords: dict[str, list[tuple[str, str]]] = {}
        for intent in kb.intents.values():
            kws = []
            for kw in intent.keywords:
                norm = self.normalize(kw)
                if has_cjk(norm):
                    kws.append(("zh", norm.replace(" ", "")))
                    kws.append(("py", f" {pinyin_string(norm)} "))
                else:
                    kws.append(("en", " ".join(stem(w) for w in norm.split())))
            self._keywords[intent.id] = kws

    # -- question side ---------------------------------------------------------------

    def normalize(self, text: str) -> str:
        return self._rewrite(normalize(text))

    def _correct(self, word: str) -> str:
        if word in self._vocab_set or len(word) < 4 or not word.isalpha():
            return word
        hit = self._typo_cache.get(word)
        if hit is None:
            best = process.extractOne(
                word, self._vocab, scorer=fuzz.ratio, score_cutoff=TYPO_CUTOFF
            )
            hit = best[0] if best else word
            if len(self._typo_cache) > 50_000:
                self._typo_cache.clear()
            self._typo_cache[word] = hit
        return hit

    def prepare(self, normalized: str) -> Query:
        """Tokens of an already-normalised question (see `normalize`)."""
        tokens = frozenset(self._tokenizer.tokens(normalized, self._correct))
        words = frozenset(t[2:] for t in tokens if t.startswith(WORD))
        return Query(normalized, tokens, f" {pinyin_string(normalized)} ", words)

    # -- scoring -----------------------------------------------------------------------

    def _keyword_hit(self, intent: str, q: Query) -> bool:
        compact = q.text.replace(" ", "")
        for kind, kw in self._keywords.get(intent, ()):
            if kind == "zh" and kw in compact:
                return True
            if kind == "py" and len(kw) > 2 and kw in q.pinyin:
                return True
            if kind == "en" and all(w in q.words for w in kw.split()):
                return True
        return False

    def rank(self, q: Query, *, exclude: int | None = None) -> list[Candidate]:
        """Intents sharing anything with the question, best first, scores 0–100."""
        if not q.tokens:
            return []
        shared: dict[int, float] = defaultdict(float)
        q_weight = 0.0
        for t in q.tokens:
            w = self._weight.get(t)
            if w is None:
                q_weight += TYPE_WEIGHT[t[:2]] * self._unknown
                continue
            q_weight += w
            for i in self._postings[t]:
                shared[i] += w
        best: dict[str, tuple[float, int]] = {}
        for i, s in shared.items():
            if i == exclude:
                continue
            score = (s / self._ex_weight[i]) * (s / q_weight) ** QUERY_COVERAGE_EXPONENT
            intent = self._ex_intent[i]
            if intent not in best or score > best[intent][0]:
                best[intent] = (score, i)
        out = []
        for intent in set(best) | {i for i in self._keywords if self._keyword_hit(i, q)}:
            score, ex = best.get(intent, (0.0, -1))
            hit = self._keyword_hit(intent, q)
            total = min(100.0, 100.0 * score + (self.keyword_bonus if hit else 0.0))
            out.append(Candidate(intent, round(total, 1), self._ex_text[ex] if ex >= 0 else "", hit))
        out.sort(key=lambda c: (-c.score, c.intent))
        return out

    # -- for validation ------------------------------------------------------------------

    def examples(self) -> list[tuple[str, str]]:
        return list(zip(self._ex_intent, self._ex_text, strict=True))

    def example_query(self, index: int) -> Query:
        return self.prepare(self.normalize(self._ex_text[index]))

    def mentions(self, intent: str, place: str) -> bool:
        """Whether an intent's own examples or keywords talk about `place`."""
        pattern = re.compile(
            re.escape(place) if has_cjk(place) else rf"(?<![a-z]){re.escape(place)}(?![a-z])"
        )
        texts = [self.normalize(t) for i, t in self.examples() if i == intent]
        texts += [kw for _, kw in self._keywords.get(intent, ())]
        return any(pattern.search(t) for t in texts)

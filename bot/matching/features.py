"""Normalised text → the tokens it is compared by.

Chinese has no spaces, so it is compared by character bigrams (robust to word boundaries
and to a wrong character) plus their pinyin (robust to homophone typos, the most common
kind in Chinese input methods). English is compared by stemmed words without stop words.
Loading a segmenter such as jieba would cost half a second at start-up for little gain.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from functools import lru_cache

from .normalize import CJK

os.environ.setdefault("PYPINYIN_NO_PHRASES", "true")  # 30 ms to load instead of ~1 s

_RUNS = re.compile(f"[{CJK}]+|[a-z0-9][a-z0-9']*")
_CJK_RUN = re.compile(f"^[{CJK}]")
_CJK_CHAR = re.compile(f"[{CJK}]")

CHAR, PINYIN, WORD, PREFIX = "c:", "p:", "w:", "f:"
PHRASE = "s:"  # a whole short example, stop words and all (see Matcher._phrase)
PREFIX_LEN = 5  # "certified"/"certification", "enrol"/"enrolment" share their first letters


# Syllables of the characters seen so far (at most the ~28,000 of the CJK blocks). A cached
# engine brings those of its knowledge base, so pypinyin (~60 ms to import) is loaded only
# when a message holds a character the knowledge base does not.
_PINYIN: dict[str, str] = {}


def pinyin_of(ch: str) -> str:
    """The toneless syllable of one Chinese character."""
    syllable = _PINYIN.get(ch)
    if syllable is None:
        from pypinyin import Style, lazy_pinyin

        syllable = _PINYIN[ch] = lazy_pinyin(ch, style=Style.NORMAL)[0]
    return syllable


def known_pinyin() -> dict[str, str]:
    """The syllables looked up so far, to keep beside a cached engine."""
    return dict(_PINYIN)


def learn_pinyin(table: dict[str, str]) -> None:
    """Syllables looked up by another process (the one that built a cached engine)."""
    _PINYIN.update(table)


def pinyin_string(text: str) -> str:
    """The Chinese characters of `text` as space-separated toneless syllables."""
    return " ".join(map(pinyin_of, _CJK_CHAR.findall(text)))


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A deliberately light English stemmer: plurals and possessives only."""
    if word.endswith("'s"):
        word = word[:-2]
    word = word.strip("'")
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("ches", "shes", "sses", "xes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


class Tokenizer:
    """Splits normalised text into weighted-comparison tokens."""

    def __init__(self, zh_stop: Iterable[str], en_stop: Iterable[str]) -> None:
        stops = sorted({s for s in zh_stop if s}, key=len, reverse=True)
        self._zh_stop = re.compile("|".join(re.escape(s) for s in stops)) if stops else None
        self._en_stop = {stem(w.lower()) for w in en_stop}

    def segments(self, text: str, strict: bool = False) -> tuple[list[str], list[str]]:
        """Chinese segments (split at stop words) and English word stems.

        A message made only of stop words keeps them (they are all it has to match by),
        unless `strict`: then only content is returned, possibly nothing.
        """
        zh: list[str] = []
        runs: list[str] = []
        words: list[str] = []
        for run in _RUNS.findall(text):
            if _CJK_RUN.match(run):
                parts = self._zh_stop.split(run) if self._zh_stop else [run]
                zh.extend(p for p in parts if p)
                runs.append(run)
            else:
                words.append(stem(run))
        content = [w for w in words if w not in self._en_stop]
        if strict or zh or content:
            return zh, content
        return runs, words

    def content(self, text: str) -> list[str]:
        """The content words of `text`, stop words out: empty when it names nothing."""
        zh, words = self.segments(text, strict=True)
        return [*zh, *words]

    def is_stop_word(self, word: str) -> bool:
        return word in self._en_stop

    def words(self, text: str) -> list[str]:
        """Every English word stem, stop words included (keywords are matched as phrases)."""
        return [stem(run) for run in _RUNS.findall(text) if not _CJK_RUN.match(run)]

    def tokens(self, text: str, correct: Callable[[str], str] | None = None) -> set[str]:
        zh, words = self.segments(text)
        out: set[str] = set()
        for seg in zh:
            syll = [pinyin_of(ch) for ch in seg]
            if len(seg) == 1:
                out.add(CHAR + seg)
                out.add(PINYIN + syll[0])
                continue
            for i in range(len(seg) - 1):
                out.add(CHAR + seg[i : i + 2])
                out.add(PINYIN + syll[i] + " " + syll[i + 1])
        for w in words:
            w = correct(w) if correct else w
            out.add(WORD + w)
            if len(w) >= PREFIX_LEN and w.isalpha():
                out.add(PREFIX + w[:PREFIX_LEN])
        return out

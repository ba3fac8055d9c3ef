"""Make what people type comparable: width, case, 繁體, punctuation, spacing.

Applied identically to questions, examples and keywords, so matching never depends on how
a user's keyboard happened to encode a character.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from functools import cache

import opencc

CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_RE = re.compile(f"[{CJK}]")
_SPACES = re.compile(r"\s+")
_CJK_THEN_LATIN = re.compile(f"([{CJK}])([a-z0-9])")
_LATIN_THEN_CJK = re.compile(f"([a-z0-9])([{CJK}])")
_POSSESSIVE = re.compile(r"(?<=[a-z])['’]s\b")  # zone's → zone
_ELISION = re.compile(r"(?<=[a-z])['’](?=[a-z])")  # don't → dont, one word


@cache
def _converter() -> opencc.OpenCC:
    # Created once: building the converter costs milliseconds, using it a microsecond.
    return opencc.OpenCC("t2s")


class _Blanks(dict[int, int]):
    """What `str.translate` makes of each character: a space for punctuation, symbols
    (emoji), separators, control and zero-width characters, else itself. Filled as characters
    are met, so a message costs one pass in C instead of a Python call per character."""

    LIMIT = 20_000  # characters remembered: the few thousand people type, not all of Unicode

    def __missing__(self, code: int) -> int:
        cat = unicodedata.category(chr(code))
        value = 32 if cat[0] in "PSZ" or cat in ("Cc", "Cf", "Co", "Cn", "Cs") else code
        if len(self) < self.LIMIT:
            self[code] = value
        return value


_BLANKS = _Blanks()


def normalize(text: str) -> str:
    """Lower-case, simplified, punctuation-free text with words separated by one space."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = _converter().convert(text)
    text = _ELISION.sub("", _POSSESSIVE.sub("", text))
    text = text.translate(_BLANKS)
    text = _CJK_THEN_LATIN.sub(r"\1 \2", text)
    text = _LATIN_THEN_CJK.sub(r"\1 \2", text)
    return _SPACES.sub(" ", text).strip()


def is_traditional(text: str) -> bool:
    """Whether `text` is written (at least partly) in traditional characters."""
    cjk = "".join(_CJK_RE.findall(text))
    return bool(cjk) and _converter().convert(cjk) != cjk


def has_cjk(text: str) -> bool:
    return _CJK_RE.search(text) is not None


def term_pattern(term: str) -> str:
    """Regex for a normalised term: anywhere in Chinese text, a whole word in Latin text.

    The word-start check comes after the term (a fixed-width look-behind), so that in an
    alternation of hundreds of terms every branch starts with its literal and the regex engine
    skips, at each position, the branches whose first character is not there."""
    escaped = re.escape(term)
    return escaped if has_cjk(term) else rf"{escaped}(?<![a-z0-9]{escaped})(?![a-z0-9])"


def term_prefix(term: str) -> str:
    """Regex for what someone is typing: anywhere in Chinese, a word's beginning in Latin."""
    escaped = re.escape(term)
    return escaped if has_cjk(term) else rf"(?<![a-z0-9]){escaped}"


class SynonymRewriter:
    """Rewrite variant words into the canonical words the examples use."""

    def __init__(self, synonyms: Mapping[str, str]) -> None:
        pairs = {normalize(k): normalize(v) for k, v in synonyms.items()}
        self._map = {k: v for k, v in pairs.items() if k and k != v}
        parts = [term_pattern(v) for v in sorted(self._map, key=len, reverse=True)]
        self._re = re.compile("|".join(parts)) if parts else None

    def __call__(self, text: str) -> str:
        if self._re is None:
            return text
        return self._re.sub(lambda m: self._map[m.group(0)], text)

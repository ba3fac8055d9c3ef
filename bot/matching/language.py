"""Which language a message is (mostly) written in."""

from __future__ import annotations

import re

from .normalize import CJK

_CJK_CHAR = re.compile(f"[{CJK}]")
_LATIN_WORD = re.compile(r"[a-z]+")
# Scripts we do not speak: kana, hangul, cyrillic, greek, arabic, hebrew, thai, devanagari...
_OTHER = re.compile(
    r"[\u3040-\u30ff\uac00-\ud7af\u1100-\u11ff\u0400-\u04ff\u0370-\u03ff"
    r"\u0590-\u05ff\u0600-\u06ff\u0e00-\u0e7f\u0900-\u097f]"
)
_KANA = re.compile(r"[\u3040-\u30ff]")


def detect_language(text: str) -> str | None:
    """'zh', 'en', 'other' (a language we do not speak) or None (no words at all).

    A Chinese character carries about as much as half an English word, so a mixed
    message counts as Chinese when it has at least two characters per English word.
    """
    cjk = len(_CJK_CHAR.findall(text))
    words = len(_LATIN_WORD.findall(text))
    other = len(_OTHER.findall(text))
    if _KANA.search(text) or other > cjk + words:
        return "other"
    if cjk == 0 and words == 0:
        return None
    return "zh" if cjk >= 2 * words else "en"

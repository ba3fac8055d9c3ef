"""Which language a user reads, and every text in it.

Content is written once per content language (the zh and en of every YAML text); a display
language such as 繁體中文 is derived from one by OpenCC conversion, applied to the finished reply,
so the engine decides in the content language and nothing is written twice.
"""

from __future__ import annotations

from dataclasses import replace
from functools import cache
from typing import TYPE_CHECKING, TypeGuard

import opencc

from ..knowledge.base import KnowledgeBase
from ..knowledge.records import Lang
from .replies import LinkOut, Option, Reply

if TYPE_CHECKING:
    from ..knowledge.schema import Area, LangText, Topic


@cache
def _converter(config: str) -> opencc.OpenCC:
    return opencc.OpenCC(config)


class Displays:
    def __init__(self, kb: KnowledgeBase) -> None:
        self._languages = kb.languages
        self.default = kb.default_language
        self.others = kb.other_language
        self._telegram = sorted(((code, lang) for lang, spec in kb.languages.items()
                                 for code in spec.telegram), key=lambda c: -len(c[0]))

    @property
    def codes(self) -> list[str]:
        return list(self._languages)

    def name(self, code: str) -> str:
        return self._languages[code].name

    def known(self, code: str | None) -> TypeGuard[str]:
        return code in self._languages

    def content(self, code: str) -> Lang:
        """The content language a display language is written in (zh for 繁體中文)."""
        return self._languages[code].content if code in self._languages else "zh"

    def for_telegram(self, language_code: str | None) -> str:
        """The display language a Telegram app language picks (zh-TW → zh-hant)."""
        code = (language_code or "").lower()
        return next((lang for prefix, lang in self._telegram
                     if code == prefix or code.startswith(prefix + "-")), self.others)

    def for_message(self, content: Lang, traditional: bool, prefer: str | None) -> str:
        """The display language for a message in `content`: written in traditional characters,
        or the user's app asks for a variant of that language, else its plain form."""
        variants = [c for c, spec in self._languages.items() if spec.content == content]
        if traditional:
            written = [c for c in variants if self._languages[c].traditional]
            if written:
                return written[0]
        if prefer in variants:
            return prefer
        plain = [c for c in variants if self._languages[c].convert is None]
        return (plain or variants or [self.default])[0]

    def convert(self, text: str, code: str) -> str:
        spec = self._languages.get(code)
        if spec is None or spec.convert is None:
            return text
        return _converter(f"{spec.convert}.json").convert(text)

    def text(self, value: LangText | Area | Topic, code: str) -> str:
        """A text written once per content language, in display language `code`."""
        return self.convert(getattr(value, self.content(code)), code)

    def localize(self, reply: Reply, code: str) -> Reply:
        """The finished reply in display language `code`."""
        if self._languages.get(code) is None or self._languages[code].convert is None:
            return replace(reply, display=code)
        c = self.convert
        return replace(
            reply, display=code, text=c(reply.text, code),
            title=c(reply.title, code) if reply.title else reply.title,
            links=[LinkOut(c(link.title, code), link.url) for link in reply.links],
            options=[Option(o.intent, c(o.title, code)) for o in reply.options])

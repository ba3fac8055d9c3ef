"""What the engine hands back: one adapter-neutral Reply, rendered by Telegram, console and CLI."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

from ..knowledge.records import Lang

Kind = Literal["answer", "clarify", "fallback"]


@dataclass(frozen=True)
class LinkOut:
    title: str
    url: str


@dataclass(frozen=True)
class Option:
    intent: str
    title: str


@dataclass(frozen=True)
class Reply:
    """What the user gets: `text` is exactly what they read; links and options are buttons."""

    kind: Kind
    lang: Lang
    text: str
    intent: str | None = None
    score: float = 0.0
    title: str | None = None
    links: list[LinkOut] = field(default_factory=list)
    options: list[Option] = field(default_factory=list)
    unanswered: bool = False  # a real question we had no answer for: worth showing the team
    # the kind of request declined, focused on or asked back; on an answer given for a
    # request (one its answer covers, or the `otherwise` answer), that request: read with
    # another topic in context, `in_context` declines it for that topic
    request: str | None = None
    small_talk: bool = False  # greetings, thanks, goodbyes: a short plain text, no controls
    display: str = ""  # the language the user reads it in (zh-hant for 繁體); `lang` is its content

    def to_json(self, question: str) -> dict:
        data = asdict(self)
        return {
            "question": question,
            "lang": self.lang,
            "kind": self.kind,
            "intent": self.intent,
            "score": self.score,
            "text": self.text,
            "links": data["links"],
            "options": data["options"],
        }

"""The loaded knowledge base: immutable, so a reload can swap it in one step.

Its entries are records (records.py) with the fields of the schema models named in the
annotations: the models validate, the records are what is kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from .records import Lang

if TYPE_CHECKING:
    from .schema import (
        Answer,
        Area,
        EmergencyNumber,
        Fact,
        Hotline,
        Intent,
        Language,
        Link,
        MatchingFile,
        Messages,
        Topic,
        UnderstandingFile,
    )


class Location(NamedTuple):
    """Where an entry was written. A tuple: a knowledge base holds tens of thousands, and a
    cached engine unpickles tuples several times faster than dataclass instances."""

    file: str
    line: int | None


@dataclass(frozen=True)
class KnowledgeBase:
    root: Path
    intents: dict[str, Intent]
    answers: dict[str, Answer]
    links: dict[str, Link]
    hotline: Hotline
    facts: dict[str, Fact]
    areas: dict[str, Area]
    topics: dict[str, Topic]
    messages: Messages
    matching: MatchingFile
    understanding: UnderstandingFile
    request_examples: list[tuple[str, str, str]]  # message, request kind or none, topic
    emergency_examples: list[tuple[str, str, str]]  # message, emergency or none, topic
    emergency_numbers: dict[str, EmergencyNumber]
    languages: dict[str, Language]
    default_language: str
    other_language: str
    plan: str
    where: dict[str, Location] = field(default_factory=dict, repr=False)

    # Where entries were written, and the labelled messages the learnt readers came from,
    # serve loading and building only: a cached engine (bot/cache.py) is stored without them,
    # which makes a start ~25 ms faster. Its errors come from a fresh load, never from it.
    # The answers' places are kept: /stale names the file and line of each old answer.
    _NOT_CACHED = ("where", "request_examples", "emergency_examples")

    def __getstate__(self) -> dict[str, object]:
        state = {k: v for k, v in self.__dict__.items() if k not in self._NOT_CACHED}
        state["where"] = {k: v for k, v in self.where.items() if k.startswith("answer:")}
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update({"request_examples": [], "emergency_examples": []}, **state)

    def title(self, intent_id: str, lang: Lang) -> str:
        """A human title: the answer's own, else its topic's, else the id."""
        answer = self.answers.get(intent_id)
        if answer is not None and answer.title is not None:
            return answer.title.get(lang)
        topic = self.topic_of(intent_id)
        return getattr(topic, lang) if topic else intent_id

    def topic_id(self, intent_id: str) -> str:
        """The id of the intent's topic, or its own where it has none."""
        topic = self.topic_of(intent_id)
        return topic.id if topic else intent_id

    def topic_of(self, intent_id: str) -> Topic | None:
        """The topic an intent belongs to: its own id or the longest topic-id prefix."""
        parts = intent_id.split(".")
        for end in range(len(parts), 1, -1):
            topic = self.topics.get(".".join(parts[:end]))
            if topic is not None:
                return topic
        return None

    def intents_of_topic(self, topic_id: str) -> list[str]:
        return [i for i in self.intents if i == topic_id or i.startswith(topic_id + ".")]

    def menu_areas(self) -> list[str]:
        """Areas users browse: shown in menus and with at least one topic."""
        return [key for key, area in self.areas.items() if area.menu and self.topics_of_area(key)]

    def topics_of_area(self, area: str) -> list[Topic]:
        return [t for t in self.topics.values() if t.id.split(".", 1)[0] == area]

    def locate(self, kind: str, key: str, field: str | None = None) -> Location:
        """Where an entry (or one of its fields) was written: file and line."""
        entry = self.where.get(f"{kind}:{key}", Location("?", None))
        return self.where.get(f"{kind}:{key}.{field}", entry) if field else entry

"""The one schema every knowledge-base file is validated against.

Each file kind has a model; `policybot schema` exports them as JSON Schema so admins'
editors can check YAML while they type.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")

IntentId = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$", max_length=50),
    Field(description="Dotted id area.topic[.sub], lower case, e.g. talent.golden_panda"),
]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Phrase = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LangText(_Model):
    """The same text in both languages."""

    zh: Text
    en: Text

    def get(self, lang: Lang) -> str:
        return self.zh if lang == "zh" else self.en


class Examples(_Model):
    zh: list[Phrase] = Field(min_length=1, description="How people ask in Chinese")
    en: list[Phrase] = Field(min_length=1, description="How people ask in English")


class Intent(_Model):
    """What users say for one topic (intents/<area>.yaml)."""

    id: IntentId
    examples: Examples
    keywords: list[Phrase] = Field(
        default_factory=list, description="Distinctive terms of this topic only, any language"
    )
    synonyms: dict[Phrase, Phrase] = Field(
        default_factory=dict, description="variant → canonical word, applied before matching"
    )


class IntentsFile(_Model):
    intents: list[Intent] = Field(min_length=1)


class Answer(_Model):
    """What the bot says for one intent (content/answers/<area>.yaml)."""

    id: IntentId
    answer: LangText
    title: LangText | None = Field(
        default=None, description="Defaults to the topic title of content/topics.yaml"
    )
    plan: Phrase | None = Field(
        default=None, description="A phrase copied exactly from content/plan.zh.txt"
    )
    links: list[str] = Field(default_factory=list, description="Keys of content/links.yaml")
    follow_ups: list[IntentId] = Field(default_factory=list, max_length=4)
    facts: list[str] = Field(default_factory=list, description="Ids of content/facts.yaml")
    reviewed: dt.date


class AnswersFile(_Model):
    answers: list[Answer] = Field(min_length=1)


class Link(_Model):
    url: Annotated[str, StringConstraints(pattern=r"^https?://[^\s]+$")]
    zh: Text
    en: Text


class Hotline(_Model):
    phone: Annotated[str, StringConstraints(pattern=r"^[0-9+\- ]+$")]
    zh: Text
    en: Text


class LinksFile(_Model):
    links: dict[str, Link]
    hotline: Hotline


class Fact(_Model):
    id: str
    zh: Text
    en: Text


class FactsFile(_Model):
    facts: list[Fact]


class Area(_Model):
    zh: Text
    en: Text
    core: bool = False
    menu: bool = Field(default=True, description="Shown in /menu (false for small talk)")


class Topic(_Model):
    id: IntentId
    zh: Text
    en: Text


class TopicsFile(_Model):
    areas: dict[str, Area]
    topics: list[Topic]


class Messages(_Model):
    """Every interface string. Placeholders in braces are filled in by the bot."""

    welcome: LangText
    help: LangText
    about: LangText
    fallback: LangText = Field(description="No answer: {hotline} is filled in")
    other_place: LangText = Field(description="A question about another city: {place}")
    clarify: LangText
    did_you_mean: LangText
    empty: LangText
    unsupported_language: LangText
    source: LangText = Field(description="Source line under an answer: {passage}")
    console_intro: LangText
    menu_areas: LangText
    menu_topics: LangText = Field(description="{area} is filled in")
    back: LangText
    lang_prompt: LangText
    lang_set: LangText
    feedback_up: LangText
    feedback_down: LangText
    recorded: LangText
    button_expired: LangText
    non_text: LangText
    flood: LangText
    error: LangText
    unknown_command: LangText
    forget_done: LangText
    inline_hint: LangText
    cmd_start: LangText
    cmd_menu: LangText
    cmd_help: LangText
    cmd_lang: LangText
    cmd_about: LangText
    cmd_forget: LangText
    admin_reloaded: LangText = Field(description="{count}")
    admin_reload_failed: LangText
    admin_stats: LangText = Field(
        description="{days} {messages} {users} {answered} {clarified} {fallback}"
    )
    admin_top_intents: LangText
    admin_feedback: LangText
    admin_unanswered: LangText = Field(description="{days}")
    admin_stale: LangText = Field(description="{days}")
    admin_nothing: LangText
    admin_export: LangText


class MessagesFile(_Model):
    messages: Messages


class StopWords(_Model):
    zh: list[Phrase]
    en: list[Phrase]


class MatchingFile(_Model):
    """Matcher settings; thresholds are chosen with `policybot eval --sweep`."""

    answer_threshold: float = Field(ge=0, le=100)
    clarify_threshold: float = Field(ge=0, le=100)
    margin: float = Field(ge=0, le=100, description="Lead over the runner-up needed to answer")
    keyword_bonus: float = Field(ge=0, le=50)
    max_input_chars: int = Field(ge=20, le=5000)
    stop_words: StopWords
    other_places: list[Phrase] = Field(
        description="Other cities and regions: a question about them is not about our zone"
    )


FILE_MODELS: dict[str, type[BaseModel]] = {
    "intents": IntentsFile,
    "answers": AnswersFile,
    "links": LinksFile,
    "facts": FactsFile,
    "topics": TopicsFile,
    "messages": MessagesFile,
    "matching": MatchingFile,
}

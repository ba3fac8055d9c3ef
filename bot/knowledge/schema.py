"""The one schema every knowledge-base file is validated against.

Each file kind has a model; `policybot schema` exports them as JSON Schema so admins'
editors can check YAML while they type.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from .records import Lang

IntentId = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$", max_length=50),
    Field(description="Dotted id area.topic[.sub], lower case, e.g. talent.golden_panda"),
]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Phrase = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Pattern = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500),
    Field(description="A phrase; … is a short gap and (a|b) alternatives"),
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LangText(_Model):
    """The same text in both languages."""

    zh: Text
    en: Text

    def get(self, lang: Lang) -> str:
        """As LangRecord.get: the knowledge base holds LangRecords where this model is named."""
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
    places: list[Phrase] = Field(
        default_factory=list, description="Other places this topic is about (重庆 for "
        "Chengdu–Chongqing cooperation): naming one is no reason to decline"
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
    small_talk: bool = Field(
        default=False, description="Greetings, thanks, goodbyes: shown as a short plain text, "
        "without title, links or feedback buttons")
    covers: list[str] = Field(
        default_factory=list,
        description="Request kinds (where, when, eligibility, ...) this answer's text itself "
        "addresses, so a follow-up asking them gets the whole answer",
    )
    silent_on: list[str] = Field(
        default_factory=list,
        description="Aspects of content/understanding.yaml this answer (and the plan) says "
        "nothing about: a question naming one is told so first",
    )
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


class EmergencyNumber(_Model):
    number: Annotated[str, StringConstraints(pattern=r"^[0-9]{3,6}$")]
    zh: Text
    en: Text


class FactsFile(_Model):
    facts: list[Fact]
    emergency_numbers: list[EmergencyNumber] = Field(
        min_length=1, description="National service numbers, given first in an emergency"
    )


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
    about: LangText = Field(description="{days} of retention, {version}")
    fallback: LangText = Field(description="No answer: {hotline} is filled in")
    other_place: LangText = Field(description="A question about another city: {place}")
    clarify: LangText
    did_you_mean: LangText
    empty: LangText
    unsupported_language: LangText
    source: LangText = Field(description="Source line under an answer: {passage}")
    console_intro: LangText
    console_help: LangText
    console_no_option: LangText = Field(description="{count} options there are")
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
    flood: LangText = Field(description="{seconds} to wait")
    error: LangText
    unknown_command: LangText
    forget_done: LangText
    forget_confirm: LangText
    forget_yes: LangText
    forget_no: LangText
    forget_kept: LangText
    forget_failed: LangText
    share: LangText
    main_menu: LangText
    open_in_bot: LangText
    group_start: LangText = Field(description="{username}: how to ask in a group")
    bot_description: LangText
    bot_short_description: LangText
    help_admin: LangText
    admin_private_only: LangText
    admin_stats_usage: LangText
    admin_days_usage: LangText = Field(description="{command}")
    admin_added: LangText = Field(description="{count} {ids}")
    admin_removed: LangText = Field(description="{count} {ids}")
    admin_edited: LangText = Field(description="{count} {ids}")
    admin_unchanged: LangText
    admin_job_failed: LangText = Field(description="{error}")
    admin_db_problem: LangText = Field(description="{problem}")
    admin_stale_none: LangText = Field(description="{count} {days}")
    decline_topic: LangText = Field(description="{reason} {title} {hotline}")
    decline_general: LangText = Field(description="{reason} {hotline}")
    instead_topic: LangText = Field(
        description="After the `otherwise` answer given for a topic: {title}, its links below")
    emergency: LangText = Field(description="{numbers}: the emergency numbers, first")
    emergency_number: LangText = Field(description="One number: {number} {service}")
    list_separator: LangText = Field(description="Between items of a list in running text")
    silent_on: LangText = Field(description="{aspects}: what the plan does not mention")
    none_of_these: LangText
    brief: LangText = Field(description="A follow-up on an aspect: {title} {passage}")
    cmd_start: LangText
    cmd_menu: LangText
    cmd_help: LangText
    cmd_lang: LangText
    cmd_about: LangText
    cmd_forget: LangText
    cmd_reload: LangText
    cmd_stats: LangText
    cmd_unanswered: LangText
    cmd_export: LangText
    cmd_stale: LangText
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


class Language(_Model):
    """A language users read: a content language, or one derived from it (繁體 from 简体)."""

    name: Text = Field(description="As the /lang button shows it, in the language itself")
    content: Lang
    convert: Literal["s2t", "s2tw", "s2twp", "s2hk"] | None = Field(
        default=None, description="OpenCC conversion from the content language")
    traditional: bool = Field(default=False,
                              description="A message written in traditional characters picks it")
    telegram: list[Annotated[str, StringConstraints(pattern=r"^[a-z]{2}(-[a-z]+)?$")]] = Field(
        default_factory=list, description="Telegram language codes that pick it (lower case)")


class LanguagesFile(_Model):
    languages: dict[Annotated[str, StringConstraints(pattern=r"^[a-z]{2}(-[a-z]+)?$")],
                    Language] = Field(min_length=1)
    default: str = Field(description="The console without --lang; a message with no words")
    others: str = Field(description="A Telegram app in another language; a message in a "
                        "language the bot does not speak")


class MessagesFile(_Model):
    messages: Messages


class RequestKind(_Model):
    """What a message asks of its topic, recognised by phrases (see docs/knowledge-base.md)."""

    serve: Literal["answer", "decline"] = Field(
        description="answer: the topic's answer serves it (it says what the plan gives); "
        "decline: no answer can, and the bot says so for the topic asked about"
    )
    zh: list[Pattern] = Field(default_factory=list)
    en: list[Pattern] = Field(default_factory=list)
    unless: list[Pattern] = Field(
        default_factory=list, description="Phrases that veto a match they overlap"
    )
    takes_over: list[str] = Field(
        default_factory=list, description="Request kinds whose matches this kind's matches "
        "replace where they overlap (an office's number is whom to call, not a person's "
        "details)")
    whole: bool = Field(default=False, description="Only a whole message counts (\"ok\")")
    asked_only: bool = Field(
        default=False, description="Counts only in what is asked, not in a story told before "
        "the question (\"I paid 2000 rmb for my licence. Is there a one-stop office?\")")
    reason: LangText | None = Field(
        default=None, description="decline: what the bot cannot do or tell, and why"
    )
    otherwise: IntentId | None = Field(
        default=None, description="decline: the intent answered instead when no topic is "
        "named (meta.contact for \"give me a phone number\")"
    )
    for_topic: bool = Field(
        default=False, description="With a topic named or in context, the `otherwise` answer "
        "too, opened by the reason, with that topic's links and button (\"找哪个部门问\")"
    )
    alone_for_topic: bool = Field(
        default=False, description="Said alone with a topic in context (\"电话多少\" after an "
        "answer), the `otherwise` answer as `for_topic` gives it; a message naming more "
        "(\"that firm's phone number\") keeps the decline"
    )
    ask: LangText | None = Field(
        default=None, description="answer: the question back when no topic is named"
    )
    small_talk: IntentId | None = Field(
        default=None, description="answer, for a message making only this request: with a "
        "topic in context it is this small talk (\"ok\" after an answer acknowledges it, "
        "as thanks do), answered in the words of `ask`"
    )
    focus: LangText | None = Field(
        default=None, description="answer: a follow-up's opening when the topic's answer does "
        "not cover this ask: {title} {passage} {hotline}"
    )
    follow_up: bool = Field(
        default=True, description="Whether a message making only this request, with a topic "
        "in context, asks more about that topic (not for \"ok\")"
    )


class Emergency(_Model):
    """Messages describing an emergency get these numbers before anything else."""

    numbers: list[str] = Field(min_length=1, description="Numbers of facts.emergency_numbers")
    zh: list[Pattern] = Field(default_factory=list)
    en: list[Pattern] = Field(default_factory=list)
    unless: list[Pattern] = Field(default_factory=list)


class EmergencyOver(_Model):
    """A story of an emergency that is over ("上个月心梗住院 现在出院了") is none now."""

    over: list[Pattern] = Field(description="Words saying the event is past and dealt with "
                                "(出院了, all fixed now): the message is no emergency...")
    now: list[Pattern] = Field(description="...unless it also says it is happening again or "
                               "right now (又, 刚才, again, just now)")


class Disavowals(_Model):
    """What the user says they do not ask ("不用帮我申请", "not asking you to do it for me")
    before asking what they do: a request the plan cannot serve, found there, is not made."""

    phrases: list[Pattern] = Field(description="Words that disavow what follows them")
    unless: list[Pattern] = Field(default_factory=list, description="Phrases that veto one "
                                  "they overlap (是不是要 asks; 不是要 disavows)")
    reach: int = Field(ge=0, le=40, description="How many characters after the disavowing "
                       "words a request may start and still be the one disavowed")


class Places(_Model):
    other: list[Pattern] = Field(
        description="Other cities, regions, countries and Chengdu districts: a question about "
        "them is not about our zone"
    )
    zone: list[Pattern] = Field(
        default_factory=list,
        description="Names of our zone (高新区, the zone): a message naming it asks about it, "
        "other places being where the asker comes from or what they compare with; a short one "
        "(\"who runs the zone\") is not kept on the topic in context for a word they share"
    )
    ours: list[Pattern] = Field(
        description="Other words for our side (这边, here, 成都), read as `zone` is for scope"
    )
    about: list[Pattern] = Field(
        description="Phrases with {place} that ask about that place all the same (深圳高新区)"
    )
    origin: list[Pattern] = Field(
        description="Phrases with {place} that say where the asker comes from or what they "
        "compare with: the question is still about our zone"
    )


class Aspect(_Model):
    """A part of a question an answer may be silent on (kindergartens, foreigners, ...)."""

    zh: Text = Field(description="Its name as a reply says it")
    en: Text
    terms: list[Pattern] = Field(min_length=1)
    requirement: bool = Field(
        default=False, description="What a topic may require (社保, 户口, a degree): a follow-up "
        "naming only such aspects (\"要交社保吗\", \"do I need social insurance?\") asks it of "
        "the topic in context, however well another topic matches the words")


class ConversationSettings(_Model):
    """How a message is read with the topic of the conversation in context."""

    expire_minutes: float = Field(gt=0, description="How long a topic stays in context")
    openers: list[Pattern] = Field(
        description="Words that open a follow-up (那, 那么, and, what about): at the start only"
    )
    fillers: list[Pattern] = Field(
        default_factory=list,
        description="Words that may come before an opener at the start of a message (ok, 好的, "
        "oh: \"ok 那国际社区呢\" opens a switch as \"那国际社区呢\" does)",
    )
    closers: list[Pattern] = Field(
        default_factory=list,
        description="Words that make a follow-up of what comes before them when they end a "
        "message (\"中日那个呢\", \"国企那边呢\": a switch to what they name; the reference word "
        "in them points back at nothing)",
    )
    references: list[Pattern] = Field(
        description="Words that point back at the topic in context (它, it, there): anywhere"
    )
    leading_references: list[Pattern] = Field(
        default_factory=list,
        description="Words that point back at the topic in context when they start a message "
        "(\"for international students?\": does it hold for them?)",
    )
    trailing_references: list[Pattern] = Field(
        default_factory=list,
        description="Words that point back at the topic in context when they end a message "
        "(\"for sole traders too?\", \"租房的也可以吗\": does it hold for them as well?); "
        "elsewhere they mean other things (\"too far\")",
    )
    seeking: list[Pattern] = Field(
        default_factory=list,
        description="Asking what support exists for something (有没有…政策, is there any help "
        "for …): a clear new question, which the topic in context does not keep when "
        "another topic matches it from `seeking_score`",
    )
    seeking_score: float = Field(default=100.0, ge=0, le=100, description="From this score "
                                 "of its own best topic, a short message that asks what "
                                 "support exists is a new question, not a follow-up")
    questions: list[Pattern] = Field(
        default_factory=list,
        description="Words that make a message a question (吗, 几, 哪, how, is there): a "
        "short question that matches nothing well is asked about the topic in context",
    )
    addressing: list[Pattern] = Field(
        default_factory=list,
        description="Words that speak to the bot (你, you, bot): a short message with the topic "
        "in context that matches a question about the bot is about the bot only with one",
    )
    short: int = Field(ge=1, le=300, description="A follow-up is at most this long "
                       "(Chinese characters; English words count twice)")
    switch_score: float = Field(ge=0, le=100, description="With a reference back, another "
                                "topic takes over only from this score")
    stay_score: float = Field(ge=0, le=100, description="A short message with no opener that "
                              "the topic in context scores `affinity` for stays on it when "
                              "another topic scores below this")
    tiny: int = Field(default=0, ge=0, le=300, description="A question this short (\"how "
                      "large\", \"多大呢\") with no opener stays on the topic in context when "
                      "another topic scores below `stay_score`, whether the topic explains it "
                      "or not")
    affinity: float = Field(ge=0, le=100, description="A short message with nothing else to "
                            "mark it as a follow-up is one when the topic in context scores "
                            "this much for it")
    stand_alone: list[IntentId] = Field(
        default_factory=list, description="Meta answers that stand on their own with a topic in "
        "context (\"who do I call then\" asks for the contact answer, not the topic's)")
    switch_lead: float = Field(default=3.0, ge=1, description="A switch (\"那融资呢\") that "
                               "no topic matches well enough to answer gets its best topic "
                               "when that scores this many times the next one")


class GuessSettings(_Model):
    """How request kinds are learnt from content/request_examples.yaml (the probability from
    which a learnt one counts is `guess_threshold` in matching.yaml, with the other thresholds)."""

    min_topics: int = Field(ge=1, le=100, description="A word or character pair counts as "
                            "part of how a request is framed when it occurs with this many "
                            "topics; rarer ones name the topic, not the request")
    emergency_min_messages: int = Field(ge=1, le=100, description="For learning emergencies: "
                                        "a word or character pair counts from this many "
                                        "labelled messages (emergencies name no topic)")
    emergency_threshold: float = Field(ge=0.5, le=1, description="A message no emergency "
                                       "phrase finds is one from this learnt probability up")


class UnderstandingFile(_Model):
    """What is asked, where, and how urgently: read beside the topic ranking."""

    requests: dict[str, RequestKind]
    emergencies: dict[str, Emergency]
    emergency_over: EmergencyOver
    disavowals: Disavowals
    places: Places
    aspects: dict[str, Aspect]
    conversation: ConversationSettings
    guess: GuessSettings
    generic: list[Pattern] = Field(
        description="Words that name no topic on their own (办理, 材料, it): a message of only "
        "these and a request is a fragment"
    )


class LabelledMessage(_Model):
    """A message labelled with what it makes: a request kind no answer serves
    (request_examples.yaml) or the emergency it describes (emergency_examples.yaml); `none`
    for neither."""

    q: Text
    kind: str = Field(description="A request kind or an emergency of understanding.yaml, as "
                      "the file says, or none")
    topic: str = Field(description="The topic id it is about, or none")


class LabelledMessagesFile(_Model):
    """Messages a learnt reader learns from, written apart from the eval sets."""

    examples: list[LabelledMessage]


class StopWords(_Model):
    zh: list[Phrase]
    en: list[Phrase]


class MatchingFile(_Model):
    """Matcher settings; thresholds are chosen with `policybot eval --sweep`."""

    answer_threshold: float = Field(ge=0, le=100)
    clarify_threshold: float = Field(ge=0, le=100)
    margin: float = Field(ge=0, le=100, description="Lead over the runner-up needed to answer")
    choose_threshold: float = Field(
        default=100, ge=0, le=100, description="Below clarify_threshold, a topic from this "
        "score up is answered where the learnt topic guess names it (see topic_guess_threshold)"
    )
    lead_threshold: float = Field(
        ge=0, le=100, description="Below answer_threshold, a best topic from this score up is "
        "answered when it scores lead_ratio times the runner-up"
    )
    lead_ratio: float = Field(ge=1, le=100, description="See lead_threshold")
    clarify_spread: float = Field(
        ge=0, le=100, description="A clarify offers topics at most this far below the best"
    )
    decline_topic_threshold: float = Field(
        ge=0, le=100, description="A decline names the best topic from this score up"
    )
    guess_threshold: float = Field(
        ge=0.5, le=1, description="A learnt request no answer serves (understanding.yaml, "
        "`guess`) counts from this probability up, where no phrase names a request"
    )
    guess_over_answer_threshold: float = Field(
        ge=0.5, le=1, description="...and from this one up where a phrase names only requests "
        "an answer serves (\"排了多久了\" names `when`, yet asks for live data)"
    )
    topic_guess_threshold: float = Field(
        default=1.0, ge=0.5, le=1, description="Where a clarify would offer close topics, the "
        "one the learnt topic guess names is answered from this probability up"
    )
    topic_guess_unless: float = Field(
        default=0.5, ge=0, le=1, description="...unless a learnt request no answer serves is "
        "at least this likely (a topic known is no reason to answer what it cannot serve)"
    )
    small_talk_order: list[IntentId] = Field(
        default_factory=list, description="Where only small talk is close, the first of "
        "these among it is answered (thanks on leaving is a goodbye)")
    guess_strong_score: float = Field(
        default=100.0, ge=0, le=100, description="From this score of the best topic, a "
        "learnt request no answer serves counts only from guess_strong_threshold")
    guess_strong_threshold: float = Field(
        default=0.0, ge=0, le=1, description="How likely a learnt request must be to decline "
        "a message whose topic scores guess_strong_score or more")
    keyword_bonus: float = Field(ge=0, le=50)
    max_input_chars: int = Field(ge=20, le=5000)
    stop_words: StopWords
    glue_chars: str = Field(
        default="", description="Function characters (会, 在, 想…): an unseen "
        "bigram holding one is a word boundary, not content the question has and we lack"
    )
    spellings: dict[Phrase, Phrase] = Field(
        default_factory=dict, description="Spelling variants of any topic (British: centre, "
        "programme) and the spelling the examples use, rewritten like an intent's synonyms"
    )


FILE_MODELS: dict[str, type[BaseModel]] = {
    "intents": IntentsFile,
    "answers": AnswersFile,
    "links": LinksFile,
    "facts": FactsFile,
    "topics": TopicsFile,
    "messages": MessagesFile,
    "matching": MatchingFile,
    "understanding": UnderstandingFile,
    "request_examples": LabelledMessagesFile,
    "emergency_examples": LabelledMessagesFile,
    "languages": LanguagesFile,
}

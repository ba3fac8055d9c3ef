"""One message → what it asks, where, and how urgently (beside the topic ranking)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple, Protocol

from ..matching.normalize import CJK, normalize
from .guess import NONE, Guess, KindGuesser, TopicGuesser, frame_features
from .patterns import PhraseIndex, Span, compact, overlaps, unvetoed
from .requests import Request, Requests
from .scope import Scope

if TYPE_CHECKING:
    from ..knowledge.schema import UnderstandingFile

# Passes over the messages for emergencies: as many caught and as few false alarms on the dev
# sets as 8, in three quarters of the build time (the examples' ~5,000 messages are most of it).
ALARM_EPOCHS = 6
GUESS_FLOOR = 0.5  # the learnt kind is worked out from this probability up (eval --sweep's lowest)
_UNITS = re.compile(f"[{CJK}]|[a-z0-9]+")
# the end of a sentence that is not a question; an English full stop only before a space, and
# not after a title or an abbreviation ("is Mr. Liu's building on the list")
_STATEMENT_END = re.compile(r"[。！!；;\n]|(?<!\bmr)(?<!\bmrs)(?<!\bms)(?<!\bdr)(?<!\bst)"
                            r"(?<!\bprof)(?<!\bvs)(?<!\betc)(?<!\be\.g)(?<!\bi\.e)\.(?=\s)",
                            re.IGNORECASE)


def story_part(raw: str) -> str:
    """The story told before the question: the sentences before the one holding the first
    question mark, or before the last sentence when there is none ("I paid 2000 rmb for my
    licence. Is there a one-stop office"). Empty when nothing comes before that sentence, or
    when the question is too short to stand on its own: in "They say rents will rise next
    year. True?" the story is what is asked."""
    mark = min((i for i in (raw.find("?"), raw.find("？")) if i >= 0), default=len(raw))
    ends = [m.end() for m in _STATEMENT_END.finditer(raw, 0, mark)]
    if not ends or _length(raw[ends[-1]:].lower()) < STORY_QUESTION:
        return ""
    return raw[:ends[-1]]


STORY_QUESTION = 8  # a question after a story this long (see `_length`) asks on its own


def _length(text: str) -> int:
    """Chinese characters, and English words counted twice."""
    return sum(1 if _CJK.match(w) else 2 for w in _UNITS.findall(text))
_CJK = re.compile(f"[{CJK}]")


TrainingRow = tuple[str, str, str]  # a normalised message, its kind (or NONE) and topic


class Learnt(NamedTuple):
    """What a knowledge base's labelled messages teach: trained once, kept while they last."""

    requests: KindGuesser
    alarms: KindGuesser
    topics: TopicGuesser


class Memo(Protocol):
    """Guessers learnt before, by `training_key`: a dict, or bot/cache.py's files."""

    def get(self, key: str) -> Learnt | None: ...

    def __setitem__(self, key: str, learnt: Learnt) -> None: ...


def training_key(data: UnderstandingFile, labelled: list[tuple[str, str, str]],
                 served: list[tuple[str, str]], alarms: list[tuple[str, str, str]]) -> str:
    """A hash of everything the guessers learn from, in order (training shuffles with a fixed
    seed, so the same input in the same order is the same model). The code is not in it: a
    memo that outlives the process is kept per version of the code (see bot/cache.py)."""
    return hashlib.sha256(repr((data, labelled, served, alarms)).encode()).hexdigest()


@dataclass(frozen=True)
class Understanding:
    requests: tuple[Request, ...] = ()
    emergency: tuple[str, ...] = ()  # the numbers to give first, if the message is an emergency
    place: str | None = None  # another place the message asks about
    origins: tuple[str, ...] = ()  # places it names only as where the asker comes from
    aspects: tuple[str, ...] = ()  # aspect ids the message names
    fragment: bool = False  # a request naming nothing it is about ("在哪里办理", "how much is it")
    elliptical: bool = False  # names nothing of its own beyond what it asks: a follow-up
    refers: bool = False  # points back at something said before: "it", "它", "there"
    seeking: bool = False  # asks what support exists for something: "有没有…政策", "any help for"
    to_bot: bool = False  # speaks to the bot: "你", "you", "bot"
    question: bool = False  # is worded as a question: "吗", "几年", "is there"
    zone: bool = False  # names the zone itself: "高新区", "the zone"
    opener: bool = False  # opens as a follow-up does: "那…", "and …", "what about …"
    learnt: Guess | None = None  # the learnt request kind, where no phrase names a decline
    length: int = 0  # Chinese characters, and English words counted twice

    @property
    def decline(self) -> Request | None:
        """The first request no answer can serve."""
        return next((r for r in self.requests if r.serve == "decline"), None)

    @property
    def follow_up(self) -> Request | None:
        """The first request that, with a topic in context, asks more about it."""
        return next((r for r in self.requests if r.follow_up and r.serve == "answer"), None)


class Reader:
    """Built once per knowledge base; `read` is a pure function of the normalised text."""

    def __init__(self, data: UnderstandingFile, content_of: Callable[[str], list[str]],
                 labelled: Iterable[tuple[str, str, str]] = (),
                 served: Iterable[tuple[str, str]] = (),
                 alarms: Iterable[tuple[str, str, str]] = (),
                 memo: Memo | None = None) -> None:
        """`labelled`: (message, request kind or none, topic) to learn request kinds from;
        `served`: (message, topic) that the topic's answer serves, unless a phrase finds a
        request in it that no answer can serve; `alarms`: (message, emergency or none,
        topic) to learn emergencies from. `memo`: guessers already learnt, by `training_key`
        (training is most of a build, and an edit to an answer changes none of its input)."""
        self._index = PhraseIndex()
        self._requests = Requests(data.requests, data.disavowals, self._index)
        self._scope = Scope(data.places, self._index)
        # labels formatted once here, not on every message
        self._emergencies = [(e.numbers, f"emergency:{name}", f"emergency:{name}:unless")
                             for name, e in data.emergencies.items()]
        for (_, label, unless), e in zip(self._emergencies, data.emergencies.values(),
                                         strict=True):
            self._index.add(label, [*e.zh, *e.en])
            self._index.add(unless, e.unless)
        self._index.add("emergency-over", data.emergency_over.over)
        self._index.add("emergency-now", data.emergency_over.now)
        self._aspects = [(key, f"aspect:{key}") for key in data.aspects]
        for (_, label), aspect in zip(self._aspects, data.aspects.values(), strict=True):
            self._index.add(label, aspect.terms)
        self._index.add("generic", data.generic)
        self._index.add("opener", data.conversation.openers)
        self._index.add("closer", data.conversation.closers)
        self._index.add("filler", data.conversation.fillers)
        self._index.add("reference", data.conversation.references)
        self._index.add("leading_reference", data.conversation.leading_references)
        self._index.add("trailing_reference", data.conversation.trailing_references)
        self._index.add("seeking", data.conversation.seeking)
        self._index.add("addressing", data.conversation.addressing)
        self._index.add("question", data.conversation.questions)
        self._content_of = content_of
        labelled, served, alarms = list(labelled), list(served), list(alarms)
        # kept: which memo entry (which cached file) holds this engine's guessers
        self.training_key = key = training_key(data, labelled, served, alarms)
        learnt = memo.get(key) if memo is not None else None
        if learnt is None:
            learnt = self._train(data, labelled, served, alarms)
            if memo is not None:
                memo[key] = learnt
        self._guesser, self._alarm, self._topics = learnt
        self._numbers = {name: e.numbers for name, e in data.emergencies.items()}
        self._alarm_threshold = data.guess.emergency_threshold

    def training_messages(self, labelled: list[tuple[str, str, str]],
                          served: list[tuple[str, str]], alarms: list[tuple[str, str, str]],
                          normalized: Callable[[str], str] = normalize,
                          ) -> tuple[list[TrainingRow], list[TrainingRow]]:
        """What the request and the emergency guessers learn from, as (normalised text, kind
        or NONE, topic): the request kinds from each labelled message's question without its
        story and from the intents' examples no phrase declines; emergencies from whole
        messages, against the look-alikes and every other message (none is one), each its
        own "topic" (emergencies name none), since "…摔倒了。头在流血。" is no story told before
        a question. `normalized`: `normalize`, or a memo of it."""

        def asked(text: str) -> str:
            story = story_part(text)
            return normalize(text[len(story):]) if story else normalized(text)

        requests = [*((asked(text), kind, topic) for text, kind, topic in labelled),
                    *((question, NONE, topic) for question, topic in
                      ((asked(text), topic) for text, topic in served) if self.serves(question))]
        rows = [*((text, kind) for text, kind, _ in alarms),
                *((text, NONE) for text, _, _ in labelled), *((text, NONE) for text, _ in served)]
        return requests, [(normalized(text), kind, str(i)) for i, (text, kind) in enumerate(rows)]

    def _train(self, data: UnderstandingFile, labelled: list[tuple[str, str, str]],
               served: list[tuple[str, str]], alarms: list[tuple[str, str, str]]) -> Learnt:
        """The three guessers, learnt from the same messages: each normalised and framed once
        (as a question without its story, and whole)."""
        whole = {text: normalize(text) for text in
                 {*(text for text, _, _ in (*labelled, *alarms)), *(text for text, _ in served)}}
        framed: dict[str, frozenset[str]] = {}

        def frame(normalized: str) -> frozenset[str]:
            if normalized not in framed:
                framed[normalized] = frame_features(normalized)
            return framed[normalized]

        asks, alarm_rows = self.training_messages(labelled, served, alarms, whole.__getitem__)
        requests = KindGuesser([(frame(text), kind, topic) for text, kind, topic in asks],
                               data.guess.min_topics)
        # Not balanced: weighting the few emergencies up to count as much as all the rest let
        # a word or two of them ("just", "behind") raise an alarm; counted as they are, the
        # probability is that of an emergency among messages, and a lower threshold catches
        # more (benchmarks/learnt_cv.py, 5-fold over the examples the phrases miss: 147 of 200
        # caught at 0.6 with 6 false alarms in 13,330, where balanced and one order at 0.95
        # caught 115 with 12).
        alarm = KindGuesser([(frame(text), kind, i) for text, kind, i in alarm_rows],
                            data.guess.emergency_min_messages, ALARM_EPOCHS, balanced=False)
        # Topics, from every message that names one: the request examples' topics hold
        # however the message is worded, what it asks of the topic aside.
        topics = TopicGuesser([*((frame(whole[text]), topic) for text, _, topic in labelled
                                 if topic),
                               *((frame(whole[text]), topic) for text, topic in served)])
        return Learnt(requests, alarm, topics)

    def guess(self, text: str, at_least: float = 0.0) -> Guess:
        """The learnt request kind of a compacted question, and how likely one is made."""
        return self._guesser.guess(text, at_least)

    def topic(self, normalized: str) -> tuple[str, float]:
        """The learnt topic of a normalised message, and its probability."""
        return self._topics.guess(compact(normalized))

    def serves(self, normalized: str) -> bool:
        """Whether no phrase finds a request in it that no answer can serve: the messages the
        learnt request guess decides (and learns "the answer serves this" from)."""
        text = compact(normalized)
        return not any(r.serve == "decline"
                       for r in self._requests.read(text, self._index.scan(text)))

    def phrased_emergency(self, normalized: str) -> bool:
        """Whether an emergency phrase reads it: the learnt alarm decides the others."""
        return bool(self._phrased_numbers(self._index.scan(compact(normalized))))

    def _phrased_numbers(self, found: dict[str, list[Span]]) -> list[str]:
        numbers: list[str] = []
        for group, label, unless in self._emergencies:
            if unvetoed(found, label, unless):
                numbers += [n for n in group if n not in numbers]
        return numbers

    def read(self, normalized: str, story: str = "") -> Understanding:
        """`story`: the normalised story told before the question (see `story_part`)."""
        text = compact(normalized)
        found = self._index.scan(text)
        numbers = self._phrased_numbers(found)
        framed = None  # the whole text's frame, which both guessers read where no story is told
        if not numbers:  # the phrases catch the wordings someone thought of; people find others
            framed = frame_features(text)
            alarm = self._alarm.guess(text, self._alarm_threshold, framed)
            if alarm.kind != NONE:
                numbers = list(self._numbers[alarm.kind])
        if numbers and found.get("emergency-over") and not found.get("emergency-now"):
            numbers = []  # told as over: "上个月心梗住院 现在出院了 想问…"
        told = len(compact(story))
        disavowed = self._requests.disavowed(found)
        requests = self._requests.read(text, found, told, disavowed)
        aspects = [key for key, label in self._aspects if found.get(label)]
        # at the start, or of the question after a story: "ok fine. what about housing?", or
        # after a filler there: "ok 那国际社区呢", "oh and for renters?"
        starts = {0, told, told + 1} if told else {0}
        starts.update(e + gap for b, e in found.get("filler", []) if b in starts
                      for gap in (0, 1))
        opener = [s for s in found.get("opener", []) if s[0] in starts]
        # ...or at the end, where the reference word in it points back at nothing: "中日那个呢",
        # "国企那边呢" name what they switch to
        closer = [s for s in found.get("closer", []) if s[1] == len(text)]
        opener += closer
        # A decline a phrase names is better known than a learnt one (a request an answer
        # serves is not: "排了多久了" names `when`); "那X呢" names what it switches to, where
        # the frame alone reads like "那租金呢". What the user says they do not ask ("不要你帮我报
        # 我自己报") is what the frame would read.
        learnt = None if opener or disavowed or any(r.serve == "decline" for r in requests) \
            else self._guesser.guess(text[told:], GUESS_FLOOR, None if told else framed)
        if learnt is not None and learnt.kind != NONE and self._requests.ruled_out(
                learnt.kind, found):
            learnt = None
        spans = [s for r in requests for s in r.spans] + found.get("generic", []) + opener
        # After "那…", naming our zone names nothing new: "那高新区的呢" asks about the same topic.
        besides = [s for a in aspects for s in found[f"aspect:{a}"]]
        besides += found.get("ours", []) if opener else []
        named = bool(self._content_of(_without(text, spans + besides)))
        place, origins = self._scope.read(text, found)
        return Understanding(
            requests=requests,
            emergency=tuple(numbers),
            place=place,
            origins=origins,
            aspects=tuple(aspects),
            fragment=bool(requests) and not self._content_of(_without(text, spans)),
            elliptical=not named and bool(
                any(r.follow_up for r in requests) or aspects or opener),
            refers=any(not overlaps(s, closer) for s in found.get("reference", []))
            or any(b in starts for b, _ in found.get("leading_reference", []))
            or any(e == len(text) for _, e in found.get("trailing_reference", [])),
            seeking=bool(found.get("seeking")),
            to_bot=bool(found.get("addressing")),
            question=bool(found.get("question")),
            zone=bool(found.get("zone")),
            opener=bool(opener),
            learnt=learnt,
            length=_length(text),
        )


    def concepts(self, normalized: str) -> tuple[list[str], str]:
        """What a message means, beyond its wording: the request kinds and aspects it names
        ("visa for my wife" and "visa for my husband": family, visa) and the rest of its text
        (for grouping questions that mean the same)."""
        text = compact(normalized)
        found = self._index.scan(text)
        labels, spans = [], list(found.get("generic", []))
        for label, where in found.items():
            kind, _, name = label.partition(":")
            if kind in ("request", "aspect") and where and not name.endswith(":unless"):
                labels.append(label)
                spans += where
        return sorted(set(labels)), _without(text, spans)


def _without(text: str, spans: list[Span]) -> str:
    """The text with `spans` blanked out: what is left for it to be about."""
    chars = list(text)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)

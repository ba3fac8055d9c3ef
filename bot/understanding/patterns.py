"""Phrase patterns admins write in YAML → regexes, tried only where they can match.

A phrase is matched against normalised text (see `matching.normalize`), with Chinese compared
without spaces, so "人才公寓 怎么申请" and "人才公寓怎么申请" read the same. Two marks make a phrase
more than a literal, and nothing else is special, so an admin never needs to know regex:

- `…` (or `...`) a short gap: a few characters between Chinese words, a few words in English
  ("帮我…申请" matches 帮我把人才公寓申请了; "apply … for me" matches "apply for a flat for me");
- `(a|b|c)` one of the alternatives ("(今天|现在)…排队"); `(a|b)?` one of them or nothing
  ("住(在)?几栋" matches 住几栋 and 住在几栋).

Latin words match whole words only ("fee" is not found in "coffee"); plurals come free.

Thousands of phrases are read on every message, so each is tried only when its key (two
characters of one of its Chinese words, or one of its English words) occurs in the text, and its
regex runs only when every literal piece of it does: a message costs a set lookup per phrase
family and a substring test per phrase, not a regex scan per phrase. Of a Chinese word's
character pairs the key is the one fewest phrases need (能不能 is keyed by 不能 if fewer phrases
have it than 能不), so a message tries the few phrases its rare pairs point to, not every phrase
beginning with 怎么. A regex is compiled
the first time it is needed (compiling them all costs seconds: the place slot alone is hundreds
of alternatives), so a process that answers one question compiles only what that one needs.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace

from ..matching.normalize import CJK, normalize

GAP = "…"
_GAP_CJK = r".{0,10}?"  # between two Chinese words: a few characters
_GAP_LATIN = r".{0,40}?"  # next to an English word: a few words
_TOKENS = re.compile(r"(…|\.\.\.|\([^()]*\)|\{[a-z_]+\})")
_OPTIONAL = re.compile(r"\(([^()]*)\)\?")
_CJK_SPACE = re.compile(f"(?<=[{CJK}]) (?=[{CJK}])")
_CJK_CHAR = re.compile(f"[{CJK}]")
_WORD = re.compile(r"[a-z0-9]+")
ALWAYS = ""  # the key of a phrase with no literal of its own: tried on every text

Span = tuple[int, int]


class PatternError(ValueError):
    """A phrase that cannot be used: empty after normalising, or with unbalanced brackets."""


def compact(normalized: str) -> str:
    """Normalised text with the spaces between Chinese characters removed (Latin keeps them)."""
    return _CJK_SPACE.sub("", normalized)


def _latin_at(text: str, i: int) -> bool:
    return text[i].isascii() and text[i].isalnum()


def _key(literal: str) -> str:
    """What must occur in a text for `literal` to: its first word, or first two characters."""
    if _latin_at(literal, 0):
        word = _WORD.match(literal)
        assert word is not None  # a literal that starts with a Latin letter or digit
        return word.group(0)
    return literal[:2] if len(literal) > 1 and _CJK_CHAR.match(literal[1]) else literal[:1]


def _key_choices(literal: str) -> list[str]:
    """The keys that could stand for `literal`: each is in every text holding it. A Chinese
    word has one per pair of Chinese characters in it, anything else only `_key`."""
    if _latin_at(literal, 0):
        return [_key(literal)]
    pairs = [literal[i:i + 2] for i in range(len(literal) - 1)
             if _CJK_CHAR.match(literal[i]) and _CJK_CHAR.match(literal[i + 1])]
    return pairs or [_key(literal)]


def text_keys(text: str) -> frozenset[str]:
    """Every key a (compact, normalised) text holds: characters, bigrams, words, stems."""
    keys = {ALWAYS}
    keys.update(text)
    keys.update(text[i:i + 2] for i in range(len(text) - 1))
    for word in _WORD.findall(text):
        keys.add(word)
        keys.add(word[:-1] if word.endswith("s") else word)
        keys.add(word[:-2] if word.endswith("es") else word)
    return frozenset(keys)


@dataclass(frozen=True)
class _Piece:
    regex: str
    latin_start: bool
    latin_end: bool
    options: tuple[str, ...] = ()  # the literals, one of which it begins with (none for a slot)
    slot: str = ""  # a placeholder's name


def _piece(options: list[str]) -> _Piece:
    """One text piece (a literal, or alternatives): Latin edges match whole words only, and
    English plurals come free ("fee" finds "fees")."""
    ordered = sorted(options, key=len, reverse=True)
    # A Latin option must not continue a word: the check comes after the literal (a fixed-width
    # look-behind), so the regex engine can still search for the literal itself, fast.
    regex = "|".join(f"{re.escape(o)}(?<![a-z0-9]{re.escape(o)})" if _latin_at(o, 0)
                     else re.escape(o) for o in ordered)
    start = any(_latin_at(o, 0) for o in options)
    end = any(_latin_at(o, -1) for o in options)
    tail = r"(?:e?s)?(?![a-z0-9])" if end else ""
    return _Piece(f"(?:{regex}){tail}", start, end, tuple(ordered))


def _parse(phrase: str, slots: dict[str, str] | None) -> list[_Piece | None]:
    """The pieces of a phrase; None stands for a gap."""
    if phrase.count("(") != phrase.count(")"):
        raise PatternError(f"unbalanced brackets in {phrase!r}")
    if re.search(r"\([^)]*\(", phrase):
        raise PatternError(f"brackets inside brackets in {phrase!r}: write two phrases")
    pieces: list[_Piece | None] = []
    for token in _TOKENS.split(phrase):
        if token in (GAP, "..."):
            pieces.append(None)
        elif token.startswith("{") and token.endswith("}"):
            name = token[1:-1]
            if not slots or name not in slots:
                raise PatternError(f"unknown placeholder {token} in {phrase!r}")
            pieces.append(_Piece(slots[name], True, True, slot=name))
        else:
            alternatives = token.startswith("(") and token.endswith(")")
            raw = token[1:-1].split("|") if alternatives else [token]
            options = [compact(normalize(o)) for o in raw]
            if alternatives and not all(options):
                raise PatternError(f"an empty alternative in {phrase!r}")
            if any(options):
                pieces.append(_piece([o for o in options if o]))
    while pieces and pieces[0] is None:
        pieces.pop(0)
    while pieces and pieces[-1] is None:
        pieces.pop()
    if not pieces:
        raise PatternError(f"{phrase!r} has no words")
    return pieces


def _regex(pieces: list[_Piece | None]) -> str:
    out = []
    for i, piece in enumerate(pieces):
        if piece is None:
            before, after = pieces[i - 1], pieces[i + 1]
            latin = (before is not None and before.latin_end) or (
                after is not None and after.latin_start)
            out.append(_GAP_LATIN if latin else _GAP_CJK)
            continue
        before = pieces[i - 1] if i else None
        if before is not None and (before.latin_end or piece.latin_start):
            out.append(" ?")  # normalised text has a space at every Latin edge
        out.append(piece.regex)
    return "".join(out)


def _variants(phrase: str) -> list[str]:
    """The phrase with each optional group `(a|b)?` once kept and once left out: an optional
    piece can be neither a key nor a literal a text must contain, so each variant is a phrase
    of its own."""
    found = _OPTIONAL.search(phrase)
    if found is None:
        return [phrase]
    head, tail = phrase[:found.start()], phrase[found.end():]
    return [*_variants(f"{head}({found.group(1)}){tail}"), *_variants(f"{head} {tail}")]


def phrase_regex(phrase: str, slots: dict[str, str] | None = None) -> str:
    """The regex for one phrase (raises PatternError); `{name}` is replaced by slots[name]."""
    return "|".join(_regex(_parse(variant, slots)) for variant in _variants(phrase))


def _phrase_keys(needs: tuple[tuple[str, ...], ...], rarity: Counter[str]) -> frozenset[str]:
    """The keys of a phrase: for the literal piece whose keys fewest phrases share in all, the
    rarest key of each of its options (`rarity`: key → phrases that could be keyed by it)."""
    if not needs:
        return frozenset({ALWAYS})
    pieces = [frozenset(min(_key_choices(o), key=rarity.__getitem__) for o in options)
              for options in needs]
    return min(pieces, key=lambda keys: sum(map(rarity.__getitem__, keys)))


def _needs(pieces: list[_Piece | None]) -> tuple[tuple[str, ...], ...]:
    """What a text must contain for the phrase to match: one option of each literal piece
    (each regex option begins with its literal verbatim, so this is necessary, not sufficient)."""
    return tuple(p.options for p in pieces if p is not None and p.options)


def _present(text: str, needs: tuple[tuple[str, ...], ...]) -> bool:
    for options in needs:
        for option in options:
            if option in text:
                break
        else:
            return False
    return True


class PhraseIndex:
    """Labelled phrase lists, each phrase tried only where its key and its literals occur.

    A placeholder stands for any phrase of another label ("{place}" for the phrases of
    "place"). A phrase with one is tried after the others, only when a phrase of that label
    was found, and with only the alternatives found: one that occurs nowhere in the text
    cannot match anywhere, so the result is the same as with all of them, and a regex of two
    places instead of hundreds runs in microseconds.
    """

    def __init__(self) -> None:
        self._sources: list[str] = []  # entry number → regex source
        self._needs: list[tuple[tuple[str, ...], ...]] = []  # entry number → literals it needs
        # key → (entry number, label, literals it needs, whether it is under other keys too);
        # None until the next scan after an `add` (keys are chosen by how many phrases share
        # them, so each added phrase can change the keys of the others)
        self._by_key: dict[str, list[tuple[int, str, tuple[tuple[str, ...], ...], bool]]] | None = (
            None)
        self._compiled: dict[object, re.Pattern[str]] = {}
        self._label_of: list[str] = []  # entry number → its label
        # entry number → (its pieces, placeholder → label) for phrases with placeholders
        self._slotted: dict[int, tuple[list[_Piece | None], dict[str, str]]] = {}

    def __getstate__(self) -> dict:
        # A pickled re.Pattern is compiled again on loading: keep the sources only.
        return {**self.__dict__, "_by_key": self._keyed(), "_compiled": {}}

    def _keyed(self) -> dict[str, list[tuple[int, str, tuple[tuple[str, ...], ...], bool]]]:
        if self._by_key is None:
            rarity: Counter[str] = Counter()
            for needs in self._needs:
                rarity.update({k for options in needs for o in options for k in _key_choices(o)})
            by_key = defaultdict(list)
            entries = zip(self._label_of, self._needs, strict=True)
            for number, (label, needs) in enumerate(entries):
                keys = _phrase_keys(needs, rarity)
                for key in keys:
                    by_key[key].append((number, label, needs, len(keys) > 1))
            self._by_key = dict(by_key)
        return self._by_key

    def add(self, label: str, phrases: Iterable[str], slots: dict[str, str] | None = None,
            ) -> None:
        """`slots`: placeholder → the (already added) label whose phrases it stands for."""
        for phrase in (v for p in phrases for v in _variants(p)):
            pieces = _parse(phrase, {name: "" for name in slots or ()})
            number = len(self._sources)
            if any(p is not None and p.slot for p in pieces):
                self._slotted[number] = (pieces, dict(slots or {}))
                self._sources.append("")
            else:
                self._sources.append(_regex(pieces))
            self._label_of.append(label)
            self._needs.append(_needs(pieces))
        self._by_key = None

    def _pattern(self, key: object, source: str) -> re.Pattern[str]:
        pattern = self._compiled.get(key)
        if pattern is None:
            if len(self._compiled) > 20_000:  # slotted variants are unbounded: stay bounded
                self._compiled.clear()
            pattern = self._compiled[key] = re.compile(source)
        return pattern

    def _with_found(self, number: int, found: dict[str, tuple[str, ...]],
                    ) -> re.Pattern[str] | None:
        """A slotted phrase's regex with each placeholder standing for the phrases of its
        label that were found (`found`: label → their regexes), None if none was."""
        pieces, slots = self._slotted[number]
        if not all(found.get(label) for label in slots.values()):
            return None
        key = (number, *(found[label] for label in slots.values()))
        pattern = self._compiled.get(key)
        if pattern is None:
            filled = [replace(p, regex="(?:" + "|".join(found[slots[p.slot]]) + ")")
                      if p is not None and p.slot else p for p in pieces]
            pattern = self._pattern(key, _regex(filled))
        return pattern

    def scan(self, text: str) -> dict[str, list[Span]]:
        """Every label with the spans where its phrases occur in the (compact) text."""
        tried: set[int] = set()
        matched: set[int] = set()
        later: list[tuple[int, str]] = []
        found: dict[str, list[Span]] = defaultdict(list)
        by_key = self._keyed()
        for key in text_keys(text) & by_key.keys():
            for number, label, needs, shared in by_key[key]:
                if shared:
                    if number in tried:
                        continue
                    tried.add(number)
                if not _present(text, needs):
                    continue
                if number in self._slotted:
                    later.append((number, label))
                    continue
                spans = [m.span() for m in self._pattern(number, self._sources[number])
                         .finditer(text) if m.end() > m.start()]
                if spans:
                    found[label].extend(spans)
                    matched.add(number)
        if later:
            # the regexes of the phrases found, by label, longest first as in an alternation
            sources: dict[str, set[str]] = defaultdict(set)
            for number in matched:
                sources[self._label_of[number]].add(self._sources[number])
            alternatives = {label: tuple(sorted(regexes, key=lambda r: (-len(r), r)))
                            for label, regexes in sources.items()}
        for number, label in later:
            pattern = self._with_found(number, alternatives)
            spans = [m.span() for m in pattern.finditer(text)
                     if m.end() > m.start()] if pattern is not None else []
            if spans:
                found[label].extend(spans)
        return found


def overlaps(span: Span, spans: Iterable[Span]) -> bool:
    return any(start < span[1] and span[0] < end for start, end in spans)


def unvetoed(found: dict[str, list[Span]], label: str, unless: str) -> list[Span]:
    """Where `label`'s phrases occur, less where a phrase of `unless` overlaps them
    ("对外开放" is no "开放" a user asks about now)."""
    vetoes = found.get(unless, [])
    return [s for s in found.get(label, []) if not overlaps(s, vetoes)]


def inside(span: Span, spans: Iterable[Span]) -> bool:
    return any(start <= span[0] and span[1] <= end for start, end in spans)

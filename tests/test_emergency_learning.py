"""Emergencies learnt from labelled messages (content/emergency_examples.yaml): a description no
phrase of understanding.yaml lists still gets the emergency number first, and questions near
them about health or safety services are still answered."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cache import build_engine
from bot.engine import Engine

UNLISTED = [  # no emergency phrase finds these
    ("我外婆吃饭的时候突然咽不下去 脸憋得发紫", "120"),
    ("孩子把一整瓶退烧药都喝了", "120"),
    ("somebody is kicking my front door and shouting he'll kill us", "110"),
]


def phrase_only(kb_root: Path, cache: Path) -> Engine:
    """The engine as it would be without the labelled emergencies. Built with a cache, its
    guessers stay in this process's memory too (see bot/cache.py's LearntMemo), and
    tests/test_engine_cache.py learns from the same messages."""
    (kb_root / "content" / "emergency_examples.yaml").write_text("examples: []\n",
                                                                  encoding="utf-8")
    return build_engine(kb_root, cache)


@pytest.mark.parametrize(("q", "number"), UNLISTED)
def test_a_description_no_phrase_lists_gets_the_number_first(engine, q, number):
    reply = engine.reply(q)
    assert reply.request == "emergency"
    assert number in reply.text.splitlines()[0]


def test_the_labelled_messages_are_what_teaches_it(kb_copy: Path, tmp_path: Path):
    without = phrase_only(kb_copy, tmp_path / "cache")
    for q, _ in UNLISTED:
        assert without.reply(q).request != "emergency", q


@pytest.mark.parametrize("q", [
    "去年我妈中风住过院 现在想问高新区有什么康复医疗",  # a past event told before a question
    "how fast do ambulances get to the zone usually",
    "高新区的急救站够不够",
])
def test_questions_about_health_and_safety_services_are_no_emergency(engine, q):
    assert engine.reply(q).request != "emergency"

"""Requests no answer can serve, learnt from labelled messages (content/request_examples.yaml):
wordings no phrase of understanding.yaml lists still get the topic-aware decline, and the
questions the plan does answer near them are still answered."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import DATA

from bot.cache import build_engine
from bot.engine import Engine
from bot.evaluation import load_set
from bot.matching.normalize import normalize
from bot.understanding.patterns import compact
from bot.validation import load_valid_knowledge_base

UNLISTED = [  # no phrase of understanding.yaml finds a request in these
    ("人才公寓一个月要交几个钱", "housing.talent_apartment", "price"),
    ("is the golden panda scheme still going next year", "talent.golden_panda", "prediction"),
    ("人才公寓里住的那个张三电话给我", "housing.talent_apartment", "private"),
]


def phrase_requests(engine: Engine, text: str) -> list[str]:
    return [r.kind for r in engine.reader.read(normalize(text)).requests]


@pytest.mark.parametrize(("q", "topic", "kind"), UNLISTED)
def test_a_wording_no_phrase_lists_gets_the_decline_for_its_topic(engine, q, topic, kind):
    assert phrase_requests(engine, q) == []
    reply = engine.reply(q)
    assert (reply.kind, reply.intent, reply.request) == ("fallback", topic, kind)
    assert reply.options and reply.options[0].intent == topic  # its answer, as a button


@pytest.mark.parametrize("q", ["人才公寓有没有租金优惠", "高新区的人才公寓咋个申请",
                               "how do I apply for a talent apartment"])
def test_the_answerable_questions_beside_them_are_answered(engine, q):
    reply = engine.reply(q)
    assert (reply.kind, reply.intent) == ("answer", "housing.talent_apartment")


def test_the_labelled_messages_are_what_teaches_it(kb_copy: Path):
    """Without them the same wording is answered as if it were a plain question."""
    (kb_copy / "content" / "request_examples.yaml").write_text("examples: []\n",
                                                               encoding="utf-8")
    reply = Engine(load_valid_knowledge_base(kb_copy)).reply(UNLISTED[0][0])
    assert (reply.kind, reply.intent) == ("answer", UNLISTED[0][1])


def test_a_request_an_answer_serves_does_not_hide_one_no_answer_serves(engine, kb_copy: Path,
                                                                      tmp_path: Path):
    """"啥时候开门" names `when`, yet "今天场地满了没" asks for live data: the learnt kind
    still counts, from guess_over_answer_threshold; with that out of reach the topic is
    answered."""
    q = "体育馆啥时候开门 今天场地满了没"
    assert phrase_requests(engine, q) == ["when"]
    assert (engine.reply(q).kind, engine.reply(q).request) == ("fallback", "live")
    matching = kb_copy / "content" / "matching.yaml"
    text = matching.read_text(encoding="utf-8")
    matching.write_text(text.replace("guess_over_answer_threshold: 0.95",
                                     "guess_over_answer_threshold: 1.0"), encoding="utf-8")
    # a setting, not what the guessers learn from: this process's are reused
    assert build_engine(kb_copy, tmp_path / "cache").reply(q).request != "live"


def test_the_guess_is_the_same_every_time_the_knowledge_base_is_built(kb, engine):
    again = Engine(kb)
    for q, _, _ in UNLISTED:
        text = compact(normalize(q))
        assert again.reader.guess(text) == engine.reader.guess(text)


def test_no_labelled_message_is_a_question_of_the_eval_sets(kb):
    """The eval sets measure how well it does on wordings it never learnt from."""
    taught = {compact(normalize(q)) for q, _, _ in (*kb.request_examples, *kb.emergency_examples)}
    for path in sorted((DATA / "eval").glob("*.yaml")):
        items, dialogues = load_set(path)
        asked = [i.q for i in items] + [t.q for d in dialogues for t in d]
        assert not taught & {compact(normalize(q)) for q in asked}, path.name

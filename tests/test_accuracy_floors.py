"""Accuracy floors on labelled questions and conversations written independently of the examples.

The *_dev files are what thresholds and phrases are tuned on; the others are held out and only
reported (see tests/data/eval/README.md). The floors sit a little under the measured figures so
that an edit which costs accuracy, or makes the bot answer where it should decline, fails here
before it reaches users.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import pytest
from conftest import EVAL

from bot import evaluation
from bot.matching.normalize import normalize

QUESTIONS = ("dev", "test", "asks_dev", "asks_test", "round3_dev", "round3_test", "round4_dev",
             "round4_test", "round5_dev", "round5_test", "round6_dev", "round6_test",
             "round7_dev", "round7_test", "round9_dev", "round9_test", "round11_dev",
             "round11_test", "round13_dev", "round13_test", "round14_dev", "round14_test",
             "round15_dev", "round15_test", "stories15_dev", "stories15_test", "round16_dev",
             "round16_test", "round19_dev", "round19_test", "round20_dev", "round20_test",
             "emergencies_dev", "emergencies_test")
CONVERSATIONS = ("conversations_dev", "conversations_test", "conversations3_dev",
                 "conversations3_test", "conversations5_dev", "conversations5_test",
                 "conversations6_dev", "conversations6_test", "conversations7_dev",
                 "conversations7_test", "conversations9_dev", "conversations9_test",
                 "conversations11_dev", "conversations11_test", "conversations13_dev",
                 "conversations13_test", "conversations14_dev", "conversations14_test",
                 "conversations15_dev", "conversations15_test", "conversations15focus_dev",
                 "conversations15focus_test", "conversations16_dev", "conversations16_test",
                 "conversations17_dev", "conversations17_test", "conversations18_dev",
                 "conversations18_test", "conversations19_dev", "conversations19_test",
                 "conversations20_dev", "conversations20_test", "conversations21_dev",
                 "conversations21_test")

# set: (min right %, max wrong-answer rate % of all replies, min declined % where due)
FLOORS = {
    "dev": (97.0, 1.5, 97.0),
    "test": (93.0, 2.5, 93.0),
    "asks_dev": (92.0, 0.8, 98.0),
    "asks_test": (90.0, 3.5, 93.0),
    "conversations_dev": (88.0, 2.5, 97.0),
    "conversations_test": (88.0, 6.5, 88.0),
    "round3_dev": (91.0, 2.5, 97.0),
    "round3_test": (89.0, 5.0, 89.0),
    "conversations3_dev": (93.0, 2.5, 95.0),
    "conversations3_test": (88.0, 8.5, 85.0),
    "round4_dev": (95.0, 3.0, 95.0),
    "round4_test": (90.0, 7.5, 88.0),  # wrong 5.9 -> 6.7 (one question) in round 15: see README
    "round5_dev": (88.0, 6.5, 91.0),
    "round5_test": (84.0, 8.0, 82.0),  # held out: where the bot is weakest (see README)
    "conversations5_dev": (91.0, 4.0, 95.0),
    "conversations5_test": (87.0, 10.0, 75.0),
    "round6_dev": (94.0, 3.0, 96.0),
    "round6_test": (89.0, 3.5, 94.0),
    "conversations6_dev": (95.0, 1.5, 97.0),
    "conversations6_test": (91.0, 2.5, 90.0),
    "round7_dev": (87.0, 4.0, 95.0),
    "round7_test": (88.0, 3.0, 92.0),
    "conversations7_dev": (86.0, 7.0, 97.0),
    "conversations7_test": (81.0, 8.5, 97.0),  # held out: follow-ups are the weakest part
    "round9_dev": (79.0, 2.5, 97.0),
    "round9_test": (84.0, 3.0, 95.0),
    "conversations9_dev": (89.0, 4.0, 94.0),
    "conversations9_test": (84.0, 9.5, 80.0),
    "round11_dev": (88.0, 4.0, 95.0),
    "round11_test": (85.0, 4.0, 95.0),
    "conversations11_dev": (83.0, 8.5, 90.0),
    "conversations11_test": (82.0, 9.5, 85.0),  # declined 85.4 in round 20: one turn under 87
    "round13_dev": (85.0, 4.0, 93.0),
    "round13_test": (86.0, 4.5, 94.0),
    "conversations13_dev": (87.0, 5.0, 88.0),
    "conversations13_test": (83.0, 6.5, 89.0),
    "round14_dev": (89.0, 3.5, 95.0),
    "round14_test": (86.0, 3.0, 94.0),
    "conversations14_dev": (86.0, 6.0, 95.0),
    "conversations14_test": (88.0, 6.5, 93.0),
    "round15_dev": (92.0, 2.5, 96.0),
    "round15_test": (85.0, 3.0, 94.0),
    "conversations15_dev": (90.0, 3.5, 96.0),
    "conversations15_test": (88.0, 6.5, 92.0),
    "conversations15focus_dev": (88.0, 4.5, 96.0),
    "conversations15focus_test": (82.0, 10.5, 92.0),  # held out: whom to ask, new questions
    "stories15_dev": (92.0, 2.0, 95.0),
    "stories15_test": (91.0, 3.0, 96.0),
    "round16_dev": (91.0, 3.0, 96.0),
    "round16_test": (87.0, 3.5, 92.0),
    "conversations16_dev": (89.0, 6.5, 94.0),
    "conversations16_test": (79.0, 10.5, 84.0),  # held out: new questions mid-conversation
    "conversations17_dev": (88.0, 5.0, 92.0),
    "conversations17_test": (84.0, 10.0, 86.0),
    "conversations18_dev": (85.0, 5.0, 92.0),
    "conversations18_test": (84.0, 5.5, 86.0),
    "conversations19_dev": (93.0, 5.0, 89.0),
    "conversations19_test": (86.0, 7.5, 85.0),
    "round19_dev": (95.0, 1.5, 96.0),
    "round19_test": (90.0, 4.5, 91.0),
    "round20_dev": (88.0, 3.0, 96.0),
    "round20_test": (84.0, 4.0, 92.0),
    "conversations20_dev": (87.0, 6.5, 95.0),
    "conversations20_test": (84.0, 9.5, 89.0),
    "conversations21_dev": (88.0, 7.5, 92.0),
    "conversations21_test": (78.0, 14.5, 85.0),
    # emergencies: the share given the right number first is floored below
    "emergencies_dev": (90.0, 3.0, 0.0),
    "emergencies_test": (82.0, 3.0, 0.0),
}
# set: min % of emergencies whose reply gives a right number first
EMERGENCY_FLOORS = {"emergencies_dev": 97.0, "emergencies_test": 85.0}
# category: min right % on both asks sets (a dozen or more questions each)
CATEGORY_FLOORS = {"persona": 88.0, "other_place": 95.0, "instruction": 95.0, "plain": 93.0,
                   "emergency": 90.0}
CORE = ("talent", "housing", "education", "business")
CORE_FLOOR = {"dev": 85.0, "test": 75.0}  # per core area, answered right (~25 questions each)


@pytest.fixture(scope="session")
def report(eval_runs) -> Callable[[str], dict]:
    """A labelled set's figures, computed once a session."""
    return functools.cache(lambda name: evaluation.report(eval_runs(name)))


@pytest.fixture(params=sorted(FLOORS))
def figures(request, report):
    return request.param, report(request.param)


def test_labelled_sets_are_large_and_cover_every_topic(kb):
    for name in ("dev", "test"):
        items = evaluation.load_labelled(EVAL / f"{name}.yaml")
        assert len(items) >= 300
        assert set(kb.topics) <= {i.expect for i in items}
    for name in ("asks_dev", "asks_test"):
        items = evaluation.load_labelled(EVAL / f"{name}.yaml")
        cats = {i.cat.split(":")[0] for i in items}
        assert {"persona", "adjacent", "instruction", "emergency", "paraphrase",
                "fragment", "other_place"} <= cats
        assert sum(i.want == "emergency" for i in items) >= 20
    for name in CONVERSATIONS:
        dialogues = evaluation.load_conversations(EVAL / f"{name}.yaml")
        kinds = {t.cat for d in dialogues for t in d}
        assert len(dialogues) >= 25 and {"same", "switch", "new", "decline"} <= kinds


def test_replies_stay_above_the_floors(figures):
    name, rep = figures
    right, wrong, declined = FLOORS[name]
    overall = rep["overall"]
    assert overall["right"] >= right, rep["failures"]
    assert overall["wrong"] <= wrong, rep["confused"]
    assert overall["declined"] >= declined


@pytest.mark.parametrize("name", sorted(EMERGENCY_FLOORS))
def test_emergencies_get_their_number_first(name, report):
    assert report(name)["overall"]["emergency"] >= EMERGENCY_FLOORS[name]


@pytest.mark.parametrize("name", ["asks_dev", "asks_test"])
def test_every_category_stays_above_its_floor(name, report):
    categories = report(name)["by_category"]
    for category, floor in CATEGORY_FLOORS.items():
        assert categories[category]["right"] >= floor, (category, name)


@pytest.mark.parametrize("name", ["dev", "test"])
def test_core_areas_do_not_lose_accuracy_as_topics_are_added(name, report):
    rep = report(name)
    for area in CORE:
        assert rep["by_area"][area]["accuracy"] >= CORE_FLOOR[name], (area, rep["by_area"][area])


def test_both_languages_are_served(figures):
    name, rep = figures
    for lang in ("zh", "en"):
        assert rep["by_language"][lang]["right"] >= FLOORS[name][0] - 8


def test_question_sets_do_not_repeat_the_examples(kb):
    """A question identical to an example measures memory, not matching. (A conversation's
    turns may: "thanks" in the middle of one is there for what comes after it.)"""
    examples = {normalize(e) for i in kb.intents.values() for e in (*i.examples.zh, *i.examples.en)}
    for name in QUESTIONS:
        items = evaluation.load_labelled(EVAL / f"{name}.yaml")
        assert not [i.q for i in items if normalize(i.q) in examples], name

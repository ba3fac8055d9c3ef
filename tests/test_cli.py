"""The policybot command line, run as a user runs it: a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import ROOT


def policybot(*args: str, stdin: str | None = None, env: dict | None = None):
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], input=stdin, capture_output=True,
        text=True, cwd=ROOT, env={**os.environ, **(env or {})}, timeout=60,
    )


def test_ask_prints_the_answer_a_user_would_read():
    run = policybot("ask", "人才公寓怎么申请")
    assert run.returncode == 0
    assert "出处" in run.stdout and "https://" in run.stdout


def test_ask_json_reads_one_question_per_line_and_answers_in_order():
    questions = ["金熊猫计划", "talent apartment", "", "北京人才公寓", "🙂", "x" * 10_000]
    run = policybot("ask", "--json", "-", stdin="\n".join(questions) + "\n")
    assert run.returncode == 0, run.stderr
    rows = [json.loads(line) for line in run.stdout.splitlines()]
    assert [r["question"] for r in rows] == questions
    for row in rows:
        assert set(row) == {"question", "lang", "kind", "intent", "score", "text", "links",
                            "options"}
        assert row["lang"] in ("zh", "en") and row["kind"] in ("answer", "clarify", "fallback")
        assert 0 <= row["score"] <= 100 and row["text"]
        assert all(set(link) == {"title", "url"} for link in row["links"])
        assert all(set(o) == {"intent", "title"} for o in row["options"])
    assert rows[0]["intent"] == "talent.golden_panda"
    assert rows[1]["lang"] == "en" and rows[1]["intent"] == "housing.talent_apartment"
    assert rows[3]["kind"] == "fallback"


def test_ask_lang_forces_the_reply_language():
    run = policybot("ask", "--lang", "en", "--json", "人才公寓")
    assert json.loads(run.stdout)["lang"] == "en"


def test_export_json_holds_every_intent_with_examples_answers_and_links(kb):
    run = policybot("export", "--json")
    data = json.loads(run.stdout)
    assert {i["id"] for i in data["intents"]} == set(kb.intents)
    first = data["intents"][0]
    assert first["examples"]["zh"] and first["examples"]["en"]
    assert first["answer"]["zh"] and first["answer"]["en"]
    assert isinstance(first["links"], list)


def test_schema_is_json_schema_for_editors():
    run = policybot("schema", "intents")
    schema = json.loads(run.stdout)
    assert schema["type"] == "object" and "intents" in schema["properties"]


def test_eval_reports_accuracy_per_language_area_and_category():
    run = policybot("eval", "tests/data/eval/asks_dev.yaml")
    assert run.returncode == 0
    for words in ("answer accuracy", "wrong answers", "declined", "naming the topic",
                  "emergency number", "by language", "by area", "by category", "talent",
                  "adjacent:price", "persona"):
        assert words in run.stdout


@pytest.fixture(scope="module")
def dev_sweep() -> str:
    run = policybot("eval", "--sweep", "tests/data/eval/dev.yaml")
    assert run.returncode == 0, run.stderr
    return run.stdout


def test_eval_sweep_prints_figures_across_thresholds(dev_sweep):
    lines = dev_sweep.strip().splitlines()
    assert lines[0].startswith("answer_threshold") and len(lines) > 10


def test_eval_sweep_tries_the_probability_from_which_a_learnt_request_counts():
    run = policybot("eval", "--sweep", "tests/data/eval/round5_dev.yaml")
    rows = _table(run.stdout, "guess_threshold")
    assert [r[0] for r in rows] == [0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99]
    declined = [r[5] for r in rows]
    assert declined == sorted(declined, reverse=True) and declined[0] > declined[-1]


def test_eval_sweep_tries_the_probability_from_which_the_learnt_topic_chooses(dev_sweep):
    rows = _table(dev_sweep, "topic_guess_threshold")
    assert [r[0] for r in rows] == [0.9, 0.95, 0.99, 0.999, 1.0]
    clarified = [r[3] for r in rows]  # the surer it must be, the more close calls clarified
    assert clarified == sorted(clarified) and clarified[0] < clarified[-1]


def _table(out: str, setting: str) -> list[list[float]]:
    """The rows of the sweep table of `setting`."""
    block = out.split(f"\n{setting} ", 1)[1].split("\n\n", 1)[0]
    return [[float(v) for v in line.split()] for line in block.strip().splitlines()[1:]]


@pytest.mark.parametrize("entry", [["-m", "bot"], ["-m", "bot", "run"]])
def test_run_without_a_token_starts_the_console_and_says_how_to_connect(entry):
    run = subprocess.run(
        [sys.executable, *entry], input="金熊猫\n/quit\n", capture_output=True, text=True,
        cwd=ROOT, env={**os.environ, "TELEGRAM_BOT_TOKEN": ""}, timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert "TELEGRAM_BOT_TOKEN" in run.stdout + run.stderr
    assert "金熊猫" in run.stdout


def test_console_chat_numbers_stand_in_for_buttons():
    run = policybot("chat", stdin="/menu\n2\n1\n/lang en\ntalent apartment\n/quit\n")
    assert run.returncode == 0, run.stderr
    assert "人才政策" in run.stdout  # the area menu
    assert "Source:" in run.stdout  # the English answer after /lang en


def test_a_broken_knowledge_base_is_reported_not_a_traceback(kb_copy):
    (kb_copy / "content" / "links.yaml").write_text("links: [oops\n", encoding="utf-8")
    run = policybot("--kb", str(kb_copy), "ask", "hi")
    assert run.returncode == 1
    assert "content/links.yaml:" in run.stderr and "Traceback" not in run.stderr

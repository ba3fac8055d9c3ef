"""An admin's broken edit is reported with file, line and a fix — never a traceback."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.cli import main
from bot.knowledge import (
    ContentError,
    KnowledgeBaseError,
    SchemaError,
    YAMLSyntaxError,
)
from bot.validation import load_valid_knowledge_base


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_of(path: Path, needle: str) -> int:
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if needle in line:
            return n
    raise AssertionError(needle)


def test_the_shipped_knowledge_base_loads_and_covers_every_topic(kb):
    assert set(kb.topics) <= set(kb.intents)
    assert set(kb.intents) == set(kb.answers)


def test_broken_yaml_names_file_and_line(kb_copy):
    target = kb_copy / "intents" / "talent.yaml"
    edit(target, "  - id: talent.golden_panda", "  - id: talent.golden_panda\n   bad: [unclosed")
    with pytest.raises(YAMLSyntaxError) as err:
        load_valid_knowledge_base(kb_copy)
    problem = err.value.problems[0]
    assert problem.file == "intents/talent.yaml"
    assert problem.line and abs(problem.line - line_of(target, "bad: [unclosed")) <= 2
    assert problem.fix


def test_an_unquoted_number_gets_a_quoting_fix(kb_copy):
    target = kb_copy / "content" / "links.yaml"
    edit(target, 'phone: "12345"', "phone: 12345")
    with pytest.raises(SchemaError) as err:
        load_valid_knowledge_base(kb_copy)
    problem = err.value.problems[0]
    assert (problem.file, problem.line) == ("content/links.yaml", line_of(target, "phone:"))
    assert "quote" in problem.fix


def test_a_duplicate_key_is_an_error_not_a_silent_overwrite(kb_copy):
    target = kb_copy / "content" / "messages.yaml"
    edit(target, "  clarify:\n", "  back:\n    zh: 返回\n    en: Back\n  clarify:\n")
    with pytest.raises(YAMLSyntaxError) as err:
        load_valid_knowledge_base(kb_copy)
    assert "twice" in err.value.problems[0].message


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        ("content/answers/housing.yaml", "links: [", "links: [no_such_link, ", "unknown link"),
        ("content/answers/talent.yaml", "plan: 实施“金熊猫”人才计划", "plan: 发放一百万安家费",
         "not in the plan"),
        ("content/answers/talent.yaml", "follow_ups: [", "follow_ups: [talent.nowhere, ",
         "follow-up"),
        ("content/understanding.yaml", " 帮我翻译, 翻译一下,", " (帮我|替我(翻|译))翻译, 翻译一下,",
         "brackets inside brackets"),
        ("content/answers/zone.yaml", "covers: [where, price]", "covers: [where, prices]",
         "unknown request kind"),
        ("content/emergency_examples.yaml", "kind: fire,", "kind: flood,", "is not an emergency"),
        ("content/request_examples.yaml", "kind: price,", "kind: pricey,",
         "is not a request kind"),
        ("content/understanding.yaml", "over: [出院了,", "over: [(出院|(好|没事))了,",
         "brackets inside brackets"),
        ("content/understanding.yaml", "zone: [成都高新,", "zone: [(成都|(高新))区,",
         "brackets inside brackets"),
        ("content/understanding.yaml", "phrases: [不用(你|您)?", "phrases: [不用((你|您))?",
         "brackets inside brackets"),
        ("content/understanding.yaml", "takes_over: [contacts, private]",
         "takes_over: [contacts, privacy]", "takes_over 'privacy' is not another request kind"),
        ("content/understanding.yaml", "stand_alone: [meta.contact]",
         "stand_alone: [meta.contacts]", "stand_alone: 'meta.contacts' is not a known intent"),
        ("content/matching.yaml", "small_talk_order: [meta.goodbye,",
         "small_talk_order: [meta.contact,", "'meta.contact' is not a small-talk intent"),
        ("content/request_examples.yaml", "topic: housing.talent_apartment}",
         "topic: housing.talent_flats}", "is not known"),
    ],
)
def test_inconsistent_content_is_refused(kb_copy, file, old, new, message):
    edit(kb_copy / file, old, new)
    with pytest.raises(ContentError) as err:
        load_valid_knowledge_base(kb_copy)
    assert any(message in p.message and p.file == file and p.line for p in err.value.problems)


def test_an_invented_number_in_an_answer_is_refused(kb_copy):
    target = kb_copy / "content" / "answers" / "housing.yaml"
    text = target.read_text(encoding="utf-8")
    first_zh = re.search(r"\n      zh: [>|]-?\n\s+(\S)", text)
    assert first_zh
    pos = first_zh.start(1)
    target.write_text(text[:pos] + "每月补贴3000元。" + text[pos:], encoding="utf-8")
    with pytest.raises(ContentError) as err:
        load_valid_knowledge_base(kb_copy)
    assert any("3000" in p.message for p in err.value.problems)


def test_a_missing_answer_and_a_missing_language_are_errors(kb_copy):
    answers = kb_copy / "content" / "answers" / "meta.yaml"
    text = answers.read_text(encoding="utf-8")
    start = text.index("  - id: meta.thanks")
    end = text.index("  - id: ", start + 5)
    answers.write_text(text[:start] + text[end:], encoding="utf-8")
    with pytest.raises(ContentError) as err:
        load_valid_knowledge_base(kb_copy)
    assert any("meta.thanks has no answer" in p.message for p in err.value.problems)

    intents = kb_copy / "intents" / "meta.yaml"
    edit(intents, "      en:", "      fr:")
    with pytest.raises(SchemaError) as err:
        load_valid_knowledge_base(kb_copy)
    assert any(p.file == "intents/meta.yaml" and p.line for p in err.value.problems)


def test_a_topic_without_an_intent_is_an_error(kb_copy):
    edit(kb_copy / "content" / "topics.yaml", "topics:\n",
         "topics:\n  - id: talent.moon_base\n    zh: 月球基地\n    en: Moon base\n")
    with pytest.raises(ContentError) as err:
        load_valid_knowledge_base(kb_copy)
    assert any("talent.moon_base" in p.message for p in err.value.problems)


def test_validate_exits_1_and_prints_file_and_line(kb_copy, capsys):
    edit(kb_copy / "content" / "answers" / "housing.yaml", "links: [", "links: [nope, ")
    assert main(["validate", str(kb_copy)]) == 1
    out = capsys.readouterr().out
    assert re.search(r"content/answers/housing\.yaml:\d+: error: .*unknown link key 'nope'", out)


def test_validate_warns_of_examples_two_topics_share(kb_copy, capsys):
    edit(kb_copy / "intents" / "housing.yaml", "        - 保租房\n",
         "        - 保租房\n        - 人才公寓怎么申请啊\n")
    assert main(["validate", str(kb_copy)]) == 0  # a warning, not an error
    out = capsys.readouterr().out
    assert re.search(r"intents/housing\.yaml:\d+: warning: “人才公寓怎么申请” \(housing\.\S+\) and "
                     r"“人才公寓怎么申请啊” \(housing\.\S+\) are 9\d% alike", out), out


def test_validate_passes_on_the_shipped_knowledge_base(capsys):
    assert main(["validate"]) == 0
    assert "0 error(s)" in capsys.readouterr().out


def test_every_loading_error_is_a_knowledge_base_error():
    for cls in (YAMLSyntaxError, SchemaError, ContentError):
        assert issubclass(cls, KnowledgeBaseError)

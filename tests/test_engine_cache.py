"""A start reads the built engine back from the cache: same replies, and never a stale or
broken one (a changed knowledge base or corrupt file means a rebuild)."""

from __future__ import annotations

import json
import logging
import pickle
import shutil
from pathlib import Path

import pytest
from conftest import EVAL, ROOT
from test_cli import policybot

from bot import cache, evaluation
from bot.cache import load_engine, rebuild
from bot.engine import Engine

GREETING = "您好！我是成都高新区政策问答机器人"
EDITED = "欢迎！这里是成都高新区政策问答机器人"


def _no_build(root: Path, directory: Path | None = None) -> Engine:
    raise AssertionError("built the engine instead of reading it from the cache")


def _sets() -> tuple[list[str], dict[str, list]]:
    """The labelled sets of tests/data/eval: the names of the question sets, and each
    conversation set's conversations by name."""
    questions, conversations = [], {}
    for path in sorted(EVAL.glob("*.yaml")):
        _, dialogues = evaluation.load_set(path)
        if dialogues:
            conversations[path.stem] = dialogues
        else:
            questions.append(path.stem)
    return questions, conversations


@pytest.fixture(scope="module")
def cached(tmp_path_factory: pytest.TempPathFactory, engine: Engine, engine_cache: Path) -> Path:
    """A cache folder holding the shipped knowledge base's engine and guessers (the
    session's, which the `engine` fixture built and stored; other tests add the guessers of
    their edited copies there)."""
    folder = tmp_path_factory.mktemp("cache")
    for path in [engine_cache / f"engine-{cache.fingerprint(ROOT)}.pickle",
                 *engine_cache.glob(f"learnt-*-{engine.reader.training_key}.pickle")]:
        shutil.copy(path, folder)
    return folder


@pytest.fixture
def folder(cached: Path, tmp_path: Path) -> Path:
    """A private copy of `cached`, for a test to damage or add to."""
    return Path(shutil.copytree(cached, tmp_path / "cache"))


def test_a_start_from_the_cache_answers_as_a_fresh_engine_does(eval_runs, folder):
    """Every labelled question of tests/data/eval, in a process of its own."""
    fresh = [o for name in _sets()[0] for o in eval_runs(name)]
    run = policybot("ask", "--json", "-", stdin="".join(f"{o.item.q}\n" for o in fresh),
                    env={"POLICYBOT_CACHE": str(folder)})
    assert run.returncode == 0, run.stderr
    want = [o.reply.to_json(o.item.q) for o in fresh]
    assert [json.loads(line) for line in run.stdout.splitlines()] == want
    assert len(list(folder.glob("engine-*.pickle"))) == 1  # read, not built anew


def test_a_cached_engine_holds_conversations_as_a_fresh_one_does(eval_runs, folder,
                                                                 monkeypatch):
    """Every turn of every labelled conversation of tests/data/eval."""
    monkeypatch.setattr(cache, "build_engine", _no_build)
    cached = load_engine(ROOT, folder)
    for name, dialogues in _sets()[1].items():
        got = evaluation.run_conversations(cached, dialogues)
        assert [(o.item.q, o.reply) for o in got] == [(o.item.q, o.reply)
                                                      for o in eval_runs(name)], name


@pytest.mark.parametrize("damage", ["truncated", "garbage", "not an engine"])
def test_a_broken_cache_file_is_rebuilt_with_the_right_answers(engine, folder, caplog, damage,
                                                              monkeypatch):
    (path,) = folder.glob("engine-*.pickle")
    data = path.read_bytes()
    header, _, body = data.partition(b"\n")
    if damage == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        path.write_bytes(header + b"\n" + bytes(reversed(body)))
    else:  # a valid file holding something else: the checksum matches, the content does not
        body = pickle.dumps(({}, "not an engine"))
        path.write_bytes(header.rsplit(b" ", 1)[0] + f" {cache.zlib.crc32(body)}\n".encode()
                         + body)
    with caplog.at_level(logging.INFO, logger="bot.cache"):
        rebuilt = load_engine(ROOT, folder)
    assert "rebuilding" in caplog.text
    assert rebuilt.reply("你好").text == engine.reply("你好").text
    monkeypatch.setattr(cache, "build_engine", _no_build)
    again = load_engine(ROOT, folder)  # rewritten whole: read back this time
    assert again.reply("人才公寓怎么申请").text == engine.reply("人才公寓怎么申请").text


def test_an_edited_knowledge_base_is_rebuilt_at_the_next_start(kb_copy, tmp_path):
    env = {"POLICYBOT_CACHE": str(tmp_path / "cache")}
    assert GREETING in load_engine(kb_copy, tmp_path / "cache").reply("你好").text
    answers = kb_copy / "content" / "answers" / "meta.yaml"
    answers.write_text(answers.read_text(encoding="utf-8").replace(GREETING, EDITED),
                       encoding="utf-8")
    run = policybot("--kb", str(kb_copy), "ask", "--json", "你好", env=env)
    assert run.returncode == 0, run.stderr
    assert EDITED in json.loads(run.stdout)["text"]


def test_an_unwritable_cache_folder_only_costs_the_rebuild(engine, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder would be")
    assert load_engine(ROOT, blocker / "cache").reply("你好") == engine.reply("你好")


def test_a_reload_builds_from_the_files_whatever_the_cache_holds(kb_copy, tmp_path,
                                                                monkeypatch):
    folder = tmp_path / "cache"
    old = load_engine(kb_copy, folder)
    answers = kb_copy / "content" / "answers" / "meta.yaml"
    answers.write_text(answers.read_text(encoding="utf-8").replace(GREETING, EDITED),
                       encoding="utf-8")
    # A cache file claiming to be of the edited files, holding the old engine.
    (path,) = folder.glob("engine-*.pickle")
    path.rename(folder / f"engine-{cache.fingerprint(kb_copy)}.pickle")
    assert EDITED in rebuild(kb_copy, folder).reply("你好").text
    assert GREETING in old.reply("你好").text
    monkeypatch.setattr(cache, "build_engine", _no_build)
    assert EDITED in load_engine(kb_copy, folder).reply("你好").text  # what reload cached


UNLISTED_EMERGENCY = "孩子把一整瓶退烧药都喝了"  # only the learnt detector knows this one


def _learnt(folder: Path) -> list[Path]:
    return sorted(folder.glob("learnt-*.pickle"))


def test_an_edited_answer_keeps_the_learnt_guessers_an_edited_example_retrains_them(
        kb_copy, tmp_path, engine):
    folder = tmp_path / "cache"
    load_engine(kb_copy, folder)
    (first,) = _learnt(folder)
    answers = kb_copy / "content" / "answers" / "meta.yaml"
    answers.write_text(answers.read_text(encoding="utf-8").replace(GREETING, EDITED),
                       encoding="utf-8")
    assert EDITED in rebuild(kb_copy, folder).reply("你好").text
    assert _learnt(folder) == [first]  # what they learn from is unchanged
    examples = kb_copy / "content" / "emergency_examples.yaml"
    examples.write_text("examples: []\n", encoding="utf-8")
    assert rebuild(kb_copy, folder).reply(UNLISTED_EMERGENCY).request != "emergency"
    assert len(_learnt(folder)) == 2
    assert engine.reply(UNLISTED_EMERGENCY).request == "emergency"


def test_a_broken_learnt_file_is_learnt_again_with_the_right_answers(folder, engine):
    (learnt,) = _learnt(folder)
    learnt.write_bytes(learnt.read_bytes()[:1000])
    for path in folder.glob("engine-*.pickle"):
        path.unlink()  # so that the next start builds, and reads the learnt file
    run = policybot("ask", "--json", UNLISTED_EMERGENCY, env={"POLICYBOT_CACHE": str(folder)})
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == engine.reply(UNLISTED_EMERGENCY).to_json(UNLISTED_EMERGENCY)
    assert learnt.stat().st_size > 1000  # written whole again

"""Staff commands on the server: stats, unanswered, stale, and eval --diff before a reload."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import re
import subprocess
import sys

import pytest
from conftest import ROOT

from bot.storage import open_storage


def policybot(*args: str, env: dict | None = None):
    return subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True,
                          text=True, cwd=ROOT, env={**os.environ, **(env or {})}, timeout=120)


def seed(path) -> None:
    async def go():
        storage = await open_storage(path, secret="s")
        for uid, text, kind, intent in (
            (1, "人才公寓怎么申请", "answer", "housing.talent_apartment"),
            (2, "talent apartment", "answer", "housing.talent_apartment"),
            (3, "where to buy a bicycle", "fallback", None),
            (4, "where can I buy a bicycle", "fallback", None),
        ):
            row = await storage.log_message(uid, text=text, lang="en", kind=kind, intent=intent,
                                            score=50.0)
            if kind == "fallback":
                await storage.record_unanswered(uid, row, text, "en")
            else:
                await storage.add_feedback(uid, row, 1)
        await storage.close()

    asyncio.run(go())


def test_stats_and_unanswered_read_the_bots_database(tmp_path):
    db = tmp_path / "bot.sqlite3"
    seed(db)
    env = {"DATABASE_PATH": str(db), "USER_HASH_SECRET": "s"}
    stats = policybot("stats", env=env)
    assert stats.returncode == 0, stats.stderr
    assert "4 questions from 4 users" in stats.stdout and "housing.talent_apartment" in stats.stdout
    grouped = policybot("unanswered", env=env)
    assert "2 × " in grouped.stdout and "bicycle" in grouped.stdout
    rows = list(csv.reader(io.StringIO(policybot("unanswered", "--csv", env=env).stdout)))
    assert rows[0][-1] == "question" and len(rows) == 3


def test_the_reports_read_a_postgresql_database_named_by_database_url(tmp_path,
                                                                     postgres_server):
    from storage_backends import PostgresBackend

    if postgres_server.url is None:
        pytest.skip(postgres_server.reason)
    database = asyncio.run(PostgresBackend.create(postgres_server.url))
    try:
        seed(database.url)
        env = {"DATABASE_URL": database.url, "DATABASE_PATH": str(tmp_path / "unused.sqlite3"),
               "USER_HASH_SECRET": "s"}
        stats = policybot("stats", env=env)
        assert stats.returncode == 0, stats.stderr
        assert "4 questions from 4 users" in stats.stdout
        assert "2 × " in policybot("unanswered", env=env).stdout
        assert not (tmp_path / "unused.sqlite3").exists()
    finally:
        asyncio.run(database.drop())


def test_stale_lists_nothing_for_freshly_reviewed_answers_and_all_for_a_zero_window():
    assert "none was last reviewed" in policybot("stale").stdout
    every = policybot("stale", env={"STALE_DAYS": "-1"}).stdout.splitlines()
    assert len(every) == 1 + 77
    # the engine is cached by now: a start from the cache still names each answer's place
    again = policybot("stale", env={"STALE_DAYS": "-1"}).stdout.splitlines()
    assert again == every
    assert all(re.search(r"\(content/answers/\w+\.yaml:\d+\)$", row) for row in again[1:])


def test_eval_diff_shows_what_an_edit_breaks_before_it_is_reloaded(kb_copy):
    intents = kb_copy / "intents" / "housing.yaml"
    text = intents.read_text(encoding="utf-8")
    start = text.index("  - id: housing.talent_apartment")
    end = text.index("  - id: ", start + 5)
    # An admin "tidies" the talent-apartment intent down to one example and no keywords.
    intents.write_text(text[:start] + "  - id: housing.talent_apartment\n    examples:\n"
                       "      zh: [公寓]\n      en: [flat]\n" + text[end:], encoding="utf-8")
    run = policybot("--kb", str(kb_copy), "eval", "tests/data/eval/dev.yaml", "--diff", str(ROOT))
    assert run.returncode == 1, run.stdout + run.stderr
    assert "worse" in run.stdout and "housing.talent_apartment" in run.stdout
    same = policybot("eval", "tests/data/eval/dev.yaml", "--diff", str(ROOT))
    assert same.returncode == 0 and "0 question(s) change" in same.stdout

"""Admin tooling in Telegram: reload, stats, unanswered, export, stale, and /forget."""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import shutil
import sqlite3
import time

import pytest
from bot_process import ROOT, BotProcess
from fake_bot_api import FakeBotAPI
from telegram_support import callback_data, command, press, say, to_chat

ADMIN = 9001
SECRET = "test-hash-secret"
# A reload builds the whole engine (seconds of CPU, in a process of its own): how long it
# takes is for benchmarks/, so the tests wait for its reply as long as a build could take.
REBUILD = 90.0


def user_key(user_id: int) -> str:
    return hmac.new(SECRET.encode(), str(user_id).encode(), hashlib.sha256).hexdigest()[:32]


def copy_kb(path):
    for folder in ("intents", "content"):
        shutil.copytree(ROOT / folder, path / folder)
    return path


@pytest.fixture(scope="module")
def kb(tmp_path_factory):
    return copy_kb(tmp_path_factory.mktemp("kb"))


@pytest.fixture(scope="module")
def bot(fake, kb, tmp_path_factory):
    process = BotProcess(fake, tmp_path_factory.mktemp("admin"), ADMIN_IDS=f"{ADMIN}, 9002",
                         POLICYBOT_KB=str(kb), USER_HASH_SECRET=SECRET).start()
    yield process
    process.stop()


def test_a_broken_edit_is_refused_and_the_last_good_answers_keep_flowing(fake, bot, kb):
    talent = kb / "intents" / "talent.yaml"
    good = talent.read_text(encoding="utf-8")
    talent.write_text(good.replace("examples:", "examples: [oops", 1), encoding="utf-8")
    try:
        report = command(fake, "/reload", ADMIN, timeout=REBUILD).params["text"]
        assert "Reload refused" in report and "intents/talent.yaml:" in report
        # Users are still answered from the last good knowledge base, during and after.
        assert "金熊猫" in say(fake, "金熊猫人才计划", 401).params["text"]
    finally:
        talent.write_text(good, encoding="utf-8")
    assert "reloaded: 77 intents" in command(fake, "/reload", ADMIN, timeout=REBUILD).params["text"]


def test_a_good_edit_is_live_after_reload(fake, bot, kb):
    answers = kb / "content" / "answers" / "meta.yaml"
    text = answers.read_text(encoding="utf-8")
    marker = "Edited by the policy team."
    start = text.index("id: meta.thanks")
    en = text.index("      en:", start)
    answers.write_text(text[:en] + f"      en: >-\n        {marker}\n" +
                       text[text.index("\n    ", text.index("\n", en + 10)):], encoding="utf-8")
    try:
        assert "reloaded" in command(fake, "/reload", ADMIN, timeout=REBUILD).params["text"]
        assert marker in say(fake, "thank you", 402).params["text"]
    finally:
        answers.write_text(text, encoding="utf-8")
        command(fake, "/reload", ADMIN, timeout=REBUILD)


def test_stats_show_questions_users_shares_top_topics_and_feedback(fake, bot):
    reply = say(fake, "人才公寓怎么申请", 403)
    press(fake, next(d for d in callback_data(reply) if d.endswith(":d")), 403)
    say(fake, "best hotpot in town", 404)
    text = command(fake, "/stats", ADMIN).params["text"]
    for words in ("Last 1 days", "Last 7 days", "Last 30 days", "Top topics",
                  "housing.talent_apartment", "👎"):
        assert words in text
    assert "Last 3 days" in command(fake, "/stats", ADMIN, args="3").params["text"]


def test_unanswered_groups_similar_questions_most_frequent_first(fake, bot):
    for uid, q in ((405, "how to fix a bicycle chain"), (406, "how do I fix my bicycle chain"),
                   (407, "fixing a bicycle chain?"), (408, "how do I grow tomatoes on a balcony")):
        assert "recorded" in say(fake, q, uid).params["text"]
    text = command(fake, "/unanswered", ADMIN).params["text"]
    lines = [line for line in text.splitlines() if "×" in line]
    assert lines[0].strip().startswith("3 ×") and "chain" in lines[0]
    assert any("tomatoes" in line for line in lines[1:])


def test_export_sends_the_unanswered_questions_and_feedback_as_csv(fake, bot):
    say(fake, "where is the nearest ski resort", 409)
    mark = fake.mark()
    fake.push_command("/export", user_id=ADMIN)
    fake.wait_for_sync("sendDocument", to_chat(ADMIN), after=mark)
    docs = fake.wait_for_sync("sendDocument", lambda c: c.file_names.get("document") ==
                              "feedback.csv", after=mark)
    first = next(c for c in fake.calls[mark:] if c.method == "sendDocument")
    assert first.file_names["document"] == "unanswered.csv"
    rows = list(csv.reader(io.StringIO(first.files["document"].decode("utf-8-sig"))))
    assert rows[0] == ["time_utc", "lang", "question"]
    assert any("ski resort" in r[2] for r in rows[1:])
    feedback = list(csv.reader(io.StringIO(docs.files["document"].decode("utf-8-sig"))))
    assert feedback[0] == ["time_utc", "intent", "question", "vote"]


def test_stale_lists_answers_not_reviewed_for_too_long(fake, bot, kb):
    answers = kb / "content" / "answers" / "zone.yaml"
    text = answers.read_text(encoding="utf-8")
    answers.write_text(text.replace("reviewed: 2026-11-25", "reviewed: 2020-01-01", 1),
                       encoding="utf-8")
    try:
        command(fake, "/reload", ADMIN, timeout=REBUILD)
        stale = command(fake, "/stale", ADMIN).params["text"]
        assert "2020-01-01" in stale and "content/answers/zone.yaml:" in stale
    finally:
        answers.write_text(text, encoding="utf-8")
        command(fake, "/reload", ADMIN, timeout=REBUILD)


def test_admin_commands_need_an_admin(fake, bot):
    assert "don't know that command" in command(fake, "/stats", 410).params["text"]


def test_forget_deletes_everything_about_the_user_and_nothing_else(fake, bot):
    for uid in (411, 412):
        command(fake, "/lang", uid, args="en")
        reply = say(fake, "talent apartment", uid)
        press(fake, next(d for d in callback_data(reply) if d.endswith(":u")), uid)
        say(fake, "where can I buy a telescope", uid)
    with sqlite3.connect(bot.database) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]

    def mentions(uid: int) -> int:
        with sqlite3.connect(bot.database) as db:
            dump = "\n".join(db.iterdump())
        return dump.count(user_key(uid)) + dump.count(f"'{uid}'")

    assert mentions(411) > 0 and "users" in tables
    confirm = command(fake, "/forget", 411)
    assert set(callback_data(confirm)) == {"1:x:y", "1:x:n"}
    assert mentions(411) > 0  # nothing is deleted before the user confirms
    mark = fake.mark()
    fake.push_callback("1:x:y", user_id=411)
    assert "deleted" in fake.wait_for_sync("editMessageText", to_chat(411), after=mark
                                           ).params["text"]
    assert mentions(411) == 0
    assert mentions(412) > 0
    with sqlite3.connect(bot.database) as db:
        dump = "\n".join(db.iterdump())
    assert "buy a telescope" in dump  # 412's question is still there ...
    assert dump.count("buy a telescope") == 2  # ... (message + unanswered), 411's is gone


def test_user_ids_are_never_stored_raw(fake, bot):
    say(fake, "金熊猫", 413413)
    with sqlite3.connect(bot.database) as db:
        dump = "\n".join(db.iterdump())
    assert "413413" not in dump


def test_edited_yaml_reloads_by_itself_when_auto_reload_is_on(tmp_path):
    kb = copy_kb(tmp_path / "kb")
    with FakeBotAPI() as fake:
        bot = BotProcess(fake, tmp_path, ADMIN_IDS=str(ADMIN), POLICYBOT_KB=str(kb),
                         AUTO_RELOAD="1").start()
        try:
            mark = fake.mark()
            topics = kb / "content" / "topics.yaml"
            time.sleep(1.1)  # a new modification time
            topics.write_text(topics.read_text(encoding="utf-8") + "  - {oops\n",
                              encoding="utf-8")
            note = fake.wait_for_sync("sendMessage", to_chat(ADMIN), after=mark, timeout=REBUILD)
            assert "Reload refused" in note.params["text"]
            assert "content/topics.yaml:" in note.params["text"]
            assert "人才公寓" in say(fake, "人才公寓", 414).params["text"]
        finally:
            bot.stop()


def test_debug_logs_never_show_a_pseudonym_beside_the_user_id_it_stands_for(fake, bot):
    say(fake, "talent apartment", 413)
    command(fake, "/lang", 413, args="en")
    logs = bot.logs()
    assert "DEBUG" in logs and "413" in logs  # PTB logs updates, user ids included, at DEBUG
    assert user_key(413) not in logs

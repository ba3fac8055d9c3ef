"""Telegram faults: the bot keeps serving everyone, retries lost replies, survives restarts."""

from __future__ import annotations

import shutil
import sqlite3
import time

import pytest
from bot_process import ROOT, BotProcess
from fake_bot_api import TOKEN, FakeBotAPI
from telegram_support import command, say, to_chat


@pytest.fixture(scope="module")
def bot(fake, tmp_path_factory):
    process = BotProcess(fake, tmp_path_factory.mktemp("faults")).start()
    yield process
    process.stop()


def replies_to(fake: FakeBotAPI, chat_id: int, after: int) -> list:
    return [c for c in fake.calls[after:] if c.method == "sendMessage"
            and c.params.get("chat_id") == chat_id]


@pytest.mark.parametrize(
    ("fault", "user"),
    [
        (lambda f: f.fail("sendMessage", status=429, retry_after=1), 201),
        (lambda f: f.fail("sendMessage", status=500, times=2), 202),
        (lambda f: f.fail("sendMessage", status=502), 203),
        (lambda f: f.drop("sendMessage"), 204),
        (lambda f: f.delay("sendMessage", 1.5), 205),
    ],
    ids=["429-retry-after", "500-twice", "502", "dropped-connection", "slow"],
)
def test_a_reply_that_meets_a_fault_is_retried_and_delivered(fake, bot, fault, user):
    mark = fake.mark()
    fault(fake)
    fake.push_message("人才公寓怎么申请", user_id=user)
    delivered = fake.wait_for_sync("sendMessage", lambda c: c.ok and c.params["chat_id"] == user,
                                   after=mark, timeout=20)
    assert "人才公寓" in delivered.params["text"]
    assert len([c for c in replies_to(fake, user, mark) if c.ok]) == 1


def test_a_429_waits_as_long_as_telegram_asks(fake, bot):
    mark = fake.mark()
    fake.fail("sendMessage", status=429, retry_after=2)
    fake.push_message("金熊猫", user_id=206)
    ok = fake.wait_for_sync("sendMessage", lambda c: c.ok and c.params["chat_id"] == 206,
                            after=mark, timeout=20)
    failed = next(c for c in replies_to(fake, 206, mark) if not c.ok)
    assert ok.at - failed.at >= 1.9


def test_one_slow_reply_does_not_hold_up_other_users(fake, bot):
    mark = fake.mark()
    fake.delay("sendMessage", 3.0)
    fake.push_message("人才公寓", user_id=207)
    time.sleep(0.3)  # the slow reply is on its way
    fake.push_message("金熊猫", user_id=208)
    quick = fake.wait_for_sync("sendMessage", lambda c: c.ok and c.params["chat_id"] == 208,
                               after=mark, timeout=10)
    slow = fake.wait_for_sync("sendMessage", lambda c: c.ok and c.params["chat_id"] == 207,
                              after=mark, timeout=10)
    # Calls are recorded when their response is decided: the quick reply completed first.
    order = [id(c) for c in fake.calls]
    assert order.index(id(quick)) < order.index(id(slow))


def test_a_user_who_blocked_the_bot_does_not_stop_it(fake, bot):
    mark = fake.mark()
    fake.fail("sendMessage", status=403)
    fake.push_message("你好", user_id=209)
    fake.wait_for_sync("sendMessage", lambda c: not c.ok and c.params["chat_id"] == 209,
                       after=mark)
    assert "人才公寓" in say(fake, "人才公寓", 210).params["text"]
    assert bot.running()


def test_polling_survives_getupdates_failures(fake, bot):
    fake.fail("getUpdates", status=500, times=2)
    time.sleep(0.5)
    assert "金熊猫" in say(fake, "金熊猫计划", 211).params["text"]


def test_the_token_never_appears_in_the_logs_even_after_faults(fake, bot):
    fake.fail("sendMessage", status=500)
    say(fake, "hello", 212)
    logs = bot.logs()
    assert "sendMessage" in logs  # the faults were logged...
    assert TOKEN not in logs and TOKEN.split(":")[1] not in logs  # ...without the token


def test_start_up_survives_a_bot_api_outage(tmp_path):
    with FakeBotAPI() as fake:
        fake.fail("getMe", status=502, times=2)
        bot = BotProcess(fake, tmp_path).start(timeout=40)
        try:
            assert len(fake.calls_to("getMe")) >= 3
            assert "人才公寓" in say(fake, "人才公寓", 301).params["text"]
        finally:
            bot.stop()


def test_a_restart_finds_its_database_intact(tmp_path):
    with FakeBotAPI() as fake:
        bot = BotProcess(fake, tmp_path).start()
        command(fake, "/lang", 302, args="zh")
        say(fake, "golden panda", 302)
        assert bot.stop() == 0
        with sqlite3.connect(bot.database) as db:
            before = db.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
        assert before >= 1

        bot.start()
        try:
            # The language chosen before the restart still decides the reply language.
            assert "金熊猫" in say(fake, "golden panda program", 302).params["text"]
        finally:
            bot.stop()
        with sqlite3.connect(bot.database) as db:
            assert db.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == before + 1


def test_a_refused_token_is_reported_clearly(tmp_path):
    with FakeBotAPI() as fake:
        bot = BotProcess(fake, tmp_path, TELEGRAM_BOT_TOKEN="999:wrong-token")
        bot.start(ready=False)
        assert bot.wait_exit(30) == 1
        logs = bot.logs()
        assert "TELEGRAM_BOT_TOKEN" in logs and "wrong-token" not in logs


def test_a_broken_knowledge_base_at_start_up_is_reported_with_file_and_line(tmp_path):
    kb = tmp_path / "kb"
    for folder in ("intents", "content"):
        shutil.copytree(ROOT / folder, kb / folder)
    (kb / "content" / "links.yaml").write_text("links: {cdht: [\n", encoding="utf-8")
    with FakeBotAPI() as fake:
        bot = BotProcess(fake, tmp_path, POLICYBOT_KB=str(kb))
        bot.start(ready=False)
        assert bot.wait_exit(30) == 1
        logs = bot.logs()
        assert "content/links.yaml:" in logs and "Traceback" not in logs


# -- malformed updates, database faults, delivery faults (the same running bot) -------------


@pytest.mark.parametrize("message", [
    {"message_id": 5, "from": "mallory", "chat": {"id": 220, "type": "private"},
     "date": 1, "text": "人才公寓"},
    {"text": "人才公寓"},  # no message id, chat or date
], ids=["from-is-a-string", "missing-required-fields"])
def test_a_malformed_update_is_logged_once_and_skipped(fake, bot, message):
    bad = fake.push_update({"message": message})["update_id"]
    assert "人才公寓" in say(fake, "人才公寓", 221).params["text"]  # the next one is answered
    deadline = time.monotonic() + 10
    while bad in [u["update_id"] for u in fake.pending_updates]:  # confirmed, not sent again
        assert time.monotonic() < deadline, "the malformed update is still offered"
        time.sleep(0.05)
    assert bot.logs().count(f"skipped malformed update {bad}:") == 1
    assert bot.running()


def test_forget_that_the_database_refuses_says_it_did_not_work(fake, bot):
    command(fake, "/lang", 222, args="en")
    say(fake, "talent apartment", 222)
    command(fake, "/forget", 222)
    with sqlite3.connect(bot.database) as db:  # stands in for a disk that refuses writes
        db.execute("CREATE TRIGGER refuse BEFORE DELETE ON users"
                   " BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END")
        before = db.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
    try:
        mark = fake.mark()
        fake.push_callback("1:x:y", user_id=222)
        told = fake.wait_for_sync("editMessageText", to_chat(222), after=mark).params["text"]
    finally:
        with sqlite3.connect(bot.database) as db:
            db.execute("DROP TRIGGER refuse")
    assert "could not be deleted" in told and "has been deleted" not in told
    with sqlite3.connect(bot.database) as db:  # and indeed nothing was deleted
        assert db.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == before
    assert "could not forget a user" in bot.logs()


def test_a_group_that_became_a_supergroup_gets_its_reply_at_the_new_id(fake, bot):
    old, new = -223, -100_000_000_223
    mark = fake.mark()
    fake.migrate("sendMessage", new)
    fake.push_message("@cdht_policy_bot 人才公寓怎么申请", user_id=223, chat_id=old,
                      chat_type="group")
    moved = fake.wait_for_sync("sendMessage", to_chat(new), after=mark)
    assert "人才公寓" in moved.params["text"]
    sent = [c for c in fake.calls[mark:] if c.method == "sendMessage" and c.ok]
    assert sent == [moved]


def test_a_reply_whose_answer_never_comes_back_is_not_sent_twice(fake, bot):
    mark = fake.mark()
    fake.slow_answer("sendMessage", 7.0)  # delivered at once, answered after PTB's 5 s timeout
    fake.push_message("人才公寓怎么申请", user_id=224)
    fake.wait_for_sync("sendMessage", to_chat(224), after=mark)
    deadline = time.monotonic() + 15
    while "may have delivered it" not in bot.logs():  # the bot gave up waiting...
        assert time.monotonic() < deadline, "the bot never gave up waiting for its reply"
        time.sleep(0.1)
    time.sleep(1.0)  # ...and a repeat would come within the first retry delay
    assert len(replies_to(fake, 224, mark)) == 1
    assert bot.running()

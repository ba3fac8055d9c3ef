"""Durability: what an operator sees when the process is killed, Telegram misbehaves or the
database goes away. Each test runs its own `policybot run` process against the fake Bot API."""

from __future__ import annotations

import signal
import sqlite3
import time
from collections import Counter

import pytest
from bot_process import BotProcess
from fake_bot_api import TOKEN, FakeBotAPI
from telegram_support import say, to_chat

USERS = 25
PER_USER = 8  # flood control lets a user send 8 at once: every message is owed a reply
STREAM = 200


def group_of(user: int) -> int:
    return -100_500_000 - user


def answers_per_message(fake: FakeBotAPI) -> Counter:
    """(chat, message id) → how many successful replies quoted it (group answers reply to the
    asker's message, so each reply names the one message it answers)."""
    counts: Counter = Counter()
    for call in fake.calls_to("sendMessage"):
        quoted = (call.params.get("reply_parameters") or {}).get("message_id")
        if call.ok and quoted is not None:
            counts[(call.params["chat_id"], quoted)] += 1
    return counts


def wait_until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(0.05)


def test_a_bot_killed_mid_stream_answers_every_message_exactly_once_after_restart(tmp_path):
    with FakeBotAPI() as fake:
        sent = []
        for n in range(STREAM):
            user = 7000 + n % USERS
            update = fake.push_message(f"@cdht_policy_bot 人才公寓怎么申请 #{n}", user_id=user,
                                       chat_id=group_of(user), chat_type="supergroup")
            sent.append((group_of(user), update["message"]["message_id"]))
        assert max(Counter(chat for chat, _ in sent).values()) <= PER_USER

        bot = BotProcess(fake, tmp_path).start()
        wait_until(lambda: len(answers_per_message(fake)) >= STREAM // 4, 60,
                   "a quarter of the stream answered")
        # From now on Telegram takes replies on but never answers: the bot is killed with
        # replies in flight (which Telegram then drops), answered ones, and unread ones.
        fake.delay("sendMessage", 120, times=10 * STREAM)
        time.sleep(1.0)  # every reply in hand is now waiting on Telegram
        bot.proc.send_signal(signal.SIGKILL)
        bot.proc.wait(10)
        bot.stop()
        fake.heal("sendMessage")
        killed_at = len(answers_per_message(fake))
        assert killed_at < STREAM, "the stream was over before the kill: nothing was tested"

        bot.start()
        try:
            wait_until(lambda: len(answers_per_message(fake)) >= STREAM, 60,
                       "every message answered after the restart")
            time.sleep(0.5)  # a late duplicate would arrive now
            counts = answers_per_message(fake)
        finally:
            assert bot.stop() == 0
        assert set(counts) == set(sent)  # none lost
        assert [m for m, n in counts.items() if n > 1] == []  # none answered twice
        with sqlite3.connect(bot.database) as db:
            logged = Counter(t for (t,) in db.execute("SELECT text FROM messages"))
        assert len(logged) == STREAM and set(logged.values()) == {1}  # each logged once
        assert "answering" in bot.logs()  # the restart said it picked up where it was killed


# -- a refused token, SIGTERM in an outage, a database that vanished ------------------------


def assert_clear_refusal(bot: BotProcess) -> None:
    logs = bot.logs()
    assert "TELEGRAM_BOT_TOKEN" in logs and "@BotFather" in logs
    assert "Traceback" not in logs
    assert TOKEN not in logs and TOKEN.split(":")[1] not in logs


def test_a_401_on_getupdates_mid_run_stops_the_bot_with_a_clear_message(tmp_path):
    with FakeBotAPI() as fake:
        bot = BotProcess(fake, tmp_path).start()
        assert "人才公寓" in say(fake, "人才公寓", 601).params["text"]
        fake.fail("getUpdates", status=401, times=100)  # the token was revoked
        fake.push_message("金熊猫", user_id=602)  # ends the long poll under way
        assert bot.wait_exit(15) == 1
        assert_clear_refusal(bot)


def test_a_404_on_sendmessage_stops_the_bot_with_a_clear_message(tmp_path):
    # PTB reads 401 and 404 alike: the token is not (or no longer) a bot's.
    with FakeBotAPI() as fake:
        bot = BotProcess(fake, tmp_path).start()
        fake.fail("sendMessage", status=404, times=100)
        fake.push_message("人才公寓", user_id=603)
        assert bot.wait_exit(15) == 1
        assert_clear_refusal(bot)


@pytest.mark.parametrize("outage", ["running", "starting"])
def test_sigterm_ends_the_bot_within_10_s_during_a_bot_api_outage(tmp_path, outage):
    with FakeBotAPI() as fake:
        bot = BotProcess(fake, tmp_path)
        if outage == "starting":
            fake.fail("getMe", status=502, times=1000)
            bot.start(ready=False)
            fake.wait_for_sync("getMe", lambda c: c.status == 502, timeout=20)
        else:
            bot.start()
            fake.delay("sendMessage", 120, times=100)  # replies hang...
            fake.push_message("人才公寓", user_id=604)
            fake.fail("getUpdates", status=502, times=1000)  # ...and polling fails
            fake.wait_for_sync("getUpdates", lambda c: c.status == 502, timeout=20)
        bot.proc.send_signal(signal.SIGTERM)
        assert bot.wait_exit(10) == 0, "still running 10 s after SIGTERM"
        assert "Traceback" not in bot.logs()


def test_a_database_deleted_under_the_running_bot_is_noticed_and_reported(tmp_path):
    with FakeBotAPI() as fake:
        bot = BotProcess(fake, tmp_path, ADMIN_IDS="9100").start()
        try:
            say(fake, "人才公寓", 605)
            for path in bot.database.parent.glob("bot.sqlite3*"):
                if not path.name.endswith(".secret"):
                    path.unlink()
            told = fake.wait_for_sync("sendMessage", to_chat(9100), timeout=20)
            assert "was deleted" in told.params["text"]
            assert "人才公寓" in say(fake, "人才公寓", 606).params["text"]  # still answering
        finally:
            bot.stop()
        logs = bot.logs()
        assert logs.count("database: the database file") == 1
        assert "was deleted while the bot runs" in logs

"""Durability: what an operator sees when the process is killed, Telegram misbehaves or the
database goes away. Each test runs its own `policybot run` process against the fake Bot API."""

from __future__ import annotations

import signal
import sqlite3
import time
from collections import Counter

from bot_process import BotProcess
from fake_bot_api import FakeBotAPI

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

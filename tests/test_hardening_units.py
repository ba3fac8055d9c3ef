"""Fast specifications beside the end-to-end ones: the clarify decision, flood control on an
injected clock, button data round trips, delivery retries, the privacy of what is stored and
exported. The only double is Telegram itself (PTB's own error types, as its transport raises
them)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging

import httpx
import pytest
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)

from bot import reports
from bot.engine.decide import Reading, decide
from bot.flood import Bucket, Check, Rules, Verdict, take
from bot.matching.index import Candidate
from bot.storage import UnansweredRow
from bot.telegram_ui import buttons as b
from bot.telegram_ui.delivery import deliver

# -- the clarify branch of the decision ------------------------------------------------------


def decided(engine, *scores: tuple[str, float]):
    ranked = [Candidate(intent, score, "") for intent, score in scores]
    reading = Reading(normalized="x", language="en", ranked=ranked)
    return decide(reading, "en", engine.kb.matching, engine.compose, lambda r, p: False,
                  lambda r: ("", 0.0))  # no learnt topic: the ranking alone decides


def test_two_close_topics_get_a_clarify_offering_both(engine):
    m = engine.kb.matching
    top = m.answer_threshold + 1
    reply = decided(engine, ("housing.talent_apartment", top),
                    ("talent.golden_panda", top - m.margin / 2))
    assert reply.kind == "clarify"
    assert [o.intent for o in reply.options] == ["housing.talent_apartment",
                                                 "talent.golden_panda"]


def test_a_clarify_offers_only_topics_within_the_spread_at_most_three(engine):
    m = engine.kb.matching
    top = m.clarify_threshold + m.clarify_spread + 2
    ids = list(engine.kb.intents)[:5]
    scores = [(ids[0], top), (ids[1], top - 1), (ids[2], top - 2), (ids[3], top - 3),
              (ids[4], top - m.clarify_spread - 1)]
    reply = decided(engine, *scores)
    assert reply.kind == "clarify" and [o.intent for o in reply.options] == ids[:3]


def test_a_weak_lone_best_topic_is_offered_as_did_you_mean(engine):
    m = engine.kb.matching
    reply = decided(engine, ("housing.talent_apartment", m.clarify_threshold + 1))
    assert reply.kind == "clarify" and len(reply.options) == 1
    assert reply.text == engine.compose.message("did_you_mean", "en")


def test_below_the_clarify_threshold_is_an_honest_fallback(engine):
    m = engine.kb.matching
    reply = decided(engine, ("housing.talent_apartment", m.clarify_threshold - 0.5))
    assert reply.kind == "fallback" and reply.unanswered


# -- flood control, on an injected clock -----------------------------------------------------


class _Buckets:
    """One bucket per user, kept the way storage.take_token keeps them (in memory here)."""

    def __init__(self, burst: int, refill: float) -> None:
        self.rules = Rules(burst, refill)
        self.buckets: dict[int, Bucket] = {}

    def check(self, user: int, now: float) -> Check:
        self.buckets[user], check = take(self.buckets.get(user), now, self.rules)
        return check


def test_a_burst_is_allowed_then_one_notice_then_silence_until_refilled():
    gate = _Buckets(burst=3, refill=2.0)
    assert [gate.check(1, now=0.0).verdict for _ in range(3)] == [Verdict.ALLOW] * 3
    notice = gate.check(1, now=0.0)
    assert notice.verdict is Verdict.NOTIFY and notice.wait == 2
    assert gate.check(1, now=0.5).verdict is Verdict.DROP
    assert gate.check(1, now=2.0).verdict is Verdict.ALLOW  # one token back after `refill`
    assert gate.check(1, now=2.0).verdict is Verdict.NOTIFY  # told again: a new episode


def test_human_pace_never_runs_out_and_users_do_not_share_a_bucket():
    gate = _Buckets(burst=3, refill=2.0)
    assert all(gate.check(1, now=t * 2.0).verdict is Verdict.ALLOW for t in range(100))
    for _ in range(3):
        gate.check(2, now=0.0)
    assert gate.check(2, now=0.0).verdict is Verdict.NOTIFY
    assert gate.check(3, now=0.0).verdict is Verdict.ALLOW


def test_the_wait_announced_is_whole_seconds_and_enough():
    gate = _Buckets(burst=1, refill=3.0)
    gate.check(1, now=0.0)
    wait = gate.check(1, now=1.0).wait
    assert wait == 2
    assert gate.check(1, now=1.0 + wait).verdict is Verdict.ALLOW


# -- button data -----------------------------------------------------------------------------


@pytest.mark.parametrize("button", [
    b.Menu(), b.Home(), b.Area("talent"), b.Topic("housing.talent_apartment"),
    b.Language("zh-hant"), b.Vote(123456789012, True), b.Vote(0, False), b.NoneOfThese(),
    b.Forget(True), b.Forget(False),
])
def test_every_button_unpacks_to_itself_and_only_for_its_own_kind(button):
    data = button.pack()
    assert len(data.encode()) <= 64
    assert type(button).unpack(data) == button
    assert [k for k in b.KINDS if k.unpack(data) is not None] == [type(button)]


@pytest.mark.parametrize("data", [
    None, "", "1:f:²:u", "1:f:١٢:u", "1:f:1234567890123:u", "1:f:-1:u", "1:f:1:x", "1:f:1",
    "2:t:housing.talent_apartment", "1:t:Housing", "1:t:a:b", "1:l:english", "1:x:maybe",
    "1:m:extra", "1:a:" + "a" * 70,
])
def test_malformed_or_forged_data_unpacks_to_nothing(data):
    assert all(kind.unpack(data) is None for kind in b.KINDS)


def test_data_too_long_for_telegram_cannot_be_packed():
    with pytest.raises(ValueError, match="too long"):
        b.Topic("t" * 64).pack()


# -- delivery --------------------------------------------------------------------------------


class Telegram:
    """Answers each send with the next outcome: an exception (as PTB raises it) or a value."""

    def __init__(self, *outcomes: object) -> None:
        self.outcomes = list(outcomes)
        self.calls: list[int | None] = []

    async def send(self, chat: int | None) -> object:
        self.calls.append(chat)
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome


def network_error(cause: BaseException) -> NetworkError:
    try:
        raise NetworkError(str(cause)) from cause
    except NetworkError as exc:
        return exc


def timed_out(cause: BaseException) -> TimedOut:
    try:
        raise TimedOut(str(cause)) from cause
    except TimedOut as exc:
        return exc


async def test_a_5xx_and_a_refused_connection_are_retried_until_delivered():
    telegram = Telegram(NetworkError("Bad Gateway"),
                        network_error(httpx.ConnectError("refused")), "sent")
    assert await deliver(telegram.send) == "sent"
    assert len(telegram.calls) == 3


async def test_a_429_is_retried_after_the_wait_telegram_asks_for():
    telegram = Telegram(RetryAfter(0), "sent")
    assert await deliver(telegram.send) == "sent" and len(telegram.calls) == 2


async def test_a_send_that_timed_out_waiting_for_its_answer_is_not_repeated():
    telegram = Telegram(timed_out(httpx.ReadTimeout("read")), "a second copy")
    assert await deliver(telegram.send) is None and len(telegram.calls) == 1


async def test_an_edit_or_button_answer_that_timed_out_is_repeated():
    telegram = Telegram(timed_out(httpx.ReadTimeout("read")), "edited")
    assert await deliver(telegram.send, sends=False) == "edited"


async def test_a_chat_that_became_a_supergroup_gets_it_at_its_new_id():
    telegram = Telegram(ChatMigrated(-100123), "sent")
    assert await deliver(telegram.send) == "sent"
    assert telegram.calls == [None, -100123]


@pytest.mark.parametrize("refusal", [Forbidden("bot was blocked by the user"),
                                     BadRequest("chat not found")])
async def test_a_blocked_bot_or_a_refused_message_is_given_up_at_once(refusal):
    telegram = Telegram(refusal, "never")
    assert await deliver(telegram.send) is None and len(telegram.calls) == 1


async def test_a_refused_token_is_raised_to_stop_the_bot():
    with pytest.raises(InvalidToken):
        await deliver(Telegram(InvalidToken("Unauthorized")).send)


async def test_delivery_gives_up_after_its_attempts_and_says_so(caplog):
    telegram = Telegram(*[NetworkError("Bad Gateway")] * 4)
    with caplog.at_level(logging.WARNING):
        assert await deliver(telegram.send, "sendMessage") is None
    assert len(telegram.calls) == 4 and "giving up after 4 attempts" in caplog.text


# -- what is exported -------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)",
                                   "\tTAB", "\rCR"])
def test_exported_questions_never_become_spreadsheet_formulas(typed):
    at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    rows = list(csv.reader(io.StringIO(
        reports.unanswered_csv([UnansweredRow(at, "en", typed)]).decode("utf-8-sig"))))
    assert rows[1][2] == "'" + typed
    assert reports.cell("人才公寓 = 好") == "人才公寓 = 好"

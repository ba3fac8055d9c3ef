"""What the bot's database keeps, for how long, for whom — the same specifications on every
backend (`backend`: a real SQLite file, a real PostgreSQL database), then what is particular to
each."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.flood import Rules, Verdict
from bot.storage import (
    NO_INTENT,
    SCHEMA_VERSION,
    Storage,
    StorageError,
    open_storage,
    secret_path,
)

ALICE = 987_654_321
BOB = 123_456_789


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "bot.sqlite3"


@pytest.fixture
async def store(backend):
    storage = await backend.open()
    yield storage
    await storage.close()


def days_ago(days: float) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)


async def ask(store: Storage, user: int, text: str = "公租房怎么申请", *, kind: str = "answer",
              intent: str | None = "housing.rent", at: datetime | None = None) -> int:
    message_id = await store.log_message(user, text=text, lang="zh", kind=kind, intent=intent,
                                         score=80.0, at=at)
    assert message_id is not None
    return message_id


def cells(path: Path) -> list[str]:
    """Every value of every table of a SQLite file, as text."""
    with sqlite3.connect(path) as con:
        tables = [t for (t,) in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return [str(v) for t in tables for row in con.execute(f'SELECT * FROM "{t}"') for v in row]


# -- opening, restarting, migrating ---------------------------------------------------------


async def test_everything_survives_a_restart(backend):
    store = await backend.open()
    await store.set_language(ALICE, "en")
    message_id = await ask(store, ALICE, "How do I rent public housing?")
    assert await store.add_feedback(ALICE, message_id, 1)
    await store.record_unanswered(ALICE, None, "where can I park my drone", "en")
    await store.close()

    store = await backend.open()
    try:
        assert await store.get_language(ALICE) == "en"
        stats = await store.stats(30)
        assert (stats.messages, stats.answered, stats.users) == (1, 1, 1)
        assert [(r.question, r.value) for r in await store.feedback_rows(30)] == [
            ("How do I rent public housing?", 1)]
        assert [r.text for r in await store.unanswered(30)] == ["where can I park my drone"]
        # the log goes on where it stopped
        assert await ask(store, ALICE) > message_id
    finally:
        await store.close()
    assert await backend.schema_version() == SCHEMA_VERSION


async def test_an_empty_database_is_migrated_to_the_current_schema(backend):
    store = await backend.open()
    try:
        assert await ask(store, ALICE) == 1
    finally:
        await store.close()
    assert await backend.schema_version() == SCHEMA_VERSION
    assert {"meta", "users", "messages", "unanswered", "feedback", "conversations", "sent",
            "inbox", "flood"} <= set(await backend.tables())


async def test_a_database_from_a_newer_bot_is_refused_with_a_clear_error(backend):
    await (await backend.open()).close()
    await backend.set_schema_version(SCHEMA_VERSION + 1)
    with pytest.raises(StorageError, match="newer bot"):
        await backend.open()
    assert await backend.schema_version() == SCHEMA_VERSION + 1  # and left as it was


async def test_the_reports_refuse_a_database_the_bot_never_used(backend):
    with pytest.raises(StorageError, match="has the bot run"):
        await backend.open(create=False)


# -- privacy -------------------------------------------------------------------------------


async def test_user_ids_are_never_stored_raw(backend):
    store = await backend.open()
    await store.touch_user(ALICE, "zh")
    await store.set_language(ALICE, "zh")
    message_id = await ask(store, ALICE)
    await store.add_feedback(ALICE, message_id, -1)
    await store.record_unanswered(ALICE, message_id, "无人机在哪里飞", "zh")
    await store.save_conversation(ALICE, ALICE, '{"topic": "housing.rent"}')
    await store.take_token(ALICE, Rules())
    await store.receive(1, f'{{"message": {{"from": {{"id": {ALICE}}}}}}}')
    key = store.user_key(ALICE)
    await store.close()

    values = await backend.cells()
    assert key in values  # the scan does see the rows about Alice...
    assert not any(str(ALICE) in v for v in values)  # ...but never her id


async def test_the_user_key_is_a_short_hex_pseudonym_stable_across_restarts(backend):
    store = await backend.open()
    key = store.user_key(ALICE)
    await store.close()
    store = await backend.open()
    try:
        assert store.user_key(ALICE) == key
        assert store.user_key(BOB) != key
    finally:
        await store.close()
    assert len(key) == 32 and int(key, 16) >= 0


async def test_an_explicit_secret_decides_the_keys(backend):
    generated = await backend.open()
    first = await (await backend.sibling()).open(secret="configured secret")
    second = await (await backend.sibling()).open(secret="configured secret")
    other = await (await backend.sibling()).open(secret="another secret")
    try:
        assert first.user_key(ALICE) == second.user_key(ALICE)
        assert first.user_key(ALICE) != generated.user_key(ALICE)
        assert first.user_key(ALICE) != other.user_key(ALICE)
    finally:
        for store in (generated, first, second, other):
            await store.close()


async def test_each_database_generates_its_own_secret(backend):
    one = await backend.open()
    two = await (await backend.sibling()).open()
    try:
        assert one.user_key(ALICE) != two.user_key(ALICE)
    finally:
        await one.close()
        await two.close()


async def test_a_changed_secret_is_noticed_and_forget_refuses_to_claim_success(backend):
    await (await backend.open(secret="the old secret")).close()
    store = await backend.open(secret="a new secret")
    try:
        assert store.secret_changed
        assert await store.forget(ALICE) is False
    finally:
        await store.close()


# -- language ------------------------------------------------------------------------------


async def test_a_language_choice_is_saved_and_replaced(store: Storage):
    assert await store.get_language(ALICE) is None
    await store.set_language(ALICE, "en")
    assert await store.get_language(ALICE) == "en"
    await store.set_language(ALICE, "zh")
    assert await store.get_language(ALICE) == "zh"
    assert await store.get_language(BOB) is None


async def test_the_language_a_user_writes_in_is_not_their_choice(store: Storage):
    await store.touch_user(BOB, "en")
    assert await store.get_language(BOB) is None
    await store.set_language(BOB, "zh")
    await store.touch_user(BOB, "en")
    assert await store.get_language(BOB) == "zh"


async def test_touching_a_user_keeps_first_seen_and_moves_last_seen(store: Storage,
                                                                    backend):
    await store.touch_user(ALICE)
    await backend.execute("UPDATE users SET first_seen = first_seen - 1000, last_seen = 0")
    await store.touch_user(ALICE, "zh")
    ((first, last),) = await backend.rows("SELECT first_seen, last_seen FROM users")
    assert first < time.time() - 900
    assert last > time.time() - 60


# -- statistics and reports ----------------------------------------------------------------


async def test_stats_count_by_kind_top_intents_and_feedback_within_the_window(store: Storage,
                                                                               backend):
    rent = [await ask(store, ALICE), await ask(store, BOB), await ask(store, BOB)]
    school = await ask(store, ALICE, "小学入学", intent="education.primary")
    await ask(store, ALICE, "住房还是人才", kind="clarify", intent="housing.rent")
    await ask(store, BOB, "推荐电影", kind="fallback", intent=None)
    await ask(store, 555, "old question", intent="talent.visa", at=days_ago(10))
    await ask(store, 555, "old question", intent="talent.visa", at=days_ago(10))
    await ask(store, 555, "old question", intent="talent.visa", at=days_ago(10))
    assert await store.add_feedback(ALICE, rent[0], 1)
    assert await store.add_feedback(BOB, rent[1], 1)
    assert await store.add_feedback(BOB, rent[2], -1)
    assert await store.add_feedback(ALICE, school, -1)

    week = await store.stats(7)
    assert week.days == 7
    assert (week.messages, week.users) == (6, 2)
    assert (week.answered, week.clarified, week.fallback) == (4, 1, 1)
    assert week.top_intents == [("housing.rent", 3), ("education.primary", 1)]
    assert week.feedback == {"housing.rent": (2, 1), "education.primary": (0, 1)}

    month = await store.stats(30)
    assert (month.messages, month.users, month.answered) == (9, 3, 7)
    assert month.top_intents[0] == ("housing.rent", 3)
    assert ("talent.visa", 3) in month.top_intents

    # a vote cast long ago leaves the window even though its question is recent
    await backend.execute("UPDATE feedback SET at = ? WHERE message_id = ?",
            (days_ago(10).timestamp(), school))
    assert (await store.stats(7)).feedback == {"housing.rent": (2, 1)}


async def test_stats_of_an_empty_database_are_zero(store: Storage):
    stats = await store.stats(7)
    assert (stats.messages, stats.users, stats.answered, stats.clarified, stats.fallback) == (
        0, 0, 0, 0, 0)
    assert stats.top_intents == [] and stats.feedback == {}


async def test_top_intents_lists_at_most_ten_most_asked_first(store: Storage):
    for n in range(12):
        for _ in range(n + 1):
            await ask(store, ALICE, intent=f"area.topic{n:02d}")
    top = (await store.stats(1)).top_intents
    assert len(top) == 10
    assert top[0] == ("area.topic11", 12)
    assert [count for _, count in top] == sorted((count for _, count in top), reverse=True)


async def test_feedback_on_a_reply_without_intent_is_counted_under_no_intent(store: Storage):
    message_id = await ask(store, ALICE, "推荐电影", kind="fallback", intent=None)
    assert await store.add_feedback(ALICE, message_id, -1)
    assert (await store.stats(1)).feedback == {NO_INTENT: (0, 1)}
    (row,) = await store.feedback_rows(1)
    assert (row.intent, row.question, row.value) == (None, "推荐电影", -1)


async def test_unanswered_questions_are_listed_newest_first_within_the_window(store: Storage,
                                                                              backend):
    await store.record_unanswered(ALICE, None, "first", "zh")
    await store.record_unanswered(BOB, None, "second", "en")
    await store.record_unanswered(BOB, None, "ancient", "en")
    await backend.execute("UPDATE unanswered SET at = at - 100 WHERE text = 'first'")
    await backend.execute("UPDATE unanswered SET at = ? WHERE text = 'ancient'",
            (days_ago(40).timestamp(),))
    rows = await store.unanswered(30)
    assert [(r.text, r.lang) for r in rows] == [("second", "en"), ("first", "zh")]
    assert all(r.at.tzinfo is not None and r.at <= datetime.now(UTC) for r in rows)
    assert len(await store.unanswered(60)) == 3


async def test_an_unanswered_question_links_only_to_the_same_users_message(store: Storage,
                                                                          backend):
    alices = await ask(store, ALICE, kind="fallback", intent=None)
    await store.record_unanswered(ALICE, alices, "mine", "zh")
    await store.record_unanswered(BOB, alices, "forged link", "zh")
    links = dict(await backend.rows("SELECT text, message_id FROM unanswered"))
    assert links == {"mine": alices, "forged link": None}


async def test_a_question_answered_again_after_a_crash_is_one_gap_not_two(store: Storage,
                                                                          backend):
    logged = await store.log_message(ALICE, text="签证咋办", lang="zh", kind="fallback",
                                     intent=None, score=0.0, update_id=41)
    again = await store.log_message(ALICE, text="签证咋办", lang="zh", kind="fallback",
                                    intent=None, score=0.0, update_id=41)
    assert logged == again
    assert await store.record_unanswered(ALICE, logged, "签证咋办", "zh")
    assert await store.record_unanswered(ALICE, again, "签证咋办", "zh")
    assert await backend.rows("SELECT text FROM unanswered") == [("签证咋办",)]


# -- feedback ------------------------------------------------------------------------------


async def test_feedback_on_another_users_message_is_refused(store: Storage):
    alices = await ask(store, ALICE)
    assert await store.add_feedback(BOB, alices, -1) is False
    assert await store.add_feedback(BOB, 9999, -1) is False  # no such message
    assert await store.feedback_rows(30) == []
    assert (await store.stats(30)).feedback == {}


async def test_feedback_values_other_than_plus_or_minus_one_are_refused(store: Storage):
    message_id = await ask(store, ALICE)
    for value in (0, 2, -5):
        assert await store.add_feedback(ALICE, message_id, value) is False
    assert await store.feedback_rows(30) == []


async def test_a_second_vote_replaces_the_first(store: Storage):
    message_id = await ask(store, ALICE)
    assert await store.add_feedback(ALICE, message_id, 1)
    assert await store.add_feedback(ALICE, message_id, -1)
    rows = await store.feedback_rows(30)
    assert [(r.intent, r.value) for r in rows] == [("housing.rent", -1)]
    assert (await store.stats(30)).feedback == {"housing.rent": (0, 1)}


async def test_feedback_rows_are_newest_first(store: Storage, backend):
    older, newer = await ask(store, ALICE, "older"), await ask(store, ALICE, "newer")
    await store.add_feedback(ALICE, newer, 1)
    await store.add_feedback(ALICE, older, -1)
    await backend.execute("UPDATE feedback SET at = at - 3600 WHERE message_id = ?", (older,))
    assert [r.question for r in await store.feedback_rows(1)] == ["newer", "older"]


# -- forgetting and retention --------------------------------------------------------------


async def test_forget_deletes_everything_of_that_user_and_nothing_of_another(store: Storage,
                                                                             backend):
    for user in (ALICE, BOB):
        await store.touch_user(user, "zh")
        await store.set_language(user, "en")
        message_id = await ask(store, user, f"question of {user % 1000}")
        await store.add_feedback(user, message_id, 1)
        await store.record_unanswered(user, message_id, f"gap of {user % 1000}", "zh")
    alice, bob = store.user_key(ALICE), store.user_key(BOB)
    before = {t: await backend.rows_of(t) for t in ("users", "messages", "feedback", "unanswered")}

    assert await store.forget(ALICE) is True
    after = {t: await backend.rows_of(t) for t in before}
    assert after == {t: n - 1 for t, n in before.items()}
    values = await backend.cells()
    assert alice not in values
    assert not any("of 321" in v for v in values)  # Alice's texts are gone too
    assert bob in values and "question of 789" in values and "gap of 789" in values
    assert await store.get_language(ALICE) is None
    assert await store.get_language(BOB) == "en"
    assert await store.forget(ALICE) is True  # nothing left to delete is no failure


async def test_purge_removes_old_logs_only(store: Storage, backend):
    await store.set_language(ALICE, "en")
    old = await ask(store, ALICE, "old question", at=days_ago(200))
    new = await ask(store, ALICE, "new question")
    await store.add_feedback(ALICE, old, 1)
    await store.add_feedback(ALICE, new, -1)
    await store.record_unanswered(ALICE, None, "old gap", "en")
    await store.record_unanswered(ALICE, None, "new gap", "en")
    await backend.execute("UPDATE unanswered SET at = ? WHERE text = 'old gap'",
                          (days_ago(200).timestamp(),))

    deleted = await store.purge_older_than(180)

    assert deleted == 3  # the old message, its vote, the old unanswered question
    assert [r.question for r in await store.feedback_rows(365)] == ["new question"]
    assert [r.text for r in await store.unanswered(365)] == ["new gap"]
    assert (await store.stats(365)).messages == 1
    assert await store.get_language(ALICE) == "en"  # not a log: the choice stays
    assert await store.purge_older_than(180) == 0


async def test_purge_also_drops_a_recent_vote_on_a_purged_question(store: Storage):
    old = await ask(store, ALICE, "old question", at=days_ago(200))
    await store.add_feedback(ALICE, old, 1)  # voted today
    assert await store.purge_older_than(180) == 2
    assert await store.feedback_rows(365) == []


# -- faults --------------------------------------------------------------------------------


async def test_a_locked_database_makes_writes_give_up_quickly_without_raising(
        store: Storage, backend, caplog: pytest.LogCaptureFixture):
    message_id = await ask(store, ALICE)
    async with backend.locked():
        started = time.monotonic()
        with caplog.at_level(logging.WARNING, logger="bot.storage"):
            logged = await store.log_message(ALICE, text="秘密问题 secret question", lang="zh",
                                             kind="answer", intent="housing.rent", score=90)
        elapsed = time.monotonic() - started
        warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
        assert logged is None
        assert elapsed < 5
        # the other writes give up the same way: a neutral value, no exception
        assert await store.add_feedback(ALICE, message_id, 1) is False
        assert await store.forget(ALICE) is False  # never claims it deleted
        await store.record_unanswered(ALICE, None, "秘密问题", "zh")

    assert len(warnings) == 1 and "lock" in warnings[0]
    assert "秘密" not in warnings[0] and "secret question" not in warnings[0]
    assert str(ALICE) not in warnings[0] and store.user_key(ALICE) not in warnings[0]
    # and once the lock is gone, the bot carries on
    assert await ask(store, ALICE) > message_id


async def test_admin_reads_on_a_broken_database_raise_storage_error(store: Storage,
                                                                    backend):
    await backend.execute("DROP TABLE feedback")
    await backend.execute("DROP TABLE unanswered")
    with pytest.raises(StorageError):
        await store.feedback_rows(7)
    with pytest.raises(StorageError):
        await store.unanswered(7)
    with pytest.raises(StorageError):
        await store.stats(7)
    # while the conversation path still gets neutral answers
    assert await store.add_feedback(ALICE, 1, 1) is False
    assert await store.get_language(ALICE) is None


# -- state that every instance shares: flood buckets, the inbox, job turns -----------------


async def test_a_user_may_send_a_burst_then_is_told_once_then_refilled(store: Storage):
    rules, now = Rules(burst=8, refill=3.0), 1_000_000.0
    verdicts = [(await store.take_token(ALICE, rules, now)).verdict for _ in range(10)]
    assert verdicts == [Verdict.ALLOW] * 8 + [Verdict.NOTIFY, Verdict.DROP]
    assert (await store.take_token(ALICE, rules, now)).wait == 3
    assert (await store.take_token(BOB, rules, now)).verdict is Verdict.ALLOW  # per user
    assert (await store.take_token(ALICE, rules, now + 3)).verdict is Verdict.ALLOW
    assert await store.forget(ALICE)  # the bucket goes with everything else
    assert (await store.take_token(ALICE, rules, now + 3)).verdict is Verdict.ALLOW


async def test_an_update_is_taken_up_by_the_first_instance_that_stores_it(backend):
    one, two = await backend.open(), await backend.open()
    try:
        stored = await asyncio.gather(one.receive(7, "{}"), two.receive(7, "{}"))
        assert sorted(stored) == [False, True]
        assert await one.receive(7, "{}") is False  # a redelivery, later
    finally:
        await one.close()
        await two.close()


async def test_pending_updates_are_claimed_once_and_busy_ones_are_left_alone(store: Storage,
                                                                            backend):
    for update_id in (1, 2, 3):
        assert await store.receive(update_id, f'{{"update_id": {update_id}}}')
    await store.done(2)
    # an instance still holding them (stored just now) is not interrupted...
    assert await store.pending(time.time() - 600, idle=30) == ([], 0)
    # ...but once they have lain untouched for long, one instance takes them up, once
    await backend.execute("UPDATE inbox SET received = received - 60")
    fresh, stale = await store.pending(time.time() - 600, idle=30)
    assert [update_id for update_id, _ in fresh] == [1, 3] and stale == 0
    assert fresh[0][1] == '{"update_id": 1}'
    assert await store.pending(time.time() - 600, idle=30) == ([], 0)
    # updates too old to answer are given up
    await backend.execute("UPDATE inbox SET received = received - 3600")
    assert await store.pending(time.time() - 600) == ([], 2)


async def test_an_answered_update_keeps_only_its_id(store: Storage, backend):
    await store.receive(9, '{"secret": "body"}')
    await store.done(9)
    assert await backend.rows("SELECT update_id, body, done FROM inbox") == [(9, "", 1)]


async def test_a_new_version_is_reported_by_the_first_instance_only(backend):
    one, two = await backend.open(), await backend.open()
    try:
        assert await one.first_to_report("reload", "v1") is True
        assert await two.first_to_report("reload", "v1") is False
        assert await one.first_to_report("reload", "v1") is False
        assert await two.first_to_report("reload", "v2") is True
    finally:
        await one.close()
        await two.close()


async def test_daily_counts_questions_per_utc_day(store: Storage):
    await ask(store, ALICE, at=datetime(2024, 3, 1, 23, 59, tzinfo=UTC))
    await ask(store, ALICE, kind="fallback", intent=None,
              at=datetime(2024, 3, 1, 0, 1, tzinfo=UTC))
    await ask(store, BOB, kind="clarify", at=datetime(2024, 3, 2, 0, 0, 1, tzinfo=UTC))
    days = [d for d in await store.daily(100_000) if d.day.startswith("2024-03")]
    assert [(d.day, d.answered, d.clarified, d.fallback) for d in days] == [
        ("2024-03-01", 1, 0, 1), ("2024-03-02", 0, 1, 0)]


# -- SQLite: a file beside the bot -----------------------------------------------------------


async def test_first_open_creates_the_folders_the_file_and_the_schema(tmp_path: Path):
    path = tmp_path / "data" / "nested" / "bot.sqlite3"
    store = await open_storage(f"sqlite:///{path}")
    await store.close()
    assert path.is_file()
    with sqlite3.connect(path) as con:
        assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_a_file_that_is_not_a_database_is_refused(db_path: Path):
    db_path.write_bytes(b"this is not a database, just some text" * 100)
    with pytest.raises(StorageError, match="cannot open"):
        await open_storage(db_path)


async def test_the_raw_files_never_hold_a_user_id(db_path: Path):
    store = await open_storage(db_path)
    await store.set_language(ALICE, "zh")
    await ask(store, ALICE)
    await store.close()
    assert str(ALICE) not in " ".join(cells(db_path))
    for file in db_path.parent.iterdir():  # nor does the raw file (or a WAL left behind)
        assert str(ALICE).encode() not in file.read_bytes()


async def test_a_generated_secret_is_kept_in_a_private_file_beside_the_database(db_path: Path):
    store = await open_storage(db_path)
    await store.close()
    secret = secret_path(db_path)
    assert secret.stat().st_mode & 0o777 == 0o600
    assert secret.read_text().strip() not in cells(db_path)


# -- PostgreSQL: a server that several instances share ---------------------------------------


async def test_without_a_configured_secret_one_is_generated_into_the_database(pg):
    store = await pg.open()
    await store.close()
    (secret,) = [v for k, v in await pg.rows("SELECT key, value FROM meta")
                 if k == "user_key_secret"]
    configured = await pg.open(secret=secret)  # what every instance then uses
    assert not configured.secret_changed
    await configured.close()


async def test_everyone_opening_one_database_at_once_gets_the_same_keys(pg):
    """Instances starting together: one migrates, the others wait, all agree on the secret."""
    stores = await asyncio.gather(*(pg.open() for _ in range(4)))
    try:
        assert len({store.user_key(ALICE) for store in stores}) == 1
        assert not any(store.secret_changed for store in stores)
    finally:
        for store in stores:
            await store.close()
    assert await pg.schema_version() == SCHEMA_VERSION


async def test_only_one_instance_at_a_time_runs_a_job(pg):
    one, two = await pg.open(), await pg.open()
    try:
        async with (one.exclusive("purge") as first, two.exclusive("purge") as second,
                    two.exclusive("reload") as other):
            assert (first, second, other) == (True, False, True)
        async with two.exclusive("purge") as later:
            assert later is True  # released when the first one finished
    finally:
        await one.close()
        await two.close()


async def test_two_instances_count_one_users_messages_together(pg):
    one, two = await pg.open(), await pg.open()
    try:
        rules, now = Rules(burst=8, refill=3.0), 2_000_000.0
        checks = await asyncio.gather(*(store.take_token(ALICE, rules, now)
                                        for _ in range(10) for store in (one, two)))
    finally:
        await one.close()
        await two.close()
    verdicts = [c.verdict for c in checks]
    assert (verdicts.count(Verdict.ALLOW), verdicts.count(Verdict.NOTIFY)) == (8, 1)


async def test_an_unreachable_server_is_a_clear_error_without_the_password():
    with pytest.raises(StorageError) as caught:
        await open_storage("postgresql://bot:hunter2-password@127.0.0.1:1/policybot")
    assert "127.0.0.1:1/policybot" in str(caught.value)
    assert "hunter2" not in str(caught.value) and "bot:" not in str(caught.value).replace(
        "policybot:", "")


async def test_tables_gone_under_the_bot_make_writes_neutral_and_reports_fail(pg):
    store = await pg.open()
    try:
        assert await store.health() is None
        await pg.drop()  # someone drops the bot's tables while it runs
        assert await store.log_message(ALICE, text="q", lang="zh", kind="answer",
                                       intent=None, score=1) is None
        assert await store.get_language(ALICE) is None
        assert (await store.take_token(ALICE, Rules())).verdict is Verdict.ALLOW
        assert await store.receive(1, "{}") is None  # so the update is not confirmed
        with pytest.raises(StorageError):
            await store.stats(1)
    finally:
        await store.close()
    assert "does not answer" in (await store.health() or "")  # a closed pool answers nothing


# -- which database --------------------------------------------------------------------------


def test_database_url_wins_over_database_path_and_is_kept_out_of_reprs(
        monkeypatch: pytest.MonkeyPatch):
    from bot.config import Settings

    monkeypatch.setenv("DATABASE_PATH", "/srv/bot/old.sqlite3")
    assert Settings.from_env().database_url == "sqlite:////srv/bot/old.sqlite3"
    monkeypatch.setenv("DATABASE_URL", "postgresql://bot:s3cret-pw@db:5432/policybot")
    settings = Settings.from_env()
    assert settings.database_url == "postgresql://bot:s3cret-pw@db:5432/policybot"
    assert "s3cret-pw" not in repr(settings)


async def test_an_unknown_database_scheme_is_refused_before_anything_is_created(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(StorageError, match="unsupported database URL"):
        await open_storage("mysql://bot@db/policybot")
    assert list(tmp_path.iterdir()) == []

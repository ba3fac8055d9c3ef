"""Two instances, one behaviour: two `policybot run` processes in webhook mode on one PostgreSQL
database, with updates spread between them the way a load balancer spreads Telegram's POSTs.

Whichever instance gets a message, the user meets the same bot: the language chosen through
one, the topic of the conversation, the flood allowance, each update answered once, and an
instance killed mid-traffic costs nothing but itself.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from collections.abc import Iterator

import pytest
from bot_process import BotProcess
from fake_bot_api import TOKEN, FakeBotAPI
from storage_backends import PostgresBackend
from telegram_support import to_chat
from test_telegram_webhook import free_port, post

CJK = re.compile(r"[\u4e00-\u9fff]")
DB_PASSWORD = "pg-password-never-logged"  # the test server trusts local connections
_update_ids = itertools.count(1)


class Instance:
    """One bot process and the address its load balancer forwards to."""

    def __init__(self, fake: FakeBotAPI, workdir, database_url: str) -> None:
        self.port = free_port()
        self.process = BotProcess(fake, workdir, WEBHOOK_URL="https://bot.example.org/hook",
                                  PORT=str(self.port), DATABASE_URL=database_url)
        self.url = ""

    def post(self, update: dict, secret: str) -> int:
        return post(self.url, update, secret)


class Cluster:
    def __init__(self, fake: FakeBotAPI, a: Instance, b: Instance) -> None:
        self.fake, self.a, self.b = fake, a, b
        self.secret = ""

    def start(self) -> None:
        mark = self.fake.mark()
        for instance in (self.a, self.b):
            instance.process.start(ready=False)
        registered = self.fake.wait_for_sync("setWebhook", after=mark, timeout=60)
        path = registered.params["url"].rsplit("/", 1)[1]
        self.secret = registered.params["secret_token"]
        for instance in (self.a, self.b):
            instance.url = f"http://127.0.0.1:{instance.port}/{path}"
            self._wait_until_serving(instance)

    def _wait_until_serving(self, instance: Instance) -> None:
        """Each web server comes up just after its setWebhook; a bare update_id probes it."""
        deadline = time.monotonic() + 60
        while True:
            try:
                assert instance.post({"update_id": next(_update_ids)}, self.secret) == 200
                return
            except OSError:
                if time.monotonic() > deadline or not instance.process.running():
                    raise
                time.sleep(0.1)

    def deliver(self, instance: Instance, update: dict) -> None:
        """Telegram's POST through the load balancer: to `instance`, or, when that one is
        down, to the other (as Telegram's retry would land there)."""
        try:
            status = instance.post(update, self.secret)
        except OSError:
            other = self.b if instance is self.a else self.a
            status = other.post(update, self.secret)
        assert status == 200

    def say(self, instance: Instance, text: str, user_id: int, *, command: bool = False,
            update_id: int | None = None, wait: bool = True):
        mark = self.fake.mark()
        update = message(text, user_id, command=command,
                         update_id=next(_update_ids) if update_id is None else update_id)
        self.deliver(instance, update)
        if wait:
            return self.fake.wait_for_sync("sendMessage", to_chat(user_id), after=mark)
        return update


def message(text: str, user_id: int, *, command: bool, update_id: int) -> dict:
    user = {"id": user_id, "is_bot": False, "first_name": "W", "language_code": "en"}
    body = {"message_id": update_id, "date": int(time.time()), "text": text, "from": user,
            "chat": {"id": user_id, "type": "private", "first_name": "W"}}
    if command:
        body["entities"] = [{"type": "bot_command", "offset": 0,
                             "length": len(text.split()[0])}]
    return {"update_id": update_id, "message": body}


@pytest.fixture(scope="module")
def database(postgres_server) -> Iterator[PostgresBackend]:
    if postgres_server.url is None:
        pytest.skip(postgres_server.reason)
    backend = asyncio.run(PostgresBackend.create(postgres_server.url))
    yield backend
    asyncio.run(backend.drop())


@pytest.fixture(scope="module")
def cluster(database, tmp_path_factory) -> Iterator[Cluster]:
    with FakeBotAPI() as fake:
        url = database.url.replace("postgres@", f"postgres:{DB_PASSWORD}@", 1)
        a = Instance(fake, tmp_path_factory.mktemp("a"), url)
        b = Instance(fake, tmp_path_factory.mktemp("b"), url)
        both = Cluster(fake, a, b)
        try:
            both.start()
            yield both
        finally:
            for instance in (a, b):
                instance.process.stop()


def replies_to(fake: FakeBotAPI, user_id: int, after: int = 0) -> list[str]:
    return [c.params["text"] for c in fake.calls[after:] if c.method == "sendMessage"
            and c.ok and c.params.get("chat_id") == user_id]


def wait_for_replies(fake: FakeBotAPI, user_id: int, after: int, count: int) -> list[str]:
    deadline = time.monotonic() + 30
    while len(texts := replies_to(fake, user_id, after)) < count:
        assert time.monotonic() < deadline, f"{len(texts)} of {count} replies came"
        time.sleep(0.05)
    return texts


def stored_questions(database: PostgresBackend, text: str) -> int:
    rows = asyncio.run(database.rows("SELECT COUNT(*) FROM messages WHERE text = ?", (text,)))
    return rows[0][0]


def test_a_language_chosen_through_one_instance_is_used_by_the_other(cluster):
    cluster.say(cluster.a, "/lang zh", 701, command=True)
    reply = cluster.say(cluster.b, "How do I apply for a talent apartment?", 701)
    assert CJK.search(reply.params["text"]), reply.params["text"]


def test_a_follow_up_on_the_other_instance_is_understood_in_context(cluster):
    first = cluster.say(cluster.a, "人才公寓", 702)
    assert "人才公寓" in first.params["text"]
    follow = cluster.say(cluster.b, "怎么申请", 702).params["text"]
    assert "人才公寓" in follow and "申请" in follow
    assert follow != first.params["text"]


def test_flood_control_counts_messages_to_both_instances_together(cluster):
    mark = cluster.fake.mark()
    for n in range(10):
        cluster.say(cluster.a if n % 2 else cluster.b, "人才公寓", 703, wait=False)
    # ten messages in a burst: eight answers and one notice, however they were spread
    texts = wait_for_replies(cluster.fake, 703, mark, 9)
    # separate buckets (five messages each) would never have run out: no notice at all
    assert sum("人才公寓" not in t for t in texts) == 1


def test_an_update_posted_to_both_instances_is_answered_once(cluster, database):
    update = message("金熊猫人才计划是什么 (once)", 704, command=False,
                     update_id=next(_update_ids))
    mark = cluster.fake.mark()
    cluster.deliver(cluster.a, update)
    cluster.deliver(cluster.b, update)  # Telegram re-posting it, to the other instance
    # a later message on each instance: each handles one chat in order, so once both are
    # answered, a duplicate would have been too
    cluster.say(cluster.a, "人才公寓", 704)
    cluster.say(cluster.b, "人才公寓", 704)
    answers = [t for t in replies_to(cluster.fake, 704, mark) if "金熊猫" in t]
    assert len(answers) == 1
    assert stored_questions(database, "金熊猫人才计划是什么 (once)") == 1


def test_killing_one_instance_mid_traffic_loses_nothing_and_the_other_answers(cluster,
                                                                              database):
    users = list(range(710, 730))
    for n, user in enumerate(users):
        instance = cluster.a if n % 2 else cluster.b
        cluster.say(instance, f"人才公寓 ({user})", user)
        if n == 9:
            cluster.a.process.proc.kill()  # kill -9, while traffic goes on
            cluster.a.process.proc.wait()
    assert not cluster.a.process.running()
    for user in users:
        assert any("人才公寓" in text for text in replies_to(cluster.fake, user))
        assert stored_questions(database, f"人才公寓 ({user})") == 1


def test_neither_instance_logs_the_token_or_the_database_password(cluster):
    for instance in (cluster.a, cluster.b):
        logs = instance.process.logs()
        assert "webhook on" in logs  # the log is there, and talkative (DEBUG)
        assert TOKEN not in logs and DB_PASSWORD not in logs

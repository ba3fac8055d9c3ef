"""Webhook mode (WEBHOOK_URL + PORT): Telegram POSTs updates to the bot instead of being polled."""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

import pytest
from bot_process import BotProcess
from fake_bot_api import TOKEN
from telegram_support import to_chat

from bot.telegram_ui.webhook import MAX_CONNECTIONS


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(url: str, update: dict, secret: str) -> int:
    request = urllib.request.Request(url, data=json.dumps(update).encode(), method="POST",
                                     headers={"Content-Type": "application/json",
                                              "X-Telegram-Bot-Api-Secret-Token": secret})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def message_update(update_id: int, text: str, user_id: int) -> dict:
    user = {"id": user_id, "is_bot": False, "first_name": "W", "language_code": "en"}
    return {"update_id": update_id, "message": {
        "message_id": 1, "date": int(time.time()), "text": text, "from": user,
        "chat": {"id": user_id, "type": "private", "first_name": "W"}}}


@dataclass
class Hook:
    bot: BotProcess
    registered: str  # the URL given to setWebhook
    secret: str
    local: str  # the same path on 127.0.0.1:port
    port: int


@pytest.fixture(scope="module")
def hook(fake, tmp_path_factory):
    port = free_port()
    bot = BotProcess(fake, tmp_path_factory.mktemp("webhook"),
                     WEBHOOK_URL="https://bot.example.org/hooks", PORT=str(port))
    bot.start(ready=False)
    registered = fake.wait_for_sync("setWebhook", timeout=30)
    url, secret = registered.params["url"], registered.params["secret_token"]
    local = f"http://127.0.0.1:{port}/{url.rsplit('/', 1)[1]}"
    deadline = time.monotonic() + 20
    while True:  # the web server comes up just after setWebhook
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    yield Hook(bot, url, secret, local, port)
    bot.stop()


def test_webhook_mode_registers_a_token_free_url_and_answers_posted_updates(fake, hook):
    assert hook.registered.startswith("https://bot.example.org/hooks/")
    assert TOKEN not in hook.registered and TOKEN.split(":")[1] not in hook.registered
    assert post(hook.local, message_update(1, "人才公寓", 501), hook.secret) == 200
    reply = fake.wait_for_sync("sendMessage", to_chat(501))
    assert "人才公寓" in reply.params["text"]

    assert post(hook.local, message_update(2, "金熊猫", 502), "wrong-secret") == 403
    time.sleep(0.5)
    assert not [c for c in fake.calls_to("sendMessage") if c.params["chat_id"] == 502]


def raw_request(hook: Hook, headers: dict[str, str], body: bytes = b"") -> str:
    """The status line the server sends back to a hand-written request (waiting at most 10 s:
    a server that waited for the body would never answer)."""
    path = "/" + hook.local.split("/", 3)[3]
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    with socket.create_connection(("127.0.0.1", hook.port), timeout=10) as sock:
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: bot\r\n{head}\r\n".encode() + body)
        try:
            return sock.recv(4096).decode("latin-1").split("\r\n", 1)[0]
        except TimeoutError:
            return "(no answer within 10 s)"


@pytest.mark.parametrize("secret", [None, "", "wrong-secret"], ids=["missing", "empty", "wrong"])
def test_a_post_without_the_secret_is_refused_before_its_body_is_read(hook, secret):
    headers = {"Content-Type": "application/json", "Content-Length": "500000000"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    assert raw_request(hook, headers) == "HTTP/1.1 403 Forbidden"  # no body was ever sent


def test_a_body_over_1_mb_is_refused(hook):
    headers = {"Content-Type": "application/json", "Content-Length": "2000000",
               "X-Telegram-Bot-Api-Secret-Token": hook.secret}
    assert raw_request(hook, headers).startswith("HTTP/1.1 413")
    chunk = b"x" * 65536
    chunked = {"Content-Type": "application/json", "Transfer-Encoding": "chunked",
               "X-Telegram-Bot-Api-Secret-Token": hook.secret}
    body = (f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n") * 17  # 1.1 MB, no end
    assert raw_request(hook, chunked, body).startswith("HTTP/1.1 413")


def still_open(sock: socket.socket) -> bool:
    sock.setblocking(False)
    try:
        return sock.recv(1, socket.MSG_PEEK) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False


def test_half_open_connections_are_bounded_and_telegram_still_gets_through(fake, hook):
    crowd = []
    try:
        for _ in range(300):  # each sends half a request line and then nothing
            sock = socket.create_connection(("127.0.0.1", hook.port), timeout=5)
            sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\n")
            crowd.append(sock)
        assert post(hook.local, message_update(3, "人才公寓", 503), hook.secret) == 200
        assert "人才公寓" in fake.wait_for_sync("sendMessage", to_chat(503)).params["text"]
        time.sleep(0.5)
        assert sum(still_open(s) for s in crowd) <= MAX_CONNECTIONS
    finally:
        for sock in crowd:
            sock.close()
    assert post(hook.local, message_update(4, "金熊猫", 504), hook.secret) == 200


def test_neither_the_token_nor_the_webhook_secret_appears_in_the_logs(fake, hook):
    post(hook.local, message_update(5, "hello", 505), hook.secret)
    fake.wait_for_sync("sendMessage", to_chat(505))
    logs = hook.bot.logs()
    assert "setWebhook" in logs  # DEBUG logs the call...
    assert hook.secret not in logs and TOKEN not in logs  # ...without its secrets
    assert hook.local.rsplit("/", 1)[1] not in logs

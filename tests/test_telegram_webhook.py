"""Webhook mode (WEBHOOK_URL + PORT): Telegram POSTs updates to the bot instead of being polled."""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request

from bot_process import BotProcess
from fake_bot_api import TOKEN, FakeBotAPI
from telegram_support import to_chat


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


def test_webhook_mode_registers_a_token_free_url_and_answers_posted_updates(tmp_path):
    port = free_port()
    with FakeBotAPI() as fake:
        bot = BotProcess(fake, tmp_path, WEBHOOK_URL="https://bot.example.org/hooks",
                         PORT=str(port))
        bot.start(ready=False)
        try:
            registered = fake.wait_for_sync("setWebhook", timeout=30)
            url, secret = registered.params["url"], registered.params["secret_token"]
            assert url.startswith("https://bot.example.org/hooks/")
            assert TOKEN not in url and TOKEN.split(":")[1] not in url
            local = f"http://127.0.0.1:{port}/{url.rsplit('/', 1)[1]}"
            deadline = time.monotonic() + 20
            while True:  # the web server comes up just after setWebhook
                try:
                    status = post(local, message_update(1, "人才公寓", 501), secret)
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)
            assert status == 200
            reply = fake.wait_for_sync("sendMessage", to_chat(501))
            assert "人才公寓" in reply.params["text"]

            assert post(local, message_update(2, "金熊猫", 502), "wrong-secret") == 403
            time.sleep(0.5)
            assert not [c for c in fake.calls_to("sendMessage") if c.params["chat_id"] == 502]
        finally:
            bot.stop()
        assert TOKEN not in bot.logs()

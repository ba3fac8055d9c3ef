"""Small helpers for end-to-end tests: say something to the bot, read what it sent back."""

from __future__ import annotations

from fake_bot_api import Call, FakeBotAPI


def buttons(call: Call) -> list[dict]:
    markup = call.params.get("reply_markup") or {}
    return [b for row in markup.get("inline_keyboard", []) for b in row]


def callback_data(call: Call) -> list[str]:
    return [b["callback_data"] for b in buttons(call) if "callback_data" in b]


def urls(call: Call) -> list[str]:
    return [b["url"] for b in buttons(call) if "url" in b]


def to_chat(chat_id: int):
    return lambda call: call.ok and call.params.get("chat_id") == chat_id


def say(fake: FakeBotAPI, text: str, user_id: int, **kw) -> Call:
    """A user's message and the bot's reply to it."""
    mark = fake.mark()
    update = fake.push_message(text, user_id=user_id, **kw)
    chat_id = update.get("message", update.get("edited_message"))["chat"]["id"]
    return fake.wait_for_sync("sendMessage", to_chat(chat_id), after=mark)


def command(fake: FakeBotAPI, name: str, user_id: int, args: str = "", timeout: float = 10.0,
            **kw) -> Call:
    mark = fake.mark()
    update = fake.push_command(name, args, user_id=user_id, **kw)
    chat_id = update["message"]["chat"]["id"]
    return fake.wait_for_sync("sendMessage", to_chat(chat_id), after=mark, timeout=timeout)


def press(fake: FakeBotAPI, data: str, user_id: int, method: str = "answerCallbackQuery",
          **kw) -> Call:
    mark = fake.mark()
    fake.push_callback(data, user_id=user_id, **kw)
    return fake.wait_for_sync(method, after=mark)

"""The fake Bot API server behaves like Telegram for the real python-telegram-bot client."""

from __future__ import annotations

import asyncio
import datetime as dtm
import time

import pytest
from fake_bot_api import BOT_USER, STICKER, TOKEN, FakeBotAPI
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import (
    BadRequest,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import Application, CallbackQueryHandler, CommandHandler
from telegram.request import HTTPXRequest

CHAT = 1001


@pytest.fixture
def fake():
    with FakeBotAPI() as server:
        yield server


@pytest.fixture
async def bot(fake):
    async with Bot(TOKEN, base_url=fake.base_url, base_file_url=fake.base_file_url) as b:
        yield b


async def test_get_me(bot, fake):
    me = await bot.get_me()
    assert me.id == BOT_USER["id"]
    assert me.username == "cdht_policy_bot"
    assert me.is_bot
    assert fake.calls_to("getMe")[-1].ok


async def test_send_message_records_decoded_markup(bot, fake):
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("政策 A", callback_data="intent:a")],
                                   [InlineKeyboardButton("Site", url="https://example.org")]])
    sent = await bot.send_message(CHAT, "hello 你好", reply_markup=markup,
                                  disable_notification=True)
    call = await fake.wait_for("sendMessage")
    assert call.params["chat_id"] == CHAT  # sent as the text "1001", decoded to an int
    assert call.params["text"] == "hello 你好"
    assert call.params["disable_notification"] is True
    assert call.params["reply_markup"] == {"inline_keyboard": [
        [{"text": "政策 A", "callback_data": "intent:a"}],
        [{"text": "Site", "url": "https://example.org"}],
    ]}
    assert sent.message_id == 1
    assert sent.from_user.id == BOT_USER["id"]
    assert sent.reply_markup == markup
    assert fake.sent_messages[-1]["text"] == "hello 你好"
    second = await bot.send_message(CHAT, "again")
    assert second.message_id == 2  # message ids count per chat
    assert (await bot.send_message(2002, "other chat")).message_id == 1


async def test_text_strings_stay_strings(bot, fake):
    await bot.send_message(CHAT, "123")
    await bot.send_message(CHAT, "true")
    texts = [c.params["text"] for c in fake.calls_to("sendMessage")]
    assert texts == ["123", "true"]


async def test_long_poll_returns_pushed_message_promptly_and_respects_offset(bot, fake):
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await fake.wait_for("getUpdates", lambda c: c.params.get("timeout") == 5)
    await asyncio.sleep(0.1)
    assert not poll.done()
    pushed = fake.push_message("你好 policy", user_id=CHAT)
    updates = await asyncio.wait_for(poll, 2)
    assert time.monotonic() - started < 2
    assert [u.update_id for u in updates] == [pushed["update_id"]]
    assert isinstance(updates[0], Update)
    assert updates[0].message.text == "你好 policy"
    assert updates[0].effective_user.language_code == "en"

    # not confirmed yet: delivered again; confirmed by offset: gone
    again = await bot.get_updates(timeout=0)
    assert [u.update_id for u in again] == [pushed["update_id"]]
    fake.push_command("/start", "deep")
    rest = await bot.get_updates(offset=pushed["update_id"] + 1, timeout=0)
    assert [u.message.text for u in rest] == ["/start deep"]
    assert rest[0].message.entities[0].type == "bot_command"
    assert rest[0].message.entities[0].length == len("/start")
    assert await bot.get_updates(offset=rest[0].update_id + 1, timeout=0) == ()

    # empty long poll times out with []
    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == ()
    assert 0.9 < time.monotonic() - started < 2


async def test_stop_ends_a_pending_long_poll(bot, fake):
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await fake.wait_for("getUpdates")
    started = time.monotonic()
    fake.stop()
    assert await asyncio.wait_for(poll, 2) == ()
    assert time.monotonic() - started < 1


async def test_pushed_variants_parse_in_ptb(bot, fake):
    await bot.send_message(CHAT, "question?")
    fake.push_message("a reply", reply_to_bot=True, language_code="zh-hans")
    fake.push_message("edited", edited=True)
    fake.push_message(None, extra={"sticker": STICKER})
    fake.push_message("group hi", user_id=7, chat_type="supergroup")
    fake.push_inline_query("tax")
    updates = await bot.get_updates()
    first, edited, sticker, group, inline = updates
    assert first.message.reply_to_message.text == "question?"
    assert first.message.from_user.language_code == "zh-hans"
    assert edited.edited_message.message_id == first.message.message_id
    assert sticker.message.sticker.emoji == "👍" and sticker.message.text is None
    assert group.effective_chat.type == "supergroup" and group.effective_user.id == 7
    assert inline.inline_query.query == "tax"


async def test_edit_message_text(bot, fake):
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("more", callback_data="m")]])
    sent = await bot.send_message(CHAT, "first", reply_markup=markup)
    edited = await bot.edit_message_text("second", chat_id=CHAT, message_id=sent.message_id,
                                         reply_markup=markup)
    assert edited.text == "second"
    assert edited.reply_markup == markup
    assert fake.message(CHAT, sent.message_id)["text"] == "second"
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("second", chat_id=CHAT, message_id=sent.message_id,
                                    reply_markup=markup)
    # without reply_markup the keyboard is removed, which is a modification
    plain = await bot.edit_message_text("second", chat_id=CHAT, message_id=sent.message_id)
    assert plain.reply_markup is None
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", chat_id=CHAT, message_id=99)


async def test_html_and_length_checked_like_telegram(bot, fake):
    ok = await bot.send_message(CHAT, "<b>bold</b> &amp; <a href='https://x.org'>link</a>",
                                parse_mode="HTML")
    assert ok.text == "bold & link"
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(CHAT, "a <div>b</div>", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(CHAT, "<b>open", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(CHAT, "x" * 4097)
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(CHAT, "x", reply_markup=InlineKeyboardMarkup(
            [[InlineKeyboardButton("b", callback_data="d" * 65)]]))


async def test_send_document_with_bytes(bot, fake):
    content = b"\x00\x01binary\r\n--not-a-boundary\r\n\xff\xfe\n"
    message = await bot.send_document(CHAT, document=content, filename="政策 summary.txt",
                                      caption="the file")
    call = await fake.wait_for("sendDocument")
    assert call.files == {"document": content}
    assert call.file_names == {"document": "政策 summary.txt"}
    assert call.params["chat_id"] == CHAT
    assert call.params["caption"] == "the file"
    assert message.document.file_name == "政策 summary.txt"
    assert message.document.file_size == len(content)
    assert message.caption == "the file"
    assert fake.sent_messages[-1]["document"]["file_id"] == message.document.file_id
    downloaded = await (await bot.get_file(message.document.file_id)).download_as_bytearray()
    assert bytes(downloaded) == content


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_429_raises_retry_after(bot, fake):
    fake.fail("sendMessage", status=429, retry_after=7)
    with pytest.raises(RetryAfter) as info:
        await bot.send_message(CHAT, "flood")
    retry_after = info.value.retry_after  # int (deprecated) or timedelta with PTB_TIMEDELTA
    if isinstance(retry_after, dtm.timedelta):
        retry_after = retry_after.total_seconds()
    assert retry_after == 7
    failed = fake.calls_to("sendMessage")[-1]
    assert failed.fault == "fail"
    assert failed.result["parameters"] == {"retry_after": 7}
    assert (await bot.send_message(CHAT, "fine now")).text == "fine now"


async def test_500_and_403_faults(bot, fake):
    fake.fail("sendMessage", times=2)
    for _ in range(2):
        with pytest.raises(NetworkError, match="Internal Server Error"):
            await bot.send_message(CHAT, "x")
    fake.fail("sendMessage", status=403)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(CHAT, "x")
    await bot.send_message(CHAT, "recovered")
    assert [c.status for c in fake.calls_to("sendMessage")] == [500, 500, 403, 200]


async def test_drop_raises_network_error(bot, fake):
    fake.drop("getMe")
    with pytest.raises(NetworkError) as info:
        await bot.get_me()
    assert not isinstance(info.value, TimedOut)
    assert (await bot.get_me()).username == "cdht_policy_bot"


async def test_delay_with_short_read_timeout_times_out(fake):
    request = HTTPXRequest(read_timeout=0.2)
    async with Bot(TOKEN, base_url=fake.base_url, request=request) as slow_bot:
        fake.delay("sendChatAction", 1.0)
        with pytest.raises(TimedOut):
            await slow_bot.send_chat_action(CHAT, "typing")
        assert await slow_bot.send_chat_action(CHAT, "typing") is True


async def test_wrong_token_and_unknown_method(fake):
    with pytest.raises(InvalidToken, match="Unauthorized"):
        await Bot("654321:WRONG-token", base_url=fake.base_url).get_me()
    async with Bot(TOKEN, base_url=fake.base_url) as b:
        # 404 is InvalidToken in PTB; do_api_request turns it into EndPointNotFound
        with pytest.raises(EndPointNotFound):
            await b.do_api_request("noSuchMethod")
    assert fake.calls_to("noSuchMethod")[-1].status == 404


async def test_callbacks_inline_queries_and_commands(bot, fake):
    await bot.send_message(CHAT, "menu", reply_markup=InlineKeyboardMarkup(
        [[InlineKeyboardButton("a", callback_data="pick:a")]]))
    update = fake.push_callback("pick:a", user_id=CHAT)
    assert update["callback_query"]["message"]["text"] == "menu"
    query_id = update["callback_query"]["id"]
    assert await bot.answer_callback_query(query_id, text="ok") is True
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query("nope")

    inline = fake.push_inline_query("tax")
    assert await bot.answer_inline_query(inline["inline_query"]["id"], []) is True

    await bot.set_my_commands([("start", "Start"), ("help", "Help")])
    await bot.set_my_commands([("start", "开始")], language_code="zh")
    assert [c["command"] for c in fake.commands[None]] == ["start", "help"]
    assert [c.description for c in await bot.get_my_commands(language_code="zh")] == ["开始"]
    await bot.delete_my_commands(language_code="zh")
    assert "zh" not in fake.commands


async def test_wait_for_timeout_lists_recent_calls(bot, fake):
    await bot.get_me()
    with pytest.raises(AssertionError, match=r"(?s)no matching sendMessage.*getMe"):
        await fake.wait_for("sendMessage", timeout=0.1)
    assert TOKEN not in repr(fake)


async def test_application_end_to_end_and_token_never_printed(fake, capfd):
    async def start(update, context):
        await update.message.reply_text("welcome", reply_markup=InlineKeyboardMarkup(
            [[InlineKeyboardButton("go", callback_data="go")]]))

    async def button(update, context):
        await update.callback_query.answer()
        await update.callback_query.edit_message_text(f"picked {update.callback_query.data}")

    app = (Application.builder().token(TOKEN).base_url(fake.base_url)
           .base_file_url(fake.base_file_url).build())
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(button))
    async with app:
        await app.start()
        await app.updater.start_polling(timeout=1)
        mark = fake.mark()
        fake.push_command("/start")
        reply = await fake.wait_for("sendMessage", after=mark)
        assert reply.params["text"] == "welcome"
        fake.push_callback("go")
        edit = await fake.wait_for("editMessageText")
        assert edit.params["text"] == "picked go"
        assert fake.calls_to("answerCallbackQuery")[-1].ok
        await app.updater.stop()
        await app.stop()
    assert fake.pending_updates == []  # the updater confirmed everything on stop
    fake.drop("getMe")
    with pytest.raises(NetworkError):
        await Bot(TOKEN, base_url=fake.base_url).get_me()
    out, err = capfd.readouterr()
    assert TOKEN not in out + err

"""The Telegram bot end to end: the real application, a separate process, real HTTP against a
fake Bot API server on 127.0.0.1. Each test uses its own user so tests do not share state."""

from __future__ import annotations

import re
import time

import pytest
from bot_process import BotProcess
from fake_bot_api import STICKER, TOKEN
from telegram_support import callback_data, command, press, say, to_chat, urls


@pytest.fixture(scope="module")
def bot(fake, tmp_path_factory):
    process = BotProcess(fake, tmp_path_factory.mktemp("bot"), ADMIN_IDS="9001").start()
    yield process
    process.stop()


# -- start, menus, help, language ------------------------------------------------------------


def test_start_welcomes_in_the_users_language_with_the_area_menu(fake, bot):
    zh = command(fake, "/start", 101, language_code="zh-hans")
    assert "成都高新区" in zh.params["text"] and "1:a:talent" in callback_data(zh)
    en = command(fake, "/start", 102, language_code="en")
    assert "Hello" in en.params["text"]


def test_a_deep_link_opens_a_topic_directly(fake, bot):
    reply = command(fake, "/start", 103, args="talent-golden_panda")
    assert "Golden Panda" in reply.params["text"] and "Source:" in reply.params["text"]
    unknown = command(fake, "/start", 103, args="no-such-topic")
    assert "Hello" in unknown.params["text"]


def test_the_menu_goes_from_areas_to_topics_to_an_answer_and_back(fake, bot):
    menu = command(fake, "/menu", 104)
    assert "1:a:housing" in callback_data(menu)
    press(fake, "1:a:housing", 104)
    topics = fake.wait_for_sync("editMessageText", to_chat(104))
    assert "1:t:housing.talent_apartment" in callback_data(topics) and "1:m" in callback_data(
        topics)
    mark = fake.mark()
    fake.push_callback("1:t:housing.talent_apartment", user_id=104)
    answer = fake.wait_for_sync("sendMessage", to_chat(104), after=mark)
    assert "Talent apartments" in answer.params["text"]
    assert "https://cdzj.chengdu.gov.cn/" in urls(answer) or urls(answer)
    mark = fake.mark()
    fake.push_callback("1:m", user_id=104, message=fake.message(104, topics.result["message_id"]))
    back = fake.wait_for_sync("editMessageText", to_chat(104), after=mark)
    assert "1:a:talent" in callback_data(back)


def test_help_and_about_explain_the_bot_and_its_limits(fake, bot):
    assert "/menu" in command(fake, "/help", 105).params["text"]
    about = command(fake, "/about", 105).params["text"]
    assert "not legal advice" in about and "development plan" in about


def test_lang_is_remembered_and_decides_the_reply_language(fake, bot):
    prompt = command(fake, "/lang", 106)
    assert set(callback_data(prompt)) == {"1:l:zh", "1:l:zh-hant", "1:l:en"}
    press(fake, "1:l:zh", 106)
    assert say(fake, "talent apartment", 106).params["text"].count("人才公寓") >= 1
    command(fake, "/lang", 106, args="en")
    assert "Talent apartments" in say(fake, "人才公寓怎么申请", 106).params["text"]


def test_a_commands_menu_is_registered_per_language(fake, bot):
    assert {c["command"] for c in fake.commands[None]} >= {"start", "menu", "help", "lang"}
    assert any(c["description"] == "按主题浏览" for c in fake.commands["zh"])


# -- questions -----------------------------------------------------------------------------------


def test_an_answer_has_title_source_links_follow_ups_and_feedback_buttons(fake, bot):
    reply = say(fake, "how do I apply for a talent apartment?", 110)
    text = reply.params["text"]
    assert reply.params["parse_mode"] == "HTML"
    assert "<b>Talent apartments</b>" in text and "Source:" in text
    assert urls(reply) and all(u.startswith("https://") or u.startswith("http://")
                               for u in urls(reply))
    data = callback_data(reply)
    assert any(d.startswith("1:t:") for d in data)
    assert any(d.startswith("1:f:") and d.endswith(":u") for d in data)


def test_feedback_is_thanked_and_forged_feedback_is_harmless(fake, bot):
    reply = say(fake, "金熊猫人才计划", 111)
    up = next(d for d in callback_data(reply) if d.endswith(":u"))
    assert "谢谢" in press(fake, up, 111, language_code="zh-hans").params["text"]
    # Another user pressing (or forging) the same button cannot vote on 111's message.
    assert "expired" in press(fake, up, 112, message=reply.result).params["text"]
    for junk in ("garbage", "0:t:talent.overview", "1:t:no.such_topic", "1:f:abc:u", "1:x"):
        assert "expired" in press(fake, junk, 111, message=reply.result).params["text"]


def test_a_clarify_offers_topics_as_buttons(fake, bot):
    reply = say(fake, "交子公园", 113)
    assert any(d.startswith("1:t:") for d in callback_data(reply))


def test_a_fallback_gives_hotline_portal_and_says_it_was_recorded(fake, bot):
    reply = say(fake, "what's a good recipe for sourdough bread", 114)
    text = reply.params["text"]
    assert "12345" in text and "recorded" in text
    assert "https://www.cdht.gov.cn/" in urls(reply)


def test_an_edited_message_is_answered_like_a_new_one(fake, bot):
    say(fake, "hello", 115)
    edited = say(fake, "人才公寓", 115, edited=True)
    assert "人才公寓" in edited.params["text"]


def test_non_text_messages_get_a_hint_to_type(fake, bot):
    mark = fake.mark()
    fake.push_message(None, user_id=116, extra={"sticker": STICKER})
    hint = fake.wait_for_sync("sendMessage", to_chat(116), after=mark)
    assert "type" in hint.params["text"]
    mark = fake.mark()
    fake.push_message(None, user_id=116, extra={"location": {"latitude": 30.5,
                                                              "longitude": 104.06}})
    assert "type" in fake.wait_for_sync("sendMessage", to_chat(116), after=mark).params["text"]


@pytest.mark.parametrize("text", ["🙂🙂🙂", "x" * 4096, "人才公寓\u200b\u200d\u0007",
                                  "<b>bold</b> & <script>", "'; DROP TABLE users; --",
                                  "Привет", "   "])
def test_bad_input_gets_a_friendly_reply(fake, bot, text):
    reply = say(fake, text, 117)
    assert reply.ok and reply.params["text"].strip()
    assert "Traceback" not in reply.params["text"]


def test_lone_surrogates_get_the_reply_the_same_text_without_them_gets(fake, bot):
    # JSON can carry "\ud800" (half of a UTF-16 pair) although no UTF-8 text can.
    broken = say(fake, "人才公寓怎么申请\ud800", 130).params["text"]
    assert broken == say(fake, "人才公寓怎么申请", 131).params["text"]
    alone = say(fake, "\udfff", 132).params["text"]
    assert alone == say(fake, "?", 133).params["text"]
    assert "went wrong" not in alone and "出了点问题" not in alone
    mark = fake.mark()
    fake.push_inline_query("talent apartment\ud800", user_id=134)
    cards = fake.wait_for_sync("answerInlineQuery", after=mark)
    assert cards.ok and cards.params["results"][0]["id"] == "housing.talent_apartment"


@pytest.mark.parametrize("data", ["1:f:²:u", "1:f:١٢:u", f"1:f:{'9' * 58}:u", "1:f:-1:u",
                                  "1:t:../../etc", "1:l:" + "x" * 60, "1:x:y:y", "\x00"])
def test_forged_button_data_gets_button_expired(fake, bot, data):
    reply = say(fake, "金熊猫人才计划", 135)
    answer = press(fake, data, 135, message=reply.result)
    assert answer.ok and "expired" in answer.params["text"]


def test_groups_answer_mentions_and_replies_and_stay_silent_otherwise(fake, bot):
    group = -100222
    mark = fake.mark()
    fake.push_message("人才公寓怎么申请", user_id=120, chat_id=group, chat_type="supergroup")
    mention = say(fake, "@cdht_policy_bot 人才公寓怎么申请", 120, chat_id=group,
                  chat_type="supergroup")
    assert "人才公寓" in mention.params["text"]
    silent = [c for c in fake.calls_to("sendMessage")[0:] if c.params.get("chat_id") == group
              and fake.calls.index(c) >= mark]
    assert len(silent) == 1  # only the mention was answered
    reply = say(fake, "金熊猫呢", 120, chat_id=group, chat_type="supergroup", reply_to_bot=True)
    assert "金熊猫" in reply.params["text"]
    assert "/menu" in command(fake, "/help", 120, chat_id=group, chat_type="supergroup").params[
        "text"]


def test_inline_mode_offers_up_to_five_answer_cards(fake, bot):
    mark = fake.mark()
    fake.push_inline_query("talent apartment", user_id=121)
    call = fake.wait_for_sync("answerInlineQuery", after=mark)
    results = call.params["results"]
    assert 1 <= len(results) <= 5
    assert results[0]["id"] == "housing.talent_apartment"
    assert "Source:" in results[0]["input_message_content"]["message_text"]


def test_a_non_admin_cannot_use_admin_commands(fake, bot):
    for name in ("/stats", "/reload", "/unanswered", "/export", "/stale"):
        assert "don't know that command" in command(fake, name, 122).params["text"]


def test_a_burst_gets_one_notice_saying_when_to_come_back_then_answers_again(fake, bot):
    mark = fake.mark()
    for i in range(14):
        fake.push_message(f"金熊猫 {i}", user_id=123)
    notice = fake.wait_for_sync("sendMessage", lambda c: "wait" in c.params.get("text", ""),
                                after=mark)
    seconds = int(re.search(r"wait (\d+) seconds", notice.params["text"]).group(1))
    time.sleep(1.0)
    sent = [c for c in fake.calls[mark:] if c.method == "sendMessage"
            and c.params.get("chat_id") == 123]
    assert sum("wait" in c.params["text"] for c in sent) == 1
    assert len(sent) == 9  # eight answers (the burst a person may send) and one notice
    time.sleep(seconds)
    assert "Golden Panda" in say(fake, "golden panda", 123).params["text"]


def test_the_token_never_appears_in_the_logs(fake, bot):
    say(fake, "hello", 124)
    logs = bot.logs()
    assert "getUpdates" in logs or "sendMessage" in logs or "ready" in logs
    assert TOKEN not in logs and TOKEN.split(":")[1] not in logs


def test_the_menu_lists_policy_areas_not_small_talk(fake, bot):
    data = callback_data(command(fake, "/menu", 125))
    assert "1:a:talent" in data and "1:a:meta" not in data


def test_an_emergency_gets_its_number_first_and_one_told_as_over_gets_the_policy_answer(
        fake, bot):
    """Someone collapsing again gets 120 on the first line; a fire "all fixed now" told before
    a question about fire safety is that question."""
    again = say(fake, "我爸上个月出院了 今天又晕倒了", 140).params["text"]
    assert "120" in again.splitlines()[0]
    over = say(fake, "we had a kitchen fire in spring, all fixed now. does the zone check fire "
               "safety in old buildings?", 141).params["text"]
    assert "119" not in over and "Public safety" in over

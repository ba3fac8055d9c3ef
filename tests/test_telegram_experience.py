"""What Telegram users notice at once, end to end against the fake Bot API: browsing without
tripping flood control, groups, photos, 繁體, plain small talk, the same controls on every
answer, inline mode, the profile, /forget and /about. Each test uses its own user."""

from __future__ import annotations

import time

import pytest
from bot_process import BotProcess
from fake_bot_api import BOT_USER
from telegram_support import buttons, callback_data, command, press, say, to_chat, urls

GROUP = -1001000000777
ADMIN = 9101


@pytest.fixture(scope="module")
def bot(fake, tmp_path_factory):
    process = BotProcess(fake, tmp_path_factory.mktemp("bot"), ADMIN_IDS=str(ADMIN),
                         RETENTION_DAYS="90").start()
    yield process
    process.stop()


def labels(call) -> list[str]:
    return [b["text"] for b in buttons(call)]


# -- residents ----------------------------------------------------------------------------------


def test_browsing_the_menu_at_human_pace_never_trips_flood_control(fake, bot):
    menu = command(fake, "/menu", 501)
    for _ in range(5):
        press(fake, "1:a:housing", 501, method="editMessageText")
        time.sleep(0.3)
        press(fake, "1:m", 501, method="editMessageText",
              message=fake.message(501, menu.result["message_id"]))
        time.sleep(0.3)
    texts = [c.params.get("text", "") for c in fake.calls_to("sendMessage")
             if c.params.get("chat_id") == 501]
    assert not any("wait" in t for t in texts)
    assert "Talent apartments" in say(fake, "talent apartments", 501).params["text"]


def test_in_a_group_commands_for_other_bots_and_unknown_ones_get_silence(fake, bot):
    mark = fake.mark()
    fake.push_command("/help@otherbot", user_id=502, chat_id=GROUP, chat_type="supergroup")
    fake.push_command("/nosuchcommand", user_id=502, chat_id=GROUP, chat_type="supergroup")
    start = command(fake, "/start", 502, chat_id=GROUP, chat_type="supergroup")
    assert "@" + BOT_USER["username"] in start.params["text"]  # how to ask here
    sent = [c for c in fake.calls[mark:] if c.method == "sendMessage"]
    assert sent == [start]


def test_in_a_group_an_answer_replies_to_the_askers_message(fake, bot):
    update = fake.push_message("@cdht_policy_bot 金熊猫人才计划是什么", user_id=503, chat_id=GROUP,
                               chat_type="supergroup")
    asked = update["message"]["message_id"]
    reply = fake.wait_for_sync("sendMessage",
                               lambda c: c.params.get("reply_parameters", {}).get("message_id")
                               == asked)
    assert "金熊猫" in reply.params["text"]


def test_a_photo_with_a_question_as_its_caption_is_answered(fake, bot):
    photo = [{"file_id": "PHOTO1", "file_unique_id": "UP1", "width": 90, "height": 90}]
    mark = fake.mark()
    fake.push_message(None, user_id=504, extra={"photo": photo, "caption": "人才公寓怎么申请"})
    reply = fake.wait_for_sync("sendMessage", to_chat(504), after=mark)
    assert "人才公寓" in reply.params["text"] and "1:f:" in "".join(callback_data(reply))


def test_traditional_chinese_readers_get_traditional_chinese(fake, bot):
    written = say(fake, "人才公寓怎麼申請", 505, language_code="zh-hans")
    assert "規劃" in written.params["text"] and "规划" not in written.params["text"]
    app = command(fake, "/menu", 506, language_code="zh-TW")
    assert "人才政策" in labels(app) and "企業服務與扶持" in labels(app)
    assert "規劃" in say(fake, "人才公寓怎么申请", 506, language_code="zh-TW").params["text"]
    prompt = command(fake, "/lang", 507)
    assert {"简体中文", "繁體中文", "English"} <= set(labels(prompt))
    press(fake, "1:l:zh-hant", 507)
    assert "規劃" in say(fake, "talent apartment", 507).params["text"]


def test_small_talk_is_a_plain_short_text(fake, bot):
    for text in ("你好", "thanks!", "bye"):
        reply = say(fake, text, 508)
        assert "<b>" not in reply.params["text"] and not buttons(reply), text


def test_every_answer_has_the_same_controls_however_it_was_reached(fake, bot):
    typed = say(fake, "人才公寓怎么申请", 509)
    deep = command(fake, "/start", 510, args="housing-talent_apartment")
    command(fake, "/menu", 511)
    press(fake, "1:a:housing", 511, method="editMessageText")
    mark = fake.mark()
    fake.push_callback("1:t:housing.talent_apartment", user_id=511)
    menu = fake.wait_for_sync("sendMessage", to_chat(511), after=mark)
    for reply in (typed, deep, menu):
        data, marks = callback_data(reply), buttons(reply)
        assert urls(reply), reply.params["text"][:40]  # the official links
        assert any(d.startswith("1:t:") for d in data)  # follow-up topics
        assert any(d.endswith(":u") for d in data) and any(d.endswith(":d") for d in data)
        assert any(b.get("switch_inline_query") in ("人才公寓", "Talent apartments")
                   for b in marks)  # share, with the topic
        assert "1:h" in data  # main menu
    fallback = say(fake, "what's a good recipe for sourdough bread", 512)
    assert callback_data(fallback) == ["1:h"]


def test_the_main_menu_button_under_an_answer_sends_a_new_menu(fake, bot):
    say(fake, "golden panda", 513)
    mark = fake.mark()
    fake.push_callback("1:h", user_id=513)
    menu = fake.wait_for_sync("sendMessage", to_chat(513), after=mark)
    assert "1:a:talent" in callback_data(menu)


def test_inline_mode_shows_popular_topics_finds_as_you_type_and_links_into_the_bot(fake, bot):
    def cards(query: str) -> list[dict]:
        mark = fake.mark()
        fake.push_inline_query(query, user_id=514)
        return fake.wait_for_sync("answerInlineQuery", after=mark).params["results"]

    empty = cards("")
    assert len(empty) >= 5
    gold = cards("gold")
    assert gold[0]["id"] == "talent.golden_panda"
    link = [b["url"] for row in gold[0]["reply_markup"]["inline_keyboard"] for b in row
            if "t.me" in b.get("url", "")]
    assert link == [f"https://t.me/{BOT_USER['username']}?start=talent-golden_panda"]
    assert {c["id"] for c in cards("学")} & {"education.enrollment", "education.quality"}


def test_the_profile_is_set_in_both_languages_and_the_menu_follows_lang(fake, bot):
    for key in ("description", "short_description"):
        assert "12345" in fake.descriptions[key][None]
        assert "12345" in fake.descriptions[key]["zh"]
    assert "official" in fake.descriptions["description"][None]
    command(fake, "/lang", 515, args="zh")
    menu = {c["command"]: c["description"] for c in fake.commands["chat:515"]}
    assert menu["menu"] == "按主题浏览"
    command(fake, "/lang", 515, args="en")
    assert {c["command"]: c["description"] for c in fake.commands["chat:515"]}["menu"] == \
        "Browse topics"


def test_forget_asks_to_confirm_and_cancel_keeps_everything(fake, bot):
    say(fake, "golden panda", 516)
    confirm = command(fake, "/forget", 516)
    assert set(callback_data(confirm)) == {"1:x:y", "1:x:n"}
    mark = fake.mark()
    fake.push_callback("1:x:n", user_id=516)
    kept = fake.wait_for_sync("editMessageText", to_chat(516), after=mark)
    assert "nothing was deleted" in kept.params["text"]


def test_about_says_where_answers_come_from_what_is_stored_for_how_long_and_the_version(fake,
                                                                                       bot):
    about = command(fake, "/about", 517).params["text"]
    assert "development plan" in about and "public reports" in about
    assert "90 days" in about and "/forget" in about and "Version" in about


# -- admins -------------------------------------------------------------------------------------


def test_admins_get_their_commands_in_their_menu_and_help(fake, bot):
    assert "stats" in {c["command"] for c in fake.commands[f"chat:{ADMIN}"]}
    help_texts = []
    mark = fake.mark()
    fake.push_command("/help", user_id=ADMIN)
    fake.wait_for_sync("sendMessage", lambda c: "/reload" in c.params.get("text", ""), after=mark)
    help_texts = [c.params["text"] for c in fake.calls[mark:] if c.method == "sendMessage"]
    assert any("/stats" in t for t in help_texts)
    assert "/stats" not in command(fake, "/help", 518).params["text"]


def test_stats_sends_a_chart_and_bad_arguments_get_a_usage_line(fake, bot):
    say(fake, "golden panda", 519)
    mark = fake.mark()
    fake.push_command("/stats", "7", user_id=ADMIN)
    photo = fake.wait_for_sync("sendPhoto", after=mark)
    assert fake.uploaded_file(photo.result["photo"][0]["file_id"]).startswith(b"\x89PNG")
    assert "Usage" in command(fake, "/stats", ADMIN, args="abc").params["text"]


def test_admin_reports_are_refused_in_groups(fake, bot):
    reply = command(fake, "/stats", ADMIN, chat_id=GROUP, chat_type="supergroup")
    assert "private" in reply.params["text"] and "questions" not in reply.params["text"][:20]


def test_questions_in_everyday_words_get_the_reply_they_ask_for(fake, bot):
    """A prediction, a chat spelling, bike lanes and a framed plan, through the real bot."""
    predicted = say(fake, "地铁哪年才能修到中和", 530)
    assert "我无法预测" in predicted.params["text"]
    assert "交通与通勤" in predicted.params["text"]  # declined for its topic, with its button
    assert "1:t:city.transport" in callback_data(predicted)
    assert "What can I ask" in say(fake, "what can u do", 531).params["text"]
    assert "slow traffic" in say(fake, "will there be more cycle lanes in the zone",
                                 532).params["text"]
    assert "增加学位供给" in say(fake, "高新区准备增加学位吗", 533).params["text"]


def test_what_people_say_they_do_not_ask_and_whom_to_call_through_the_real_bot(fake, bot):
    """Round 14's readings, end to end: a disavowed booking is no request, an office's number
    asks whom to call (the contact answer with that topic's button), "看病贵不贵" asks how dear
    care is rather than a price, and a veiled goodbye gets the emergency numbers first."""
    disavowed = say(fake, "不用你帮我报名 就想知道人才公寓一般怎么申请", 534).params["text"]
    assert "提供人才公寓" in disavowed and "12345" in disavowed
    office = say(fake, "高新区养老服务中心的联系电话是多少", 535)
    assert "无法为您转接人工" in office.params["text"]
    assert "1:t:life.elderly" in callback_data(office)
    assert "全方位全周期健康服务示范区" in say(fake, "在高新区看病贵不贵 医院多不多",
                                            536).params["text"]
    veiled = say(fake, "can't stop thinking about ending things tonight", 537).params["text"]
    assert "120" in veiled.split("\n")[0]


def test_an_emergency_no_phrase_names_gets_its_number_first_through_the_real_bot(fake, bot):
    """A break-in told in words no emergency phrase has: the learnt detector gives 110 first;
    a queue "to die for" gives no number at all."""
    door = say(fake, "someone is trying the handle of my door at 3am and won't leave", 538)
    assert "110" in door.params["text"].split("\n")[0]
    queue = say(fake, "排队排得我想死 社保卡补办要好久", 539, language_code="zh-hans")
    assert "120" not in queue.params["text"] and "110" not in queue.params["text"]

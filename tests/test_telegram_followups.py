"""Conversations on Telegram, end to end: follow-ups read with the topic in context, quoting an
answer, menu answers, and what clears the context. Each test uses its own user."""

from __future__ import annotations

import pytest
from bot_process import BotProcess
from telegram_support import callback_data, command, press, say, to_chat


@pytest.fixture(scope="module")
def bot(fake, tmp_path_factory):
    process = BotProcess(fake, tmp_path_factory.mktemp("bot")).start()
    yield process
    process.stop()


def test_a_follow_up_is_answered_for_the_topic_in_context(fake, bot):
    first = say(fake, "孩子明年上小学，高新区学位够不够", 301, language_code="zh-hans")
    assert "学位" in first.params["text"]
    follow = say(fake, "那怎么申请？", 301, language_code="zh-hans").params["text"]
    assert "学位" in follow and "申请" in follow
    # the follow-up opens with the ask, not the same answer again
    assert follow != first.params["text"]


def test_a_follow_up_the_plan_cannot_answer_is_declined_for_that_topic(fake, bot):
    say(fake, "人才公寓怎么申请", 302)
    decline = say(fake, "租金一个月多少", 302)
    text = decline.params["text"]
    assert "人才公寓" in text and "12345" in text
    assert "1:t:housing.talent_apartment" in callback_data(decline)


def test_a_switch_names_the_new_topic_and_small_talk_keeps_the_old_one(fake, bot):
    say(fake, "what is the golden panda program", 303)
    assert "You're welcome" in say(fake, "thanks!", 303).params["text"]
    assert "Golden Panda" in say(fake, "who can apply?", 303).params["text"]
    switched = say(fake, "and talent apartments?", 303).params["text"]
    assert "Talent apartments" in switched


def test_quoting_an_answer_puts_its_topic_in_context(fake, bot):
    panda = say(fake, "金熊猫人才计划是什么", 304)
    say(fake, "保障性租赁住房怎么申请", 304)
    quoted = fake.message(304, panda.result["message_id"])
    reply = say(fake, "申请条件是什么", 304, extra={"reply_to_message": quoted})
    assert "金熊猫" in reply.params["text"]


def test_a_menu_answer_sets_the_topic(fake, bot):
    command(fake, "/menu", 305)
    press(fake, "1:a:housing", 305)
    fake.wait_for_sync("editMessageText", to_chat(305))
    mark = fake.mark()
    fake.push_callback("1:t:housing.talent_apartment", user_id=305)
    fake.wait_for_sync("sendMessage", to_chat(305), after=mark)
    assert "Talent apartments" in say(fake, "how much is the rent?", 305).params["text"]


def test_start_clears_the_context(fake, bot):
    say(fake, "金熊猫人才计划是什么", 306)
    command(fake, "/start", 306)
    back = say(fake, "那怎么申请？", 306).params["text"]
    assert "金熊猫" not in back and "哪一项" in back


def test_in_a_group_each_member_has_their_own_context(fake, bot):
    group = -1001000000306
    mention = "@cdht_policy_bot "
    say(fake, mention + "金熊猫人才计划是什么", 307, chat_id=group, chat_type="group")
    say(fake, mention + "人才公寓是什么", 308, chat_id=group, chat_type="group")
    reply = say(fake, mention + "那怎么申请", 307, chat_id=group, chat_type="group")
    assert "金熊猫" in reply.params["text"]


def test_a_clarify_offers_none_of_these_which_leads_to_the_hotline_and_menu(fake, bot):
    reply = say(fake, "学校", 309)
    assert "1:t:education.enrollment" in callback_data(reply) and "1:n" in callback_data(reply)
    mark = fake.mark()
    fake.push_callback("1:n", user_id=309)
    sent = fake.wait_for_sync("sendMessage", to_chat(309), after=mark)
    assert "12345" in sent.params["text"] and "1:a:talent" in callback_data(sent)


def test_a_switch_gets_the_topic_it_names_even_where_it_points_around(fake, bot):
    """"那读书呢" matches school places alone though not well enough to answer it on its own;
    "国资那边呢" names state-owned enterprises, 那边 pointing back at nothing."""
    say(fake, "人才公寓怎么申请", 310, language_code="zh-hans")
    assert "增加学位供给" in say(fake, "那读书呢", 310, language_code="zh-hans").params["text"]
    say(fake, "预算绩效管理改革是什么", 310, language_code="zh-hans")
    assert "国资国企改革" in say(fake, "国资那边呢", 310, language_code="zh-hans").params["text"]


def test_asking_whom_to_call_after_an_answer_gets_the_contact_answer_for_that_topic(fake, bot):
    """The contact answer stands on its own (conversation.stand_alone), whatever topic is in
    context: the hotline, with that topic's links and its button, not its answer again; a
    question that only shares "who" with small talk is not small talk."""
    say(fake, "talent apartment", 311)
    contact = say(fake, "who do I call", 311)
    text = contact.params["text"]
    assert "can't transfer you to a person" in text and "12345" in text
    assert "alongside an international talent community" not in text
    assert "1:t:housing.talent_apartment" in callback_data(contact)
    assert "cdzj.chengdu.gov.cn" in str(contact.params["reply_markup"])
    assert "South and West" in say(fake, "who runs the zone", 312).params["text"]


def test_an_aspect_alone_does_not_glue_a_question_with_topics_of_its_own(fake, bot):
    """"foreign researchers" names an aspect, but nothing of the question is about the
    biotown: it gets its own choice of topics, not the biotown answer."""
    say(fake, "天府国际生物城是什么", 313, language_code="en")
    asked = say(fake, "any funding for foreign researchers relocating to the zone", 313)
    assert "Did you mean" in asked.params["text"] and "Bio-Town" not in asked.params["text"]
    assert "1:t:business.finance" in callback_data(asked)


def test_a_question_about_the_zone_itself_leaves_the_topic_and_its_details_are_declined(
        fake, bot):
    """"who runs the zone" shares only "who" with talent apartments: it gets the zone's answer;
    a phone number asked then is declined for the zone, with the hotline and its topic."""
    say(fake, "人才公寓怎么申请", 314)
    zone = say(fake, "who runs the zone", 314).params["text"]
    assert "South and West" in zone and "alent apartment" not in zone
    number = say(fake, "给我个电话号码", 314)
    assert "12345" in number.params["text"]
    assert "1:t:zone.overview" in callback_data(number)


def test_an_amount_asked_after_a_topic_is_about_it_though_another_answer_has_figures(
        fake, bot):
    """Alone, "how much space … in total" is the zone's area (its figures); after talent
    apartments it is about them: the reply says the plan gives no such figure for them."""
    say(fake, "人才公寓怎么申请", 315)
    reply = say(fake, "how much space do they have in total", 315).params["text"]
    assert "12345" in reply and "130" not in reply
    assert "talent apartments" in reply and "no locations, number of flats" in reply


def test_a_question_matching_nothing_is_asked_about_the_topic_and_a_switch_leaves_it(fake, bot):
    """"合同签一次管几年" alone is a fallback; after talent apartments it asks about them. A
    switch naming close topics of its own ("…the high-tech enterprise thing, how is it
    different") gets its own topic, not the one it points back from; "thx bye" is a goodbye."""
    say(fake, "人才公寓怎么申请", 320, language_code="zh-hans")
    contract = say(fake, "合同签一次管几年", 320, language_code="zh-hans").params["text"]
    assert "人才公寓" in contract
    say(fake, "what support is there for tech SMEs", 321)
    switched = say(fake, "and the high-tech enterprise thing, how is it different", 321)
    assert "High-tech enterprise programme" in switched.params["text"]
    assert "Tech small and medium enterprises" not in switched.params["text"]
    leaving = say(fake, "thx bye", 321).params["text"]
    assert "Which of these" not in leaving and "bye" in leaving.lower()


def test_a_question_of_two_words_after_a_topic_is_asked_about_that_topic(fake, bot):
    """"how large" alone is the zone's area; after Future Science City it asks how large that
    is: the reply gives its 60.4 sq km, not the zone's 130."""
    say(fake, "what is future science city", 322)
    size = say(fake, "how large", 322).params["text"]
    assert "60.4 sq km" in size and "130 sq km" not in size
    assert "130 sq km" in say(fake, "how large is the zone", 322).params["text"]


def test_asking_on_after_a_list_of_topics_is_about_the_first_of_them(fake, bot):
    listed = say(fake, "any help with housing for people who just arrived?", 323)
    assert "1:t:housing.affordable_rental" in callback_data(listed)
    follow = say(fake, "外地人也可以吗", 323, language_code="zh-hans").params["text"]
    assert "保障性租赁住房" in follow


def test_a_switch_ending_in_that_one_is_answered_for_what_it_names(fake, bot):
    say(fake, "中德创新产业合作平台是干啥的", 324, language_code="zh-hans")
    text = say(fake, "孵化器那个呢", 324, language_code="zh-hans").params["text"]
    assert "建设专业孵化体系" in text and "个人或私营企业" not in text


def test_a_phone_number_asked_alone_after_an_answer_gets_the_contact_answer_for_it(fake, bot):
    """"电话多少" after an answer asks whom to call about it: the hotline, with that topic's
    links and button, not the decline for someone's private details."""
    say(fake, "保租房怎么申请", 325, language_code="zh-hans")
    reply = say(fake, "电话多少", 325, language_code="zh-hans")
    assert "无法为您转接人工" in reply.params["text"] and "12345" in reply.params["text"]
    assert "1:t:housing.affordable_rental" in callback_data(reply)


@pytest.mark.parametrize(("follow_up", "user"), [("要交社保不", 326), ("应届生", 327)])
def test_a_requirement_or_a_group_alone_after_an_answer_is_asked_of_its_topic(fake, bot,
                                                                             follow_up, user):
    """Social insurance, or fresh graduates, named alone after affordable rentals: asked of
    them, not of the social security or jobs answers those words match on their own."""
    say(fake, "保租房怎么申请", user, language_code="zh-hans")
    text = say(fake, follow_up, user, language_code="zh-hans").params["text"]
    assert "保障性租赁住房" in text and "社保与医保" not in text.split("\n")[0]


def test_a_group_asking_whether_it_may_apply_too_stays_on_the_topic_in_context(fake, bot):
    """"外地打工的也可以申请吗" after free legal aid asks it of legal aid, however well
    affordable rentals match 外地 and 申请 on their own."""
    say(fake, "高新区有没有免费的法律援助", 328, language_code="zh-hans")
    text = say(fake, "外地打工的也可以申请吗", 328, language_code="zh-hans").params["text"]
    assert "法律服务" in text and "保障性租赁住房" not in text


def test_an_offices_number_asked_after_an_answer_gets_the_contact_answer_for_it(fake, bot):
    """"那边有咨询电话没得" after incubators asks whom to call about them: the hotline, with the
    incubators' button, not the decline of someone's private details."""
    say(fake, "孵化器怎么申请入驻", 329, language_code="zh-hans")
    reply = say(fake, "那边有咨询电话没得", 329, language_code="zh-hans")
    assert "无法为您转接人工" in reply.params["text"] and "12345" in reply.params["text"]
    assert "1:t:business.incubation" in callback_data(reply)


def test_a_switch_opened_after_ok_gets_the_topic_it_names(fake, bot):
    """"ok 那国际社区那边配套怎么样" after talent apartments opens a switch as "那…" would: the
    international community's answer, not the apartments' again for the "那边" in it."""
    say(fake, "人才公寓怎么申请", 330, language_code="zh-hans")
    text = say(fake, "ok 那国际社区那边配套怎么样", 330, language_code="zh-hans").params["text"]
    assert "营造国际化的生活环境" in text and "规划对人才公寓只写了这一句" not in text


def test_asking_what_support_exists_for_something_else_is_a_new_question(fake, bot):
    """"初创的小公司有没有啥扶持政策" after the industry leaders answer asks about tech SMEs,
    however short it is: the topic in context does not keep it."""
    say(fake, "高新区培育哪些龙头企业", 331, language_code="zh-hans")
    text = say(fake, "初创的小公司有没有啥扶持政策", 331, language_code="zh-hans").params["text"]
    assert "科技型中小企业群落" in text and "领军企业" not in text.split("\n")[0]


def test_asking_to_speak_to_a_member_of_staff_gets_the_contact_answer_for_the_topic(fake, bot):
    """"我想找个工作人员问清楚" after talent apartments asks whom to ask: the hotline, with the
    talent apartments' button to go back."""
    say(fake, "人才公寓怎么申请", 332, language_code="zh-hans")
    reply = say(fake, "我想找个工作人员问清楚", 332, language_code="zh-hans")
    assert "12345" in reply.params["text"] and "无法为您转接人工" in reply.params["text"]
    assert "1:t:housing.talent_apartment" in callback_data(reply)


@pytest.mark.parametrize(("follow_up", "user"), [("for people over forty?", 333),
                                                 ("retired engineers too?", 334)])
def test_a_group_asked_about_with_for_or_too_stays_on_the_topic_in_context(fake, bot,
                                                                          follow_up, user):
    """Starting with "for" or ending with "too", a short message asks whether the job services
    just given hold for that group as well: their answer again, not the fallback."""
    say(fake, "what job services does the zone offer", user)
    text = say(fake, follow_up, user).params["text"]
    assert "better job and start-up services" in text


def test_asking_for_a_real_person_about_a_topic_gets_the_contact_answer_for_it(fake, bot):
    """"养老服务的事 能找到真人问不" asks whom to ask about elderly care: the contact answer
    with that topic's button, not the elderly-care answer again."""
    reply = say(fake, "养老服务的事 能找到真人问不", 335, language_code="zh-hans")
    assert "规划没有写明具体由哪个部门或窗口受理" in reply.params["text"]
    assert "1:t:life.elderly" in callback_data(reply)


def test_an_acknowledgement_is_small_talk_that_keeps_the_topic(fake, bot):
    """"好嘛 晓得了" after an answer acknowledges it: "anything else?" with no buttons, as
    after thanks, and the next question is still read with the topic."""
    say(fake, "人才公寓怎么申请", 336, language_code="zh-hans")
    ack = say(fake, "好嘛 晓得了", 336, language_code="zh-hans")
    assert ack.params["text"].startswith("好的。还有什么想问的吗")
    assert "reply_markup" not in ack.params
    follow = say(fake, "外地人可以申请不", 336, language_code="zh-hans").params["text"]
    assert "人才公寓" in follow


def test_a_place_the_topic_is_about_named_alone_gets_that_topic(fake, bot):
    """"and the japan one?" after the China-Korea park asks about the parks' answer, which
    names the China-Japan park; it is not declined as a question about Japan."""
    say(fake, "what is the china-korea innovation park", 337)
    text = say(fake, "and the japan one?", 337).params["text"]
    assert "China-Japan" in text and "outside what I know" not in text


def test_asking_for_the_official_website_gets_the_contact_answer_for_the_topic(fake, bot):
    """"官网是哪个" after talent apartments: no site is invented; the contact answer with the
    hotline, the topic's own links and its button to go back."""
    say(fake, "人才公寓怎么申请", 338, language_code="zh-hans")
    reply = say(fake, "官网是哪个", 338, language_code="zh-hans")
    assert "12345" in reply.params["text"]
    assert "1:t:housing.talent_apartment" in callback_data(reply)


def test_ok_in_a_chinese_conversation_is_answered_in_chinese(fake, bot):
    """An acknowledgement has no language of its own: "ok" after a Chinese answer gets the
    Chinese "anything else?", not the English one."""
    say(fake, "人才公寓怎么申请", 339, language_code="en")
    assert say(fake, "ok", 339, language_code="en").params["text"].startswith("好的。")

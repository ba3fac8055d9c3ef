"""What a user gets back for a question: kind, topic, language and text (cases in data)."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
import yaml
from conftest import DATA

from bot.engine import Conversation, Reading
from bot.matching.index import Candidate
from bot.understanding.guess import Guess
from bot.understanding.reader import Understanding

CASES = yaml.safe_load((DATA / "behaviour.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", CASES, ids=[c["q"][:40] or "<empty>" for c in CASES])
def test_reply_matches_the_specification(engine, case):
    reply = engine.reply(case["q"], case.get("lang"))
    if "kind" in case:
        kinds = case["kind"] if isinstance(case["kind"], list) else [case["kind"]]
        assert reply.kind in kinds, reply
    if "intent" in case:
        wants = case["intent"] if isinstance(case["intent"], list) else [case["intent"]]
        assert any(reply.intent == w or (w and reply.intent and reply.intent.startswith(w + "."))
                   for w in wants), reply
    if "reply_lang" in case:
        assert reply.lang == case["reply_lang"]
    for text in case.get("text_contains", []):
        assert text.lower() in reply.text.lower()
    for text in case.get("no_text", []):
        assert text not in reply.text
    for text in case.get("first_line_contains", []):
        assert text in reply.text.splitlines()[0], reply.text
    if "options" in case:
        assert [o.intent for o in reply.options] == case["options"], reply.options
    if "only_numbers" in case:
        assert set(re.findall(r"\d+", reply.text)) <= set(case["only_numbers"]), reply.text
    assert reply.text.strip()


def test_an_answer_names_its_plan_passage_and_offers_links_and_follow_ups(engine, kb):
    reply = engine.reply("保障性租赁住房")
    answer = kb.answers[reply.intent]
    assert answer.plan in reply.text and answer.plan in kb.plan
    assert [link.url for link in reply.links] == [kb.links[k].url for k in answer.links]
    assert [o.intent for o in reply.options] == list(answer.follow_ups)


def test_the_fallback_gives_the_hotline_and_the_portal(engine, kb):
    reply = engine.reply("推荐一部好看的电影")
    assert reply.kind == "fallback" and reply.intent is None
    assert kb.hotline.phone in reply.text
    assert kb.links["cdht"].url in [link.url for link in reply.links]


def _reading(*scores: tuple[str, float]) -> Reading:
    return Reading("x", "zh", [Candidate(intent, score, "") for intent, score in scores])


def test_too_close_to_call_offers_only_the_close_topics(engine, kb):
    m = kb.matching
    top = m.answer_threshold + 5
    reply = engine.respond(_reading(("housing.talent_apartment", top),
                                    ("housing.affordable_rental", top - m.margin / 2),
                                    ("talent.golden_panda", top - m.clarify_spread - 1)))
    assert reply.kind == "clarify"
    assert [o.intent for o in reply.options] == ["housing.talent_apartment",
                                                 "housing.affordable_rental"]


def test_a_learnt_decline_needs_more_certainty_against_a_strongly_matched_topic(engine, kb):
    """The learnt request kinds are guessed from the frame of a message; a topic matched
    strongly ("学位紧张吗，会不会读不上公办" is the school places answer) is asked about unless the
    guess is surer than usual; matched weakly, the usual threshold declines it."""
    m = kb.matching
    between = (m.guess_threshold + m.guess_strong_threshold) / 2
    unsure = Understanding(learnt=Guess("prediction", between))
    strong = Reading("x", "zh", [Candidate("education.enrollment", m.guess_strong_score, "")],
                     unsure)
    assert (engine.respond(strong).kind, engine.respond(strong).intent) == (
        "answer", "education.enrollment")
    weak = replace(strong, ranked=[Candidate("education.enrollment", m.answer_threshold + 1, "")])
    assert (engine.respond(weak).kind, engine.respond(weak).request) == ("fallback", "prediction")
    sure = replace(strong, understood=Understanding(
        learnt=Guess("prediction", m.guess_strong_threshold)))
    assert engine.respond(sure).kind == "fallback"


def test_a_clear_lead_is_answered_and_a_weak_best_is_not(engine, kb):
    m = kb.matching
    clear = engine.respond(_reading(("zone.area", m.answer_threshold + m.margin + 1),
                                    ("zone.overview", m.answer_threshold)))
    assert (clear.kind, clear.intent) == ("answer", "zone.area")
    weak = engine.respond(_reading(("zone.area", m.clarify_threshold - 1)))
    assert weak.kind == "fallback" and weak.intent is None and weak.unanswered


def test_a_question_about_another_city_is_declined_even_with_a_perfect_topic_match(engine):
    plain = engine.reply("人才公寓怎么申请")
    elsewhere = engine.reply("北京的人才公寓怎么申请")
    assert plain.kind == "answer"
    assert elsewhere.kind == "fallback" and elsewhere.intent is None


def test_a_place_the_topic_itself_mentions_is_not_declined(engine):
    reply = engine.reply("高新区排名仅次于北京中关村吗")
    assert reply.kind == "answer" and reply.intent == "zone.ranking"


def test_ten_thousand_characters_are_cut_before_matching(engine, kb):
    long = "人才公寓怎么申请" + "啊" * 10_000
    reply = engine.reply(long)
    assert reply.kind in ("answer", "clarify", "fallback")
    query = engine.matcher.prepare(engine.matcher.normalize(long[: kb.matching.max_input_chars]))
    assert len(query.text) <= kb.matching.max_input_chars


def test_every_topic_can_be_opened_directly_in_both_languages(engine, kb):
    for topic in kb.topics:
        for lang in ("zh", "en"):
            reply = engine.answer(kb.intents_of_topic(topic)[0], lang)
            assert reply is not None and reply.kind == "answer" and reply.lang == lang
    assert engine.answer("no.such_topic", "zh") is None


@pytest.mark.parametrize(("first", "topic", "follow_up", "about_bot"), [
    ("信用经济试验区是什么", "business.credit", "有啥用", "你有啥用"),
    ("基本公共服务清单包括哪些内容", "reform.public_service_list", "多久更新一次",
     "你的内容多久更新一次"),
])
def test_a_short_question_that_reads_like_one_about_the_bot_follows_the_topic(
        engine, first, topic, follow_up, about_bot):
    """Only words that speak to the bot ("你", "you") make it a question about the bot."""
    reply, state = engine.converse(first, Conversation(), now=0.0)
    assert reply.intent == topic
    assert engine.converse(follow_up, state, now=40.0)[0].intent == topic
    assert engine.converse(about_bot, state, now=40.0)[0].intent.startswith("meta.")


def test_a_traditional_chinese_reader_gets_traditional_chinese_for_a_message_without_words(
        engine):
    reply, state = engine.converse("人才公寓怎麼申請", Conversation(), now=0.0)
    assert reply.display == "zh-hant"
    assert engine.converse("👍👍", state, now=10.0)[0].display == "zh-hant"


@pytest.mark.parametrize(("first", "topic", "follow_up", "alone"), [
    # asking more about "it" stays on it, however well the other word is matched alone
    ("人才公寓怎么申请", "housing.talent_apartment", "do I need social insurance for it?",
     "life.social_security"),
    # a short question without 那 / "what about" that the topic explains a little
    ("人才公寓怎么申请", "housing.talent_apartment", "need to have 社保 first?",
     "life.social_security"),
    # a term taken up from the answer just given
    ("科技型中小企业有什么支持", "business.sme", "梯度培育是啥意思", "business.overview"),
    # the size of the place in context, not of the whole zone
    ("生物城是干啥的", "zone.biotown", "占地面积多大", "zone.area"),
])
def test_a_follow_up_naming_another_topic_word_stays_on_the_topic_in_context(
        engine, first, topic, follow_up, alone):
    assert engine.reply(follow_up).intent == alone
    reply, state = engine.converse(first, Conversation(), now=0.0)
    assert reply.intent == topic
    assert engine.converse(follow_up, state, now=30.0)[0].intent == topic


def test_a_decline_naming_another_topic_only_weakly_is_for_the_topic_in_context(engine):
    """"should i rent an office there or in the south zone" after Future Science City asks
    advice about it: the decline names it, not the city centre its words half match; one that
    names its own topic clearly ("那保租房租金多少") is declined for that one."""
    state = Conversation().with_topic("zone.future_city", "en", 0.0)
    advice = engine.converse("should i rent an office there or in the south zone", state,
                             now=30.0)[0]
    assert (advice.kind, advice.intent, advice.request) == ("fallback", "zone.future_city",
                                                            "advice")
    state = Conversation().with_topic("housing.talent_apartment", "zh", 0.0)
    price = engine.converse("那保租房租金多少", state, now=30.0)[0]
    assert (price.kind, price.intent) == ("fallback", "housing.affordable_rental")


def test_a_switch_naming_close_topics_of_its_own_is_settled_as_it_would_be_alone(engine):
    """"and the high-tech enterprise thing, how is it different" after tech SMEs points back
    ("it") but names its own topic, close to the business overview: not the SMEs again."""
    _, state = engine.converse("what support is there for tech SMEs", Conversation(), now=0.0)
    switch = engine.converse("and the high-tech enterprise thing, how is it different", state,
                             now=30.0)[0]
    assert (switch.kind, switch.intent) == ("answer", "business.hightech")


def test_a_short_question_matching_nothing_is_asked_about_the_topic_in_context(engine):
    """"合同签一次管几年" matches no example well, alone it is a fallback; after talent
    apartments it asks about them. A statement that matches nothing is not glued to it."""
    assert engine.reply("合同签一次管几年").kind == "fallback"
    _, state = engine.converse("人才公寓怎么申请", Conversation(), now=0.0)
    follow = engine.converse("合同签一次管几年", state, now=30.0)[0]
    assert (follow.kind, follow.intent) == ("answer", "housing.talent_apartment")
    assert engine.converse("我失恋了好难过", state, now=30.0)[0].kind == "fallback"


def test_a_framing_word_no_example_has_names_nothing_new_in_a_follow_up(engine):
    """"what's planned there" after Future Science City matches nothing well: its words
    "planned" and "there" are in no example, but they frame a question, they name nothing the
    knowledge base lacks (as "telescope" does), so it asks about the topic in context."""
    _, state = engine.converse("what is future science city", Conversation(), now=0.0)
    follow = engine.converse("what's planned there", state, now=30.0)[0]
    assert (follow.kind, follow.intent) == ("answer", "zone.future_city")
    assert engine.converse("where can I buy a telescope", state, now=30.0)[0].kind == "fallback"


@pytest.mark.parametrize("follow_up", ["for people over forty?", "retired engineers too?"])
def test_a_group_asked_about_with_for_or_too_is_asked_about_the_topic_in_context(
        engine, follow_up):
    """Starting with "for" or ending with "too", a short message asks whether the topic in
    context holds for that group as well; "too" elsewhere ("is the commute too long") does not
    point back."""
    _, state = engine.converse("what job services does the zone offer", Conversation(), now=0.0)
    follow = engine.converse(follow_up, state, now=30.0)[0]
    assert (follow.kind, follow.intent) == ("answer", "talent.jobs")
    switch = engine.converse("is the commute too long", state, now=30.0)[0]
    assert switch.intent == "city.transport"


def test_a_group_asked_about_with_dui_yu_stays_on_the_topic_in_context(engine):
    """"对于个体户呢" after business finance asks whether it holds for sole traders, not about
    setting up a business."""
    _, state = engine.converse("企业融资有什么支持", Conversation(), now=0.0)
    follow = engine.converse("对于个体户呢", state, now=30.0)[0]
    assert (follow.kind, follow.intent) == ("answer", "business.finance")


def test_a_follow_up_to_a_list_of_topics_is_read_with_the_first_of_them(engine):
    """Asked "which of these?", people often just ask on: with no topic in context before, the
    first (best) topic of the list is the one in context, so "外地人也可以吗" is about it; a
    topic already in context stays, the list offered aside."""
    first, state = engine.converse("any help with housing for people who just arrived?",
                                   Conversation(), now=0.0)
    assert first.kind == "clarify" and first.options[0].intent == "housing.affordable_rental"
    follow = engine.converse("外地人也可以吗", state, now=30.0)[0]
    assert (follow.kind, follow.intent) == ("answer", "housing.affordable_rental")
    _, talked = engine.converse("金熊猫人才计划是什么", Conversation(), now=0.0)
    _, listed = engine.converse("any help with housing for people who just arrived?", talked,
                                now=30.0)
    assert listed.topic(60.0, engine.context_seconds) == "talent.golden_panda"


@pytest.mark.parametrize(("follow_up", "topic"), [("中韩那个呢", "open.parks"),
                                                 ("孵化器那个呢", "business.incubation")])
def test_a_switch_ending_in_that_one_names_what_it_switches_to(engine, follow_up, topic):
    """"X那个呢" asks "and the X one?": a switch to what it names, not a request about a
    person or a firm, which is how the learnt reading took a message this short."""
    _, state = engine.converse("中德创新产业合作平台是干啥的", Conversation(), now=0.0)
    follow = engine.converse(follow_up, state, now=30.0)[0]
    assert (follow.kind, follow.intent) == ("answer", topic)


@pytest.mark.parametrize("follow_up", ["how large", "多大呢", "面积多大"])
def test_a_tiny_question_naming_nothing_is_asked_about_the_topic_in_context(engine, follow_up):
    """Alone, "how large" is the zone's area; after Future Science City it asks how large that
    is, though its examples never say "large". Naming the zone, it is the zone's area again."""
    assert engine.reply(follow_up).intent == "zone.area"
    _, state = engine.converse("what is future science city", Conversation(), now=0.0)
    follow = engine.converse(follow_up, state, now=30.0)[0]
    assert (follow.kind, follow.intent) == ("answer", "zone.future_city")
    assert engine.converse("how large is the zone", state, now=30.0)[0].intent == "zone.area"


@pytest.mark.parametrize("ack", ["got it", "ok got it", "好 了解", "好嘛 晓得了", "收到"])
def test_an_acknowledgement_after_an_answer_does_not_repeat_it(engine, ack):
    """"got it" says "it", but asks nothing more: it acknowledges the answer, as thanks do,
    and gets the short "anything else?", not the 400 characters just read; the topic stays
    in context for the next question, as after any small talk."""
    first, state = engine.converse("人才公寓怎么申请", Conversation(), now=0.0)
    reply, after = engine.converse(ack, state, now=1500.0)
    assert (reply.kind, reply.intent, reply.small_talk) == ("answer", "meta.thanks", True)
    assert reply.text != first.text and len(reply.text) < 120
    assert reply.text == engine.reply(ack, lang=reply.lang).text  # the ask back's words
    # kept alive: 25 minutes after the acknowledgement, 50 after the answer
    assert after.topic(3000.0, engine.context_seconds) == "housing.talent_apartment"


@pytest.mark.parametrize(("first", "ack", "intent", "lang"), [
    ("人才公寓怎么申请", "ok", "meta.thanks", "zh"),
    ("what is the golden panda program", "收到", "meta.thanks", "en"),
    ("人才公寓怎么申请", "thanks!", "meta.thanks", "zh"),
    ("what is the golden panda program", "再见", "meta.goodbye", "en")])
def test_small_talk_is_answered_in_the_language_of_the_conversation(
        engine, first, ack, intent, lang):
    """"ok" or "thanks!" typed in a Chinese conversation is no switch to English: the small
    talk is answered in Chinese (the next question is still read whatever its language)."""
    _, state = engine.converse(first, Conversation(), now=0.0)
    reply = engine.converse(ack, state, now=30.0)[0]
    assert (reply.intent, reply.lang) == (intent, lang)
    assert reply.text == engine.reply(ack, lang=lang).text


def test_an_acknowledgement_with_nothing_before_it_is_asked_back(engine):
    """"ok" as a first message acknowledges nothing: "anything else?", not a "you're
    welcome" nor a goodbye."""
    assert (engine.reply("ok").kind, engine.reply("好嘛").kind) == ("clarify", "clarify")


@pytest.mark.parametrize(("first", "follow_up"), [
    ("talent apartment", "where can I buy a telescope"),  # asks "where", about something else
    ("人才公寓怎么申请", "我失恋了好难过"),  # not a question, and nothing of the topic
])
def test_a_new_question_the_bot_cannot_answer_is_not_glued_to_the_topic(engine, first, follow_up):
    _, state = engine.converse(first, Conversation(), now=0.0)
    follow = engine.converse(follow_up, state, now=30.0)[0]
    assert (follow.kind, follow.intent) == ("fallback", None)


def test_a_follow_up_naming_only_a_group_stays_on_the_topic_in_context(engine):
    """"应届生" after affordable rental asks whether fresh graduates can get it: naming a group
    (an aspect) and nothing else, it is not taken over by the topic it matches weakly alone
    (jobs for graduates); a question naming more is a new one."""
    _, state = engine.converse("保租房怎么申请", Conversation(), now=0.0)
    follow = engine.converse("应届生", state, now=30.0)[0]
    assert (follow.kind, follow.intent) == ("answer", "housing.affordable_rental")
    new = engine.converse("应届生就业补贴有哪些", state, now=30.0)[0]
    assert (new.kind, new.intent) == ("answer", "talent.jobs")


def test_a_follow_up_asking_whether_a_group_can_apply_too_stays_on_the_topic_in_context(engine):
    """"外地打工的也可以申请吗" after free legal aid asks whether migrant workers can get legal
    aid, however well affordable rentals (外地, 申请) match it alone; "要准备啥" then asks for
    legal aid's documents."""
    _, state = engine.converse("老板拖了三个月工资 有没有免费的法律援助", Conversation(), now=0.0)
    follow, state = engine.converse("外地打工的也可以申请吗", state, now=30.0)
    assert (follow.kind, follow.intent, follow.request) == ("answer", "gov.legal", "eligibility")
    papers = engine.converse("要准备啥", state, now=60.0)[0]
    assert (papers.kind, papers.intent, papers.request) == ("answer", "gov.legal", "documents")


def test_asking_when_the_district_plans_something_asks_for_no_documents(engine):
    """"准备什么时候" is "plans to, when": no request for papers."""
    reading = engine.read("区里准备什么时候修地铁")
    assert [r.kind for r in reading.understood.requests] == ["when"]


@pytest.mark.parametrize(("first", "follow_up", "topic"), [
    ("保租房怎么申请", "要交社保不", "housing.affordable_rental"),
    ("孩子上小学怎么报名", "要不要社保证明", "education.enrollment"),
    ("how do I apply for a talent apartment", "do I need social insurance?",
     "housing.talent_apartment"),
    ("how do I apply for a talent apartment", "what if I'm not married",
     "housing.talent_apartment"),
    ("金熊猫人才计划是什么", "is there an age cap", "talent.golden_panda")])
def test_asking_whether_social_insurance_or_a_hukou_is_required_is_about_the_topic(
        engine, first, follow_up, topic):
    """"要交社保不" after a topic asks what that topic requires (its conditions), not about
    social insurance itself, however well that topic matches the words alone; "要不要" with a
    requirement asks whether it is needed, not for advice; so does one's marital status."""
    _, state = engine.converse(first, Conversation(), now=0.0)
    follow = engine.converse(follow_up, state, now=30.0)[0]
    assert (follow.kind, follow.intent) == ("answer", topic)


def test_asking_for_a_thing_of_its_own_after_a_topic_is_a_new_question(engine):
    """A residence permit is no requirement of talent apartments: "where can I get one" is a
    question about permits, not a follow-up on the apartments."""
    _, state = engine.converse("人才公寓怎么申请", Conversation(), now=0.0)
    follow = engine.converse("where can I get a residence permit", state, now=30.0)[0]
    assert (follow.kind, follow.intent) == ("answer", "talent.international")


def _contact_answer_after_talent_apartments(engine, message: str, request: str):
    """The reply to `message` after the talent apartments' answer, and the conversation after
    it, once it is held to be the contact answer for that topic: read as `request`, with the
    hotline and the topic's button."""
    _, state = engine.converse("人才公寓怎么申请", Conversation(), now=0.0)
    follow, after = engine.converse(message, state, now=30.0)
    assert (follow.kind, follow.intent, follow.request) == ("answer", "meta.contact", request)
    assert "12345" in follow.text
    assert [o.intent for o in follow.options] == ["housing.talent_apartment"]
    return follow, after


@pytest.mark.parametrize("message", ["给我个电话号码", "their email address?", "联系方式给一个",
                                     "电话多少"])
def test_contact_details_asked_alone_after_a_topic_get_the_contact_answer_for_that_topic(
        engine, message):
    """Alone, such a message gets the contact answer (the hotline); after a topic, the same
    answer opened by why no number is given, with that topic's links and button."""
    assert (engine.reply(message).kind, engine.reply(message).intent) == ("answer",
                                                                          "meta.contact")
    _contact_answer_after_talent_apartments(engine, message, "contacts")


def test_contact_details_of_someone_named_after_a_topic_are_declined_for_that_topic(engine):
    """Naming whose details they are ("that incubator's manager"), the message asks for what
    the plan never gives: the decline for the topic in context, with the hotline."""
    _, state = engine.converse("孵化器有什么扶持", Conversation(), now=0.0)
    for message in ["那个孵化器负责人的手机号码给我一下", "那家公司的负责人是谁 电话给我"]:
        follow = engine.converse(message, state, now=30.0)[0]
        assert (follow.kind, follow.intent) == ("fallback", "business.incubation"), message
        assert "12345" in follow.text


@pytest.mark.parametrize("message", [
    "那我该找哪个部门问", "who should I ask about this", "找哪里咨询",
    "能不能给个负责的部门", "how do I reach them", "is there someone I can call",
    "where do I go to talk to someone about this", "有没有能咨询的电话",
    "who handles this? an email address would be great", "这个该找哪里", "那去哪个窗口咨询",
    "where do I send a complaint about this", "有电话可以打过去问吗", "这个归哪个局管 我去问问",
    "我想找个工作人员问清楚", "能给个咨询的渠道吗", "去哪个大厅办", "who can I phone about this",
    "where can I get someone to explain it to me", "具体问谁嘛", "有没有负责这块的科室",
    "电话打不通 还有别的办法问吗", "who's responsible for this in the government",
    "can you connect me to the housing bureau", "去哪个窗口排队", "谁负责对接这块",
    "哪个部门管这个 电话多少", "which government department deals with this",
    "how do I reach the person in charge", "is there an office we can get in touch with",
    "who at the housing bureau can help with this", "what number should I call"])
def test_whom_to_contact_asked_after_a_topic_gets_the_contact_answer_for_that_topic(
        engine, message):
    """Alone, such a message gets the contact answer (the hotline); after a topic, the same
    answer opened by why no office or number is given, with that topic's links and button."""
    assert (engine.reply(message).kind, engine.reply(message).intent) == ("answer",
                                                                          "meta.contact")
    follow, after = _contact_answer_after_talent_apartments(engine, message, "whom")
    topic_links = engine.answer("housing.talent_apartment", follow.lang).links
    assert follow.links[:len(topic_links)] == topic_links
    assert after.topics[0] == "housing.talent_apartment"


@pytest.mark.parametrize("message", [
    "有没有办事大厅的地址", "官网是哪个",
    "any website where i can read the details", "你们有公众号没得",
    "is there a wechat account for this", "got a phone number for that office?", "有没有举报平台",
    "人社局在哪个位置", "民政的电话给一个", "tell me where the housing bureau is",
    "is there a government phone number?"])
def test_an_offices_whereabouts_website_or_account_asked_after_a_topic_gets_the_contact_answer(
        engine, message):
    """No address, site or account of an office is in the plan: the contact answer (the
    hotline and the official sites), opened by why, with the topic's links and button."""
    _contact_answer_after_talent_apartments(engine, message, "office_contact")


@pytest.mark.parametrize(("follow_up", "alone"), [
    ("who runs the zone", "zone.overview"),
    ("谁管高新区", None),
])
def test_a_short_question_about_the_zone_itself_is_not_kept_on_the_topic(
        engine, follow_up, alone):
    """It shares a word with talent apartments ("who", 谁), but asks about the zone: it gets
    what it gets on its own (an answer, or a list to choose from)."""
    _, state = engine.converse("人才公寓怎么申请", Conversation(), now=0.0)
    follow = engine.converse(follow_up, state, now=30.0)[0]
    assert follow.intent != "housing.talent_apartment"
    assert follow.intent == alone == engine.reply(follow_up).intent


@pytest.mark.parametrize(("first", "follow_up"), [
    ("talent apartment", "who do I call"),
    ("老旧小区改造有什么政策", "有没有电话可以打"),
])
def test_asking_whom_to_call_gets_the_contact_answer_whatever_is_in_context(
        engine, first, follow_up):
    _, state = engine.converse(first, Conversation(), now=0.0)
    assert engine.converse(follow_up, state, now=30.0)[0].intent == "meta.contact"


def test_a_question_with_close_topics_of_its_own_is_not_glued_by_an_aspect_alone(engine):
    """"foreign researchers" names an aspect, but nothing of the message is about the biotown:
    it gets its own list to choose from, not the biotown answer."""
    message = "any funding for foreign researchers relocating to the zone"
    alone = engine.reply(message)
    assert alone.kind == "clarify" and "zone.biotown" not in [o.intent for o in alone.options]
    _, state = engine.converse("天府国际生物城是什么", Conversation(), now=0.0)
    follow = engine.converse(message, state, now=30.0)[0]
    assert (follow.kind, [o.intent for o in follow.options]) == (
        "clarify", [o.intent for o in alone.options])


@pytest.mark.parametrize(("first", "next_message", "topic"), [
    ("人才公寓怎么申请", "那社保呢", "life.social_security"),  # a switch
    # ...after a decline too: "那X呢" names what it switches to, though "那租金呢" is a price
    ("人才公寓一个月租金多少", "那养老院呢", "life.elderly"),
    ("人才公寓一个月租金多少", "那医院呢", "life.healthcare"),
    ("人才公寓怎么申请", "is there a plan to fix up old compounds?", "housing.renovation"),
    ("科技型中小企业有什么支持", "alright. what about talent housing?",
     "housing.talent_apartment"),
    # an opener and words of its own switch, whatever "这些" points back at
    ("碳达峰碳中和有什么规划", "那新能源呢 像风电这些", "green.energy"),
    # "X那边呢" names X: 那边 points back at nothing there
    ("预算绩效管理改革是什么", "国资那边呢", "reform.soe"),
    # a switch that no topic matches well enough to answer alone, one far ahead of the rest
    ("人才公寓怎么申请", "那读书呢", "education.enrollment"),
    # a two-letter word that is a topic's keyword names that topic
    ("科技型中小企业有什么支持", "and what about IP", "business.ip"),
])
def test_a_switch_or_a_new_question_still_changes_the_topic(engine, first, next_message, topic):
    _, state = engine.converse(first, Conversation(), now=0.0)
    assert engine.converse(next_message, state, now=30.0)[0].intent == topic


def test_an_amount_another_answer_gives_is_not_given_for_the_topic_in_context(engine):
    """"how much space do they have in total" alone reads as the zone's figures, which the
    plan gives; asked after the talent apartments answer, it is about them, and the reply
    says the plan gives no such figure rather than the zone's 130 km²."""
    assert engine.reply("how much space do they have in total").intent == "zone.area"
    _, state = engine.converse("人才公寓怎么申请", Conversation(), now=0.0)
    follow = engine.converse("how much space do they have in total", state, now=30.0)[0]
    assert follow.intent == "housing.talent_apartment"
    assert "130" not in follow.text and ("no" in follow.text or follow.kind == "fallback")
    follow = engine.converse("how many square km is the zone", state, now=30.0)[0]
    assert (follow.kind, follow.intent) == ("answer", "zone.area")


@pytest.mark.parametrize(
    ("typed", "read_as", "not_read_as"),
    [
        ("talent apartmnet", "apartment", None),  # a typo is read as the word meant
        ("kindergarden places", "kindergarten", None),
        ("what be the weather", "weather", "water"),  # another word is not a typo
        ("turning lab research into products", "turning", "training"),
        ("is the air getting cleaner", "clean", None),  # an ending on a known word
    ],
)
def test_a_typo_is_read_as_the_word_meant_and_another_word_is_not(engine, typed, read_as,
                                                                   not_read_as):
    words = engine.matcher.content_words(typed).split()
    assert any(w.startswith(read_as) for w in words)
    assert not_read_as is None or not_read_as not in words


def test_asking_how_to_become_one_is_about_the_topic_in_context(engine):
    """"recognised as one" points back at what was just answered (tech SMEs), however well
    talent recognition matches "recognised" alone."""
    _, state = engine.converse("科技型中小企业有什么政策", Conversation(), now=0.0)
    follow = engine.converse("how do we get recognised as one", state, now=30.0)[0]
    assert (follow.kind, follow.intent) == ("answer", "business.sme")


@pytest.mark.parametrize(("first", "next_message", "topic"), [
    ("高新区培育哪些龙头企业", "初创的小公司有没有啥扶持政策", "business.sme"),
    ("科技成果转化怎么做", "商标和专利保护有啥服务", "business.ip")])
def test_asking_what_support_exists_for_a_thing_of_its_own_is_a_new_question(
        engine, first, next_message, topic):
    """"有没有…扶持政策" for something another topic matches fairly is a clear new question: the
    topic in context does not keep it, however short it is."""
    _, state = engine.converse(first, Conversation(), now=0.0)
    follow = engine.converse(next_message, state, now=30.0)[0]
    assert (follow.kind, follow.intent) == ("answer", topic)


@pytest.mark.parametrize("switch", ["ok 那国际社区那边配套怎么样",
                                    "ok and the international community there, what does it offer"])
def test_a_switch_opened_after_an_ok_names_what_it_switches_to(engine, switch):
    """"ok 那…" opens a switch as "那…" does: the international community is asked about, not
    the talent apartments in context that "那边"/"there" would otherwise point back to."""
    _, state = engine.converse("人才公寓怎么申请", Conversation(), now=0.0)
    follow = engine.converse(switch, state, now=30.0)[0]
    assert (follow.kind, follow.intent) == ("answer", "talent.international")


def test_a_close_call_that_leaves_out_the_topic_in_context_is_settled_as_alone(engine):
    """A new question the ranking cannot settle between topics, none of them the one in
    context, gets what it would get alone (here the learnt topic guess picks foreign
    investment), not a list that the context plays no part in."""
    _, state = engine.converse("人才公寓怎么申请", Conversation(), now=0.0)
    follow = engine.converse("i want to open a small shop here as a foreigner, any restrictions?",
                             state, now=30.0)[0]
    assert (follow.kind, follow.intent) == ("answer", "business.foreign_investment")


@pytest.mark.parametrize(("follow_up", "kind"), [
    ("and the japan one?", "answer"), ("那新加坡的呢", "answer"),
    ("and japan's tax policies?", "fallback")])
def test_a_place_the_topic_in_context_is_about_named_alone_asks_about_that_part(
        engine, follow_up, kind):
    """After the China-Korea park, "the japan one" is the China-Japan park of the same
    answer; Japan's own policies are another place's."""
    _, state = engine.converse("中韩创新创业园是什么", Conversation(), now=0.0)
    reply = engine.converse(follow_up, state, now=30.0)[0]
    assert (reply.kind, reply.intent if kind == "answer" else None) == (
        kind, "open.parks" if kind == "answer" else None)


@pytest.mark.parametrize("follow_up", ["我们这种情况肯定可以读吧", "他这个情况肯定能上吧"])
def test_asking_for_a_certainty_about_ones_own_case_is_declined_for_the_topic(engine, follow_up):
    """"surely we can get in?" after school places: no answer can promise it; the decline for
    school places, not their answer again."""
    _, state = engine.converse("孩子上小学学位够不够", Conversation(), now=0.0)
    reply = engine.converse(follow_up, state, now=30.0)[0]
    assert (reply.kind, reply.intent, reply.request) == ("fallback", "education.enrollment",
                                                         "prediction")

"""Telegram callbacks: thin — update → engine → render → deliver. Registered in application.py."""

from __future__ import annotations

import logging
import re
import time
from html import escape

from telegram import (
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    LinkPreviewOptions,
    Message,
    Update,
    User,
)
from telegram.constants import ChatType, ParseMode
from telegram.ext import ApplicationHandlerStop, ContextTypes

from ..engine import Conversation, Reply
from ..flood import Verdict
from ..knowledge.schema import Lang
from ..services import Services
from .callback_data import decode
from .delivery import deliver
from .render import (
    areas_keyboard,
    language_keyboard,
    reply_html,
    reply_keyboard,
    topics_keyboard,
)

log = logging.getLogger(__name__)
SERVICES = "services"
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


# -- helpers -----------------------------------------------------------------------------


def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    return context.application.bot_data[SERVICES]


def telegram_lang(user: User | None) -> Lang:
    code = (user.language_code or "") if user else ""
    return "zh" if code.lower().startswith("zh") else "en"


async def saved_lang(svc: Services, user: User | None) -> Lang | None:
    """The user's /lang choice, if they made one."""
    saved = await svc.storage.get_language(user.id) if user else None
    return saved if saved in ("zh", "en") else None


async def ui_lang(svc: Services, user: User | None) -> Lang:
    """The user's saved /lang choice, else the language of their Telegram app."""
    return await saved_lang(svc, user) or telegram_lang(user)


async def send(context: ContextTypes.DEFAULT_TYPE, chat_id: int, html: str,
               markup: InlineKeyboardMarkup | None = None) -> Message | None:
    return await deliver(
        lambda: context.bot.send_message(chat_id, html, parse_mode=ParseMode.HTML,
                                         reply_markup=markup, link_preview_options=NO_PREVIEW),
        "sendMessage",
    )


async def send_text(context: ContextTypes.DEFAULT_TYPE, chat_id: int, text: str,
                    markup: InlineKeyboardMarkup | None = None) -> Message | None:
    return await send(context, chat_id, escape(text, quote=False), markup)


async def say(update: Update, context: ContextTypes.DEFAULT_TYPE, key: str,
              markup: InlineKeyboardMarkup | None = None) -> None:
    """Send one interface message from messages.yaml, in the user's language."""
    svc = services(context)
    lang = await ui_lang(svc, update.effective_user)
    await send_text(context, update.effective_chat.id, svc.engine.message(key, lang), markup)


def replies_to_bot(message: Message, bot_id: int) -> bool:
    replied = message.reply_to_message
    return bool(replied and replied.from_user and replied.from_user.id == bot_id)


def question_for_bot(message: Message, bot_id: int, username: str) -> str | None:
    """The question if the message is addressed to the bot, else None (group chatter)."""
    text = message.text or ""
    if message.chat.type == ChatType.PRIVATE or replies_to_bot(message, bot_id):
        return text
    mention = re.compile(rf"@{re.escape(username)}\b", re.I) if username else None
    if mention and mention.search(text):
        return mention.sub(" ", text).strip()
    return None


async def send_reply(context: ContextTypes.DEFAULT_TYPE, chat_id: int, user_id: int,
                     reply: Reply, feedback_row: int | None = None,
                     extra: str | None = None) -> Message | None:
    """Send a reply; remember the topic of what was sent, for a reply that quotes it."""
    none_label = services(context).engine.message("none_of_these", reply.lang)
    sent = await send(context, chat_id, reply_html(reply, extra),
                      reply_keyboard(reply, feedback_row, none_label=none_label))
    if sent is not None and reply.intent:
        await services(context).storage.remember_sent(chat_id, sent.message_id, user_id,
                                                      reply.intent)
    return sent


async def conversation_of(svc: Services, message: Message, user_id: int,
                          bot_id: int) -> Conversation:
    """The conversation so far; quoting one of the bot's answers puts its topic in context."""
    state = Conversation.from_json(await svc.storage.conversation(message.chat_id, user_id))
    quoted = message.reply_to_message
    if quoted is not None and replies_to_bot(message, bot_id):
        topic = await svc.storage.sent_topic(message.chat_id, quoted.message_id)
        if topic in svc.engine.kb.answers:
            state = state.with_topic(topic, state.lang or "zh", time.time())
    return state


async def set_topic(svc: Services, chat_id: int, user_id: int, reply: Reply) -> None:
    """A menu, deep-link or button answer sets the conversation's topic too."""
    state = Conversation.from_json(await svc.storage.conversation(chat_id, user_id))
    await svc.storage.save_conversation(chat_id, user_id,
                                        state.after(reply, time.time()).to_json())


# -- guards ------------------------------------------------------------------------------


async def flood_guard(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stop a user who sends too much, after telling them once."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or update.inline_query is not None:
        return
    message = update.effective_message
    if message and chat and chat.type != ChatType.PRIVATE:
        is_command = bool(message.text and message.text.startswith("/"))
        if not is_command and question_for_bot(message, context.bot.id,
                                               context.bot.username or "") is None:
            return  # group chatter not addressed to us does not count
    svc = services(context)
    verdict = svc.flood.check(user.id)
    if verdict is Verdict.ALLOW:
        return
    if verdict is Verdict.NOTIFY and chat is not None:
        await send_text(context, chat.id, svc.engine.message("flood", await ui_lang(svc, user)))
    if update.callback_query:
        await deliver(update.callback_query.answer, "answerCallbackQuery")
    raise ApplicationHandlerStop


# -- commands ----------------------------------------------------------------------------


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Welcome the user, or open a topic directly from a deep link (?start=talent-golden_panda)."""
    svc, user, chat = services(context), update.effective_user, update.effective_chat
    lang = await ui_lang(svc, user)
    await svc.storage.touch_user(user.id, lang)
    await svc.storage.clear_conversation(chat.id, user.id)
    if context.args:
        reply = svc.engine.answer(context.args[0].replace("-", "."), lang)
        if reply is not None:
            await set_topic(svc, chat.id, user.id, reply)
            await send_reply(context, chat.id, user.id, reply)
            return
    await send_text(context, chat.id, svc.engine.message("welcome", lang),
                    areas_keyboard(svc.engine, lang))


async def menu(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show the areas as buttons."""
    svc = services(context)
    lang = await ui_lang(svc, update.effective_user)
    await svc.storage.clear_conversation(update.effective_chat.id, update.effective_user.id)
    await say(update, context, "menu_areas", areas_keyboard(svc.engine, lang))


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Explain what to ask and which commands exist."""
    await say(update, context, "help")


async def about(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Say what the bot is, where answers come from, and that they are not legal advice."""
    await say(update, context, "about")


async def lang_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Switch the reply language (/lang en), or offer the choice as buttons."""
    svc, user = services(context), update.effective_user
    choice = (context.args or [""])[0].lower()
    if choice in ("zh", "en"):
        await svc.storage.set_language(user.id, choice)
        await send_text(context, update.effective_chat.id, svc.engine.message("lang_set", choice))
        return
    await say(update, context, "lang_prompt", language_keyboard())


async def forget(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Delete everything stored about the user, and say so."""
    svc, user = services(context), update.effective_user
    lang = await ui_lang(svc, user)  # before forgetting: the saved choice goes too
    await svc.storage.forget(user.id)  # the conversation state goes with everything else
    await send_text(context, update.effective_chat.id, svc.engine.message("forget_done", lang))


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer a command we do not have (admin commands included, for non-admins)."""
    await say(update, context, "unknown_command")


# -- messages ----------------------------------------------------------------------------


async def question(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer a typed question (new or edited) with the engine's reply."""
    svc, user, message = services(context), update.effective_user, update.effective_message
    text = question_for_bot(message, context.bot.id, context.bot.username or "")
    if text is None or user is None:
        return
    state = await conversation_of(svc, message, user.id, context.bot.id)
    reply, state = svc.engine.converse(text, state, time.time(), await saved_lang(svc, user))
    await svc.storage.save_conversation(message.chat_id, user.id, state.to_json())
    row = await svc.storage.log_message(user.id, text=text, lang=reply.lang, kind=reply.kind,
                                        intent=reply.intent, score=reply.score)
    extra = None
    if reply.unanswered and await svc.storage.record_unanswered(user.id, row, text, reply.lang):
        extra = svc.engine.message("recorded", reply.lang)  # said only when it is true
    await send_reply(context, message.chat_id, user.id, reply, feedback_row=row, extra=extra)
    await svc.storage.touch_user(user.id, reply.lang)


async def not_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Ask for a typed question when someone sends a sticker, photo, voice note, ..."""
    message = update.effective_message
    if message.chat.type == ChatType.PRIVATE or replies_to_bot(message, context.bot.id):
        await say(update, context, "non_text")


# -- buttons and inline mode ---------------------------------------------------------------


async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Handle a button press; stale or forged data gets a harmless notice."""
    svc, query, user = services(context), update.callback_query, update.effective_user
    lang = await ui_lang(svc, user)
    pressed = decode(query.data)
    engine = svc.engine
    message = query.message if isinstance(query.message, Message) else None
    notice: str | None = None
    if pressed is None or message is None:
        notice = engine.message("button_expired", lang)
    elif pressed.action == "m":
        await deliver(lambda: message.edit_text(engine.message("menu_areas", lang),
                                                reply_markup=areas_keyboard(engine, lang)),
                      "editMessageText")
    elif pressed.action == "a" and engine.kb.topics_of_area(pressed.args[0]):
        area = getattr(engine.kb.areas[pressed.args[0]], lang)
        await deliver(lambda: message.edit_text(engine.message("menu_topics", lang, area=area),
                                                reply_markup=topics_keyboard(engine,
                                                                             pressed.args[0],
                                                                             lang)),
                      "editMessageText")
    elif pressed.action == "t" and pressed.args[0] in engine.kb.answers:
        reply = engine.answer(pressed.args[0], lang)
        row = await svc.storage.log_message(user.id, text=f"[{pressed.args[0]}]", lang=lang,
                                            kind="answer", intent=pressed.args[0], score=100.0)
        await set_topic(svc, message.chat_id, user.id, reply)
        await send_reply(context, message.chat_id, user.id, reply, feedback_row=row)
    elif pressed.action == "n":
        await send_text(context, message.chat_id, engine.message("fallback", lang),
                        areas_keyboard(engine, lang))
    elif pressed.action == "l" and pressed.args[0] in ("zh", "en"):
        await svc.storage.set_language(user.id, pressed.args[0])
        notice = engine.message("lang_set", pressed.args[0])
        await deliver(lambda: message.edit_text(notice), "editMessageText")
    elif pressed.action == "f" and pressed.args[0].isdigit() and pressed.args[1] in ("u", "d"):
        value = 1 if pressed.args[1] == "u" else -1
        stored = await svc.storage.add_feedback(user.id, int(pressed.args[0]), value)
        key = ("feedback_up" if value > 0 else "feedback_down") if stored else "button_expired"
        notice = engine.message(key, lang)
    else:
        notice = engine.message("button_expired", lang)
    await deliver(lambda: query.answer(notice), "answerCallbackQuery")


async def inline_query(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Offer up to five answer cards for `@bot question` in any chat."""
    svc, query = services(context), update.inline_query
    replies = svc.engine.suggest(query.query, await saved_lang(svc, query.from_user))
    results = [
        InlineQueryResultArticle(
            id=reply.intent,
            title=reply.title or reply.intent,
            description=reply.text.splitlines()[0][:100],
            input_message_content=InputTextMessageContent(
                reply_html(reply), parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW),
            reply_markup=reply_keyboard(reply, topics=False),
        )
        for reply in replies
    ]
    await deliver(lambda: query.answer(results, cache_time=60, is_personal=True),
                  "answerInlineQuery")


# -- errors ------------------------------------------------------------------------------


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log what went wrong and give the user a friendly line instead of silence."""
    log.error("while handling an update: %r", context.error, exc_info=context.error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    svc = context.application.bot_data.get(SERVICES)
    if svc is None:
        return
    lang = telegram_lang(update.effective_user)
    await send_text(context, update.effective_chat.id, svc.engine.message("error", lang))

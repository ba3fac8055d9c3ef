"""Button presses: one callback per kind of button (see buttons.py), and one for stale ones."""

from __future__ import annotations

from typing import TypeVar

from telegram import InlineKeyboardMarkup, Message, Update

from . import buttons as b
from . import dialogue
from .commands import choose_language
from .context import Context, user_of
from .delivery import deliver
from .guards import answer_button
from .render import areas_keyboard, menu_keyboard, topics_keyboard
from .send import send_reply, send_text

B = TypeVar("B", bound=b.Button)


def _pressed(update: Update, kind: type[B]) -> tuple[B, Message] | None:
    query = update.callback_query
    button = kind.unpack(query.data if query else None)
    message = query.message if query and isinstance(query.message, Message) else None
    return (button, message) if button is not None and message is not None else None


async def _expired(update: Update, context: Context) -> None:
    await answer_button(update, context.svc.engine.message("button_expired", context.lang))


async def _edit(message: Message, text: str, markup: InlineKeyboardMarkup | None) -> None:
    await deliver(lambda _: message.edit_text(text, reply_markup=markup), "editMessageText",
                  sends=False)


async def menu_pressed(update: Update, context: Context) -> None:
    """« Back: the menu message shows the areas again."""
    pressed = _pressed(update, b.Menu)
    if pressed is None:
        return await _expired(update, context)
    engine = context.svc.engine
    await _edit(pressed[1], engine.message("menu_areas", context.lang),
                areas_keyboard(engine.areas(context.lang)))
    await answer_button(update)


async def home_pressed(update: Update, context: Context) -> None:
    """☰ Main menu under an answer: a new menu message (the answer stays)."""
    pressed = _pressed(update, b.Home)
    if pressed is None:
        return await _expired(update, context)
    engine = context.svc.engine
    await dialogue.clear(context, pressed[1].chat_id, user_of(update).id)
    await send_text(context, pressed[1].chat_id, engine.message("menu_areas", context.lang),
                    areas_keyboard(engine.areas(context.lang)))
    await answer_button(update)


async def area_pressed(update: Update, context: Context) -> None:
    """An area: the menu message shows its topics."""
    pressed = _pressed(update, b.Area)
    engine = context.svc.engine
    if pressed is None or not engine.kb.topics_of_area(pressed[0].area):
        return await _expired(update, context)
    area = pressed[0].area
    await _edit(pressed[1], engine.message("menu_topics", context.lang,
                                           area=engine.area_title(area, context.lang)),
                topics_keyboard(engine.topics(area, context.lang),
                                engine.message("back", context.lang)))
    await answer_button(update)


async def topic_pressed(update: Update, context: Context) -> None:
    """A topic (from the menu, a clarify or a follow-up): its answer, which sets the topic."""
    pressed = _pressed(update, b.Topic)
    engine, user = context.svc.engine, user_of(update)
    reply = engine.answer(pressed[0].intent, context.lang) if pressed else None
    if pressed is None or reply is None:
        return await _expired(update, context)
    row = await dialogue.log_answer(context, update.update_id, user.id, reply,
                                    f"menu: {reply.title}")
    await dialogue.after_button(context, pressed[1].chat_id, user.id, reply)
    await send_reply(update, context, reply, feedback_row=row)
    await answer_button(update)


async def language_pressed(update: Update, context: Context) -> None:
    """A /lang choice."""
    pressed = _pressed(update, b.Language)
    if pressed is None or not context.svc.engine.displays.known(pressed[0].code):
        return await _expired(update, context)
    notice = await choose_language(update, context, pressed[0].code)
    await _edit(pressed[1], notice, None)
    await answer_button(update, notice)


async def vote_pressed(update: Update, context: Context) -> None:
    """👍 / 👎 on one of the user's own answers."""
    pressed = _pressed(update, b.Vote)
    if pressed is None:
        return await _expired(update, context)
    vote = pressed[0]
    stored = await context.svc.storage.add_feedback(user_of(update).id, vote.row,
                                                    1 if vote.up else -1)
    key = ("feedback_up" if vote.up else "feedback_down") if stored else "button_expired"
    await answer_button(update, context.svc.engine.message(key, context.lang))


async def none_pressed(update: Update, context: Context) -> None:
    """None of the offered topics: the hotline, and the menu."""
    pressed = _pressed(update, b.NoneOfThese)
    if pressed is None:
        return await _expired(update, context)
    engine = context.svc.engine
    await send_text(context, pressed[1].chat_id, engine.message("fallback", context.lang),
                    areas_keyboard(engine.areas(context.lang)))
    await answer_button(update)


async def forget_pressed(update: Update, context: Context) -> None:
    """/forget confirmed (delete, and say whether it worked) or called off."""
    pressed = _pressed(update, b.Forget)
    if pressed is None:
        return await _expired(update, context)
    engine, lang = context.svc.engine, context.lang
    if not pressed[0].confirm:
        await _edit(pressed[1], engine.message("forget_kept", lang), None)
        return await answer_button(update)
    deleted = await context.svc.storage.forget(user_of(update).id)
    key = "forget_done" if deleted else "forget_failed"
    await _edit(pressed[1], engine.message(key, lang),
                None if deleted else menu_keyboard(engine.message("main_menu", lang)))
    await answer_button(update)


async def stale_pressed(update: Update, context: Context) -> None:
    """Any other button data: from an older version of the bot, or forged."""
    await _expired(update, context)


CALLBACKS = {
    b.Menu: menu_pressed,
    b.Home: home_pressed,
    b.Area: area_pressed,
    b.Topic: topic_pressed,
    b.Language: language_pressed,
    b.Vote: vote_pressed,
    b.NoneOfThese: none_pressed,
    b.Forget: forget_pressed,
}

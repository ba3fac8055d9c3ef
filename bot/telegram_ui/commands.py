"""The user commands: /start, /menu, /help, /lang, /about, /forget (and unknown ones)."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ChatType

from .. import __version__
from . import dialogue
from .context import Context, chat_of, user_of
from .profile import set_chat_commands
from .render import areas_keyboard, forget_keyboard, language_keyboard
from .send import say, send_reply, send_text


def _private(update: Update) -> bool:
    return update.effective_chat is not None and update.effective_chat.type == ChatType.PRIVATE


async def start(update: Update, context: Context) -> None:
    """Welcome the user, or open a topic directly from a deep link (?start=talent-golden_panda)."""
    svc, user, chat = context.svc, user_of(update), chat_of(update)
    if not _private(update):
        await say(update, context, "group_start", username=context.bot.username or "")
        return
    await svc.storage.touch_user(user.id, context.lang)
    await dialogue.clear(context, chat.id, user.id)
    if context.args:
        reply = svc.engine.answer(context.args[0].replace("-", "."), context.lang)
        if reply is not None:
            row = await dialogue.log_answer(context, update.update_id, user.id, reply,
                                            f"link: {reply.title}")
            await dialogue.after_button(context, chat.id, user.id, reply)
            await send_reply(update, context, reply, feedback_row=row)
            return
    await say(update, context, "welcome", areas_keyboard(svc.engine.areas(context.lang)))


async def menu(update: Update, context: Context) -> None:
    """Show the areas as buttons (and begin afresh: no topic in context)."""
    await dialogue.clear(context, chat_of(update).id, user_of(update).id)
    await say(update, context, "menu_areas", areas_keyboard(context.svc.engine.areas(context.lang)))


async def help_command(update: Update, context: Context) -> None:
    """Explain what to ask and which commands exist (admins also see theirs)."""
    await say(update, context, "help")
    if user_of(update).id in context.svc.settings.admin_ids and _private(update):
        await say(update, context, "help_admin")


async def about(update: Update, context: Context) -> None:
    """Where answers come from, what is stored and for how long, and the version."""
    await say(update, context, "about", days=str(context.svc.settings.retention_days),
              version=__version__)


async def lang_command(update: Update, context: Context) -> None:
    """Switch the display language (/lang en, /lang zh-hant), or offer the choice as buttons."""
    svc = context.svc
    choice = (context.args or [""])[0].lower()
    if svc.engine.displays.known(choice):
        await send_text(context, chat_of(update).id,
                        await choose_language(update, context, choice))
        return
    await say(update, context, "lang_prompt", language_keyboard(svc.engine))


async def choose_language(update: Update, context: Context, code: str) -> str:
    """Save the choice, set the chat's command menu to it, and say so (in the new language)."""
    svc, user, chat = context.svc, user_of(update), chat_of(update)
    await svc.storage.set_language(user.id, code)
    if chat.type == ChatType.PRIVATE:
        await set_chat_commands(context.bot, svc, chat.id, code,
                                admin=user.id in svc.settings.admin_ids)
    return svc.engine.message("lang_set", code)


async def forget(update: Update, context: Context) -> None:
    """Ask to confirm before deleting everything stored about the user."""
    engine = context.svc.engine
    await say(update, context, "forget_confirm",
              forget_keyboard(engine.message("forget_yes", context.lang),
                              engine.message("forget_no", context.lang)))


async def unknown_command(update: Update, context: Context) -> None:
    """A command we do not have gets a hint in a private chat, and silence in a group (it may
    be another bot's)."""
    if _private(update):
        await say(update, context, "unknown_command")


COMMANDS = {
    "start": start,
    "menu": menu,
    "help": help_command,
    "lang": lang_command,
    "about": about,
    "forget": forget,
}

"""The bot's profile: descriptions and command menus, per language and per chat.

Telegram shows a menu by the app's language (two-letter codes only), so the global menus are
set per content language; /lang then sets a chat's own menu to the chosen display language, and
each admin's private chat gets a menu with the admin commands as well.
"""

from __future__ import annotations

import logging

from telegram import Bot, BotCommand, BotCommandScopeChat
from telegram.error import BadRequest, Forbidden

from ..knowledge.records import LANGS, Lang
from ..services import Services
from .delivery import deliver

log = logging.getLogger(__name__)
USER_COMMANDS = ("start", "menu", "help", "lang", "about", "forget")
ADMIN_COMMANDS = ("reload", "stats", "unanswered", "export", "stale")


def commands(svc: Services, lang: str, admin: bool = False) -> list[BotCommand]:
    names = USER_COMMANDS + (ADMIN_COMMANDS if admin else ())
    return [BotCommand(c, svc.engine.message(f"cmd_{c}", lang)) for c in names]


async def set_profile(bot: Bot, svc: Services) -> None:
    """Descriptions and command menus in every content language (English is the default)."""
    default = svc.engine.displays.others
    for lang in LANGS:
        await _set_profile_in(bot, svc, lang,
                              None if lang == svc.engine.displays.content(default) else lang)
    for admin_id in svc.settings.admin_ids:
        admin_lang = await svc.storage.get_language(admin_id) or default
        await set_chat_commands(bot, svc, admin_id, admin_lang, admin=True)


async def _set_profile_in(bot: Bot, svc: Services, lang: Lang, code: str | None) -> None:
    """The commands and descriptions of content language `lang`, for apps in language `code`
    (None: every other app language)."""
    await deliver(lambda _: bot.set_my_commands(commands(svc, lang), language_code=code),
                  "setMyCommands", sends=False)
    await deliver(lambda _: bot.set_my_description(
        svc.engine.message("bot_description", lang), language_code=code),
        "setMyDescription", sends=False)
    await deliver(lambda _: bot.set_my_short_description(
        svc.engine.message("bot_short_description", lang), language_code=code),
        "setMyShortDescription", sends=False)


async def set_chat_commands(bot: Bot, svc: Services, chat_id: int, lang: str,
                            admin: bool = False) -> None:
    """One chat's command menu, in its language (with the admin commands for an admin)."""
    if not svc.engine.displays.known(lang):
        lang = svc.engine.displays.others
    try:
        await bot.set_my_commands(commands(svc, lang, admin),
                                  scope=BotCommandScopeChat(chat_id))
    except (BadRequest, Forbidden) as exc:  # an admin who never opened a chat with the bot
        log.info("could not set the command menu of a chat: %s", exc)

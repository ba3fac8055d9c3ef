"""The bot's profile: descriptions and command menus, per language and per chat.

Telegram shows a menu by the app's language (two-letter codes only), so the global menus are
set per content language; /lang then sets a chat's own menu to the chosen display language, and
each admin's private chat gets a menu with the admin commands as well.
"""

from __future__ import annotations

import logging

from telegram import Bot, BotCommand, BotCommandScopeChat
from telegram.error import BadRequest, Forbidden

from ..knowledge.records import LANGS
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
        code = None if lang == svc.engine.displays.content(default) else lang
        await deliver(lambda _, c=code, ln=lang: bot.set_my_commands(
            commands(svc, ln), language_code=c), "setMyCommands", sends=False)
        await deliver(lambda _, c=code, ln=lang: bot.set_my_description(
            svc.engine.message("bot_description", ln), language_code=c),
            "setMyDescription", sends=False)
        await deliver(lambda _, c=code, ln=lang: bot.set_my_short_description(
            svc.engine.message("bot_short_description", ln), language_code=c),
            "setMyShortDescription", sends=False)
    for admin_id in svc.settings.admin_ids:
        lang = await svc.storage.get_language(admin_id) or default
        await set_chat_commands(bot, svc, admin_id, lang, admin=True)


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

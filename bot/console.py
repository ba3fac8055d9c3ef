"""A local chat on the same engine as Telegram, for trying the bot without a token.

Numbered options stand in for Telegram's buttons; the menu is the engine's menu model, rendered
here as Telegram renders it as buttons.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

from .engine import Conversation, Engine, MenuItem, Reply
from .knowledge.records import LANGS

Action = Callable[[], None]
QUIT = ("/quit", "/exit", "quit", "exit")


class ConsoleChat:
    def __init__(self, engine: Engine, lang: str | None = None,
                 out: TextIO = sys.stdout) -> None:
        self.engine = engine
        self.lang = lang  # an explicit --lang or /lang choice; else each reply's own language
        self.out = out
        self._options: list[Action] = []
        self._none: Action | None = None
        self.conversation = Conversation()

    @property
    def _ui_lang(self) -> str:
        return self.lang or self.conversation.lang or self.engine.displays.default

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def show(self, reply: Reply) -> None:
        self.say(render_plain(reply))
        self._options = [self._open(o.intent) for o in reply.options]
        self._none = None
        if reply.kind == "clarify" and reply.options:
            self.say(f"  0. {self.engine.message('none_of_these', reply.display)}")
            self._none = lambda: self.say(self.engine.message("fallback", reply.display))

    def _numbered(self, items: list[MenuItem], then: Callable[[str], Action]) -> None:
        for n, item in enumerate(items, 1):
            self.say(f"  {n}. {item.title}")
        self._options = [then(item.key) for item in items]

    def _open(self, intent: str) -> Action:
        def action() -> None:
            reply = self.engine.answer(intent, self._ui_lang)
            if reply is not None:
                self.conversation = self.conversation.after(reply, time.time())
                self.show(reply)
        return action

    def menu(self) -> None:
        self.say(self.engine.message("menu_areas", self._ui_lang))
        self._numbered(self.engine.areas(self._ui_lang), self._area)

    def _area(self, area: str) -> Action:
        def action() -> None:
            lang = self._ui_lang
            self.say(self.engine.message("menu_topics", lang,
                                         area=self.engine.area_title(area, lang)))
            self._numbered(self.engine.topics(area, lang), self._open)
        return action

    def handle(self, line: str) -> bool:
        """Handle one input line; False when the user wants to leave."""
        text = line.strip()
        if text in QUIT:
            return False
        if text == "/menu":
            self.conversation = Conversation()
            self.menu()
        elif text in ("/help", "/start"):
            self.say(self.engine.message("console_help", self._ui_lang))
        elif text.startswith("/lang"):
            self._choose(text[5:].strip().lower())
        elif text.isdigit():
            self._pick(int(text))
        elif text.startswith("/"):
            self.say(self.engine.message("console_help", self._ui_lang))
        else:
            reply, self.conversation = self.engine.converse(text, self.conversation, time.time(),
                                                            self.lang)
            self.show(reply)
        return True

    def _choose(self, code: str) -> None:
        displays = self.engine.displays
        if not displays.known(code):
            names = ", ".join(f"{c} ({displays.name(c)})" for c in displays.codes)
            self.say(f"/lang {names}")
            return
        self.lang = code
        self.say(self.engine.message("lang_set", code))

    def _pick(self, number: int) -> None:
        if number == 0 and self._none is not None:
            self._none()
        elif 1 <= number <= len(self._options):
            self._options[number - 1]()
        else:
            self.say(self.engine.message("console_no_option", self._ui_lang,
                                         count=str(len(self._options))))

    def loop(self, stdin: TextIO = sys.stdin) -> None:
        for lang in [self.lang] if self.lang else LANGS:  # without --lang: every language
            self.say(self.engine.message("console_intro", lang))
        while True:
            try:
                line = input("> ") if stdin is sys.stdin else stdin.readline()
            except (EOFError, KeyboardInterrupt):
                self.say("")  # leave the shell prompt on a line of its own
                break
            if stdin is not sys.stdin and not line:
                break
            if not self.handle(line):
                break


def render_plain(reply: Reply) -> str:
    """A reply as plain text: title, body, links, then numbered options."""
    lines = [reply.title] if reply.kind == "answer" and reply.title and not reply.small_talk else []
    lines.append(reply.text)
    for link in [] if reply.small_talk else reply.links:
        lines.append(f"🔗 {link.title}: {link.url}")
    for n, option in enumerate(reply.options, 1):
        lines.append(f"  {n}. {option.title}")
    return "\n".join(lines)

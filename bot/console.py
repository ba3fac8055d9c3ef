"""A local chat on the same engine as Telegram, for trying the bot without a token."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

from .engine import Conversation, Engine, Reply
from .knowledge.schema import Lang

Action = Callable[[], None]


class ConsoleChat:
    """Numbered options stand in for Telegram's buttons."""

    def __init__(self, engine: Engine, lang: Lang | None = None,
                 out: TextIO = sys.stdout) -> None:
        self.engine = engine
        self.lang = lang
        self.out = out
        self._options: list[Action] = []
        self._none: Action | None = None
        self.conversation = Conversation()

    @property
    def _ui_lang(self) -> Lang:
        return self.lang or "zh"

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def show(self, reply: Reply) -> None:
        self.say(render_plain(reply))
        self._options = [self._open(o.intent, reply.lang) for o in reply.options]
        self._none: Action | None = None
        if reply.kind == "clarify" and reply.options:
            self.say(f"  0. {self.engine.message('none_of_these', reply.lang)}")
            self._none = lambda: self.say(self.engine.message("fallback", reply.lang))

    def _open(self, intent: str, lang: Lang) -> Action:
        def action() -> None:
            reply = self.engine.answer(intent, self.lang or lang)
            if reply is not None:
                self.conversation = self.conversation.with_topic(intent, reply.lang, time.time())
                self.show(reply)
        return action

    def menu(self) -> None:
        kb, lang = self.engine.kb, self._ui_lang
        self.say(self.engine.message("menu_areas", lang))
        areas = kb.menu_areas()
        for n, area in enumerate(areas, 1):
            self.say(f"  {n}. {getattr(kb.areas[area], lang)}")
        self._options = [self._area(a) for a in areas]

    def _area(self, area: str) -> Action:
        def action() -> None:
            kb, lang = self.engine.kb, self._ui_lang
            name = getattr(kb.areas[area], lang)
            self.say(self.engine.message("menu_topics", lang, area=name))
            topics = kb.topics_of_area(area)
            for n, topic in enumerate(topics, 1):
                self.say(f"  {n}. {getattr(topic, lang)}")
            self._options = [self._open(kb.intents_of_topic(t.id)[0], lang) for t in topics]
        return action

    def handle(self, line: str) -> bool:
        """Handle one input line; False when the user wants to leave."""
        text = line.strip()
        if text in ("/quit", "/exit", "quit", "exit"):
            return False
        if text == "/menu":
            self.conversation = Conversation()
            self.menu()
        elif text == "/help":
            self.say(self.engine.message("help", self._ui_lang))
        elif text.startswith("/lang"):
            choice = text[5:].strip()
            other = "en" if self._ui_lang == "zh" else "zh"
            self.lang = choice if choice in ("zh", "en") else other
            self.say(self.engine.message("lang_set", self._ui_lang))
        elif text.isdigit() and 1 <= int(text) <= len(self._options):
            self._options[int(text) - 1]()
        elif text == "0" and self._none is not None:
            self._none()
        else:
            reply, self.conversation = self.engine.converse(text, self.conversation, time.time(),
                                                            self.lang)
            self.show(reply)
        return True

    def loop(self, stdin: TextIO = sys.stdin) -> None:
        self.say(self.engine.message("console_intro", self._ui_lang))
        while True:
            try:
                line = input("> ") if stdin is sys.stdin else stdin.readline()
            except (EOFError, KeyboardInterrupt):
                break
            if stdin is not sys.stdin and not line:
                break
            if not self.handle(line):
                break


def render_plain(reply: Reply) -> str:
    """A reply as plain text: body, links, then numbered options."""
    lines = [reply.text]
    for link in reply.links:
        lines.append(f"🔗 {link.title}: {link.url}")
    for n, option in enumerate(reply.options, 1):
        lines.append(f"  {n}. {option.title}")
    return "\n".join(lines)

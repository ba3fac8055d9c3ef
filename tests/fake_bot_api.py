"""A fake Telegram Bot API server for end-to-end tests (standard library only).

The real python-telegram-bot client talks real HTTP to it on 127.0.0.1, so nothing reaches the
internet::

    with FakeBotAPI() as fake:
        app = (Application.builder().token(TOKEN)
               .base_url(fake.base_url).base_file_url(fake.base_file_url).build())
        ...
        fake.push_command("/start")
        call = await fake.wait_for("sendMessage")

How PTB sends requests (checked in telegram/request/_requestdata.py, _requestparameter.py and
_httpxrequest.py, PTB 22.x): every method is a POST to ``{base_url}{token}/{method}``. Without
files the body is ``application/x-www-form-urlencoded``; string values are sent as they are and
every other value (ints, bools, lists, dicts such as ``reply_markup``) as its JSON text, so
``chat_id=42`` arrives as the text ``42`` and ``disable_notification`` as ``true``. With files
(sendDocument) the body is ``multipart/form-data`` with the same encoding for the plain fields.
:attr:`Call.params` undoes this: values of parameters that are strings in the Bot API (text,
caption, data, query, file ids ...) stay strings; every other value is decoded with
``json.loads`` when it is valid JSON (so ``chat_id`` is an int, ``reply_markup`` a dict) and
kept as a string otherwise (``chat_id="@channel"``). A JSON body (``application/json``) and query
string parameters are accepted too.

A :class:`Call` is recorded once the fake has decided its response (after any :meth:`delay`),
together with the state it changed, so ``sent_messages`` and friends are already up to date when
:meth:`FakeBotAPI.wait_for` returns it. getUpdates is the exception: it is recorded on arrival,
before the long poll waits. Faulted calls are recorded too (``call.fault`` says which fault).

The server never writes the token anywhere (request logging is switched off), but note that
httpx logs every request URL, token included, at INFO level on the ``httpx`` logger, and PTB
logs the API URL at DEBUG level.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import itertools
import json
import re
import select
import socket
import threading
import time
import zlib
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

TOKEN = "123456:TEST-token-never-logged"

BOT_USER: dict[str, Any] = {
    "id": 123456,
    "is_bot": True,
    "first_name": "CDHT Policy Bot",
    "username": "cdht_policy_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": True,
    "can_connect_to_business": False,
    "has_main_web_app": False,
}

DEFAULT_GROUP_CHAT_ID = -1001000000001

# PTB refuses to parse an incomplete object (and then the whole getUpdates batch fails), so
# non-text messages need complete objects, e.g. push_message(extra={"sticker": STICKER}).
STICKER: dict[str, Any] = {
    "file_id": "CAACAgIAAxkBAAFAKE", "file_unique_id": "AgADFAKE", "type": "regular",
    "width": 512, "height": 512, "is_animated": False, "is_video": False, "emoji": "👍",
}

# Bot API parameters whose values are strings: never JSON-decode them (a text "123" must stay
# a string). File parameters are here too: a file_id or URL is a string.
STRING_PARAMS = frozenset({
    "text", "caption", "parse_mode", "data", "query", "callback_query_id", "inline_query_id",
    "inline_message_id", "url", "secret_token", "ip_address", "language_code", "action",
    "next_offset", "switch_pm_text", "switch_pm_parameter", "title", "description", "name",
    "short_description", "file_id", "business_connection_id", "message_effect_id",
    "document", "photo", "audio", "video", "voice", "animation", "sticker", "video_note",
    "thumbnail", "certificate", "emoji", "question", "address", "phone_number", "first_name",
    "last_name", "vcard", "custom_title", "invite_link", "game_short_name", "payload",
    "currency", "provider_token", "start_parameter", "error_message", "shipping_query_id",
    "pre_checkout_query_id", "media", "sender_chat_id_str", "reaction_emoji",
})

# Canonical spelling of the methods the fake knows (Telegram method names are case-insensitive).
KNOWN_METHODS = (
    "getMe", "getUpdates", "deleteWebhook", "setWebhook", "getWebhookInfo", "sendMessage",
    "editMessageText", "editMessageReplyMarkup", "deleteMessage", "answerCallbackQuery",
    "answerInlineQuery", "setMyCommands", "deleteMyCommands", "getMyCommands", "sendDocument",
    "sendPhoto",
    "sendChatAction", "getFile", "close", "logOut", "setMyDescription", "setMyShortDescription",
    "setMyName", "setChatMenuButton",
)
_CANONICAL = {m.lower(): m for m in KNOWN_METHODS}

_UPDATE_TYPES = (
    "message", "edited_message", "channel_post", "edited_channel_post", "callback_query",
    "inline_query", "chosen_inline_result", "my_chat_member", "chat_member",
    "chat_join_request", "message_reaction", "poll", "poll_answer", "shipping_query",
    "pre_checkout_query",
)

_HTML_TAGS = frozenset({
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a",
    "tg-emoji", "code", "pre", "blockquote",
})
_TAG_RE = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)?([^<>]*)>")

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64


@dataclass
class Call:
    """One request the bot made.

    ``params`` holds the decoded parameters (see the module docstring), ``files`` the uploaded
    files (multipart field name -> bytes) and ``file_names`` their file names. ``status`` and
    ``result`` are what the fake answered (``result`` is the ``result`` field on success, the
    whole error object otherwise; status is None for a dropped call and, until the long poll
    ends, for getUpdates).
    ``fault`` is None, "fail", "delay", "slow_answer", "drop", "abandoned" (delayed, and the
    client hung up meanwhile) or "unauthorized".
    """

    method: str
    params: dict
    files: dict = field(default_factory=dict)
    at: float = 0.0
    file_names: dict = field(default_factory=dict)
    status: int | None = None
    result: Any = None
    fault: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200

    def short(self) -> str:
        shown = {k: (v[:60] + "…" if isinstance(v, str) and len(v) > 60 else v)
                 for k, v in self.params.items()}
        extra = f" fault={self.fault}" if self.fault else ""
        files = f" files={sorted(self.files)}" if self.files else ""
        return f"{self.method} status={self.status}{extra}{files} {shown}"


class ApiError(Exception):
    """Raised inside a method implementation: becomes {"ok": false, ...}."""

    def __init__(self, code: int, description: str, parameters: dict | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def body(self) -> dict:
        out: dict[str, Any] = {"ok": False, "error_code": self.code,
                               "description": self.description}
        if self.parameters:
            out["parameters"] = self.parameters
        return out


def _bad(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


@dataclass
class _Fault:
    kind: str  # "fail" | "delay" | "slow_answer" | "drop"
    status: int = 500
    description: str = ""
    retry_after: int | None = None
    seconds: float = 0.0
    parameters: dict | None = None


def _decode_value(name: str, value: str) -> Any:
    if name in STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _unescape_form_param(value: str) -> str:
    # httpx (HTML5 form encoding) writes '"' as %22, '\' as '\\' and control chars as %XX.
    value = re.sub(r"%([01][0-9A-Fa-f]|22)", lambda m: chr(int(m.group(1), 16)), value)
    return value.replace("\\\\", "\\")


def _parse_multipart(body: bytes, content_type: str) -> tuple[dict, dict, dict]:
    """(fields, files, file_names) of a multipart/form-data body."""
    header = Message()
    header["content-type"] = content_type
    boundary = header.get_param("boundary")
    if not boundary:
        raise _bad("multipart body without boundary")
    delimiter = b"--" + str(boundary).encode("latin-1")
    fields: dict[str, str] = {}
    files: dict[str, bytes] = {}
    file_names: dict[str, str] = {}
    for chunk in body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break
        chunk = chunk.removeprefix(b"\r\n").removesuffix(b"\r\n")
        head, sep, content = chunk.partition(b"\r\n\r\n")
        if not sep:
            continue
        name = filename = None
        for line in head.decode("utf-8", "replace").split("\r\n"):
            key, _, val = line.partition(":")
            if key.strip().lower() != "content-disposition":
                continue
            m = re.search(r'(?:^|;)\s*name="([^"]*)"', val)
            name = _unescape_form_param(m.group(1)) if m else None
            m = re.search(r'(?:^|;)\s*filename="([^"]*)"', val)
            filename = _unescape_form_param(m.group(1)) if m else None
        if name is None:
            continue
        if filename is not None:
            files[name] = content
            file_names[name] = filename
        else:
            fields[name] = content.decode("utf-8")
    return fields, files, file_names


def _visible_html(text: str) -> str:
    """Check Telegram-style HTML like the Bot API does and return the visible text."""
    stack: list[tuple[str, int]] = []
    pos = 0
    plain: list[str] = []
    while True:
        lt = text.find("<", pos)
        if lt < 0:
            plain.append(text[pos:])
            break
        plain.append(text[pos:lt])
        offset = len(text[:lt].encode())
        m = _TAG_RE.match(text, lt)
        if not m:
            raise _bad(f"can't parse entities: Unclosed start tag at byte offset {offset}")
        closing, tag = m.group(1), (m.group(2) or "").lower()
        if not closing:
            if tag not in _HTML_TAGS:
                raise _bad(f'can\'t parse entities: Unsupported start tag "{tag}" at byte '
                           f"offset {offset}")
            stack.append((tag, offset))
        else:
            if not stack:
                raise _bad(f"can't parse entities: Unexpected end tag at byte offset {offset}")
            open_tag, _ = stack.pop()
            if tag != open_tag:
                raise _bad(f"can't parse entities: Unmatched end tag at byte offset {offset}, "
                           f'expected "</{open_tag}>", found "</{tag}>"')
        pos = m.end()
    if stack:
        raise _bad(f"can't parse entities: Can't find end tag corresponding to start tag "
                   f'"{stack[-1][0]}"')
    return html.unescape("".join(plain))


def _visible_text(text: str, parse_mode: str | None) -> str:
    if parse_mode and parse_mode.lower() == "html":
        return _visible_html(text)
    return text  # Markdown/MarkdownV2 are not parsed (length is checked on the raw text)


def _check_markup(markup: Any) -> None:
    if markup is None:
        return
    if not isinstance(markup, dict):
        raise _bad("can't parse reply keyboard markup JSON object")
    rows = markup.get("inline_keyboard")
    if rows is None:
        return
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise _bad("field \"inline_keyboard\" of the InlineKeyboardMarkup must be an Array of "
                   "Arrays")
    for row in rows:
        for button in row:
            if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                raise _bad("can't parse inline keyboard button: Field \"text\" must be of "
                           "type String")
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA:
                raise _bad("BUTTON_DATA_INVALID")
            url = button.get("url")
            if url is not None and not re.match(r"(https?|tg)://\S+$", str(url)):
                raise _bad(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")
            kinds = [k for k in button if k != "text"]
            if not kinds:
                raise _bad("can't parse inline keyboard button: Text buttons are unallowed in "
                           "the inline keyboard")


class FakeBotAPI:
    """A Telegram Bot API server on 127.0.0.1 with scriptable updates and faults."""

    def __init__(self, token: str = TOKEN) -> None:
        self._token = token
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()
        self.base_url = ""
        self.base_file_url = ""
        self.port = 0

        self.calls: list[Call] = []
        self.sent_messages: list[dict] = []
        self.commands: dict[str | None, list] = {}
        self.webhook_url = ""
        self.descriptions: dict[str, dict[str | None, str]] = defaultdict(dict)

        self._updates: list[dict] = []
        self._next_update_id = 1
        self._poll_generation = 0
        self._last_message_id: dict[int, int] = defaultdict(int)
        self._messages: dict[tuple[int, int], dict] = {}   # current state, users' and bot's
        self._bot_message_keys: set[tuple[int, int]] = set()
        self._sources: dict[tuple[int, int], str] = {}  # text as sent (with markup)
        self._last_bot_message: dict[int, int] = {}
        self._last_user_message: dict[int, int] = {}
        self._chats: dict[int, dict] = {}
        self._query_ids = itertools.count(1)
        self._open_queries: set[str] = set()
        self._faults: dict[str, deque[_Fault]] = defaultdict(deque)
        self._files: dict[str, tuple[str, bytes]] = {}
        self._file_counter = itertools.count(1)

    def __repr__(self) -> str:  # never show the token
        return f"<FakeBotAPI {self.base_url or 'not started'} calls={len(self.calls)}>"

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        if self._server is not None:
            return
        fake = self

        class Handler(_Handler):
            api = fake

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        server.handle_error = lambda request, client_address: None  # type: ignore[method-assign]
        self._server = server
        self.port = server.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}/bot"
        self.base_file_url = f"http://127.0.0.1:{self.port}/file/bot"
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="FakeBotAPI", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop serving: pending long polls return [] at once, open connections are closed."""
        self._stopping.set()
        with self._cond:
            self._cond.notify_all()
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeBotAPI:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ feeding the bot

    def push_update(self, update: dict) -> dict:
        """Queue an update for getUpdates; assigns ``update_id`` if missing."""
        with self._cond:
            update = dict(update)
            if "update_id" not in update:
                update["update_id"] = self._next_update_id
            self._next_update_id = max(self._next_update_id, int(update["update_id"]) + 1)
            self._updates.append(update)
            self._cond.notify_all()
            return update

    def user(self, user_id: int = 1001, language_code: str | None = "en") -> dict:
        out: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": f"Tester{user_id}",
                               "username": f"tester{user_id}"}
        if language_code is not None:
            out["language_code"] = language_code
        return out

    def chat(self, chat_id: int, chat_type: str = "private", user_id: int | None = None) -> dict:
        with self._lock:
            if chat_id in self._chats:
                return dict(self._chats[chat_id])
            if chat_type == "private":
                uid = user_id if user_id is not None else chat_id
                chat = {"id": chat_id, "type": "private", "first_name": f"Tester{uid}",
                        "username": f"tester{uid}"}
            else:
                chat = {"id": chat_id, "type": chat_type, "title": f"Test {chat_type}"}
            self._chats[chat_id] = chat
            return dict(chat)

    def push_message(self, text: str | None = None, *, user_id: int = 1001,
                     chat_id: int | None = None, chat_type: str = "private",
                     language_code: str | None = "en", reply_to_bot: bool = False,
                     entities: list | None = None, edited: bool = False,
                     extra: dict | None = None) -> dict:
        """Push a user's message (``edited=True``: an ``edited_message`` of the user's last
        message in that chat); ``extra`` is merged into the message. Returns the update."""
        if chat_id is None:
            chat_id = user_id if chat_type == "private" else DEFAULT_GROUP_CHAT_ID
        now = int(time.time())
        with self._lock:
            chat = self.chat(chat_id, chat_type, user_id)
            if edited and chat_id in self._last_user_message:
                message_id = self._last_user_message[chat_id]
            else:
                message_id = self._new_message_id(chat_id)
            message: dict[str, Any] = {"message_id": message_id, "from": self.user(
                user_id, language_code), "chat": chat, "date": now}
            if text is not None:
                message["text"] = text
            if entities:
                message["entities"] = entities
            if edited:
                message["edit_date"] = now
            if reply_to_bot:
                message["reply_to_message"] = self._bot_message_to_reply(chat_id)
            if extra:
                message.update(extra)
            key = (chat_id, message["message_id"])
            self._messages[key] = message
            self._last_user_message[chat_id] = message["message_id"]
            return self.push_update({"edited_message" if edited else "message": message})

    def push_command(self, command: str, args: str = "", **kw: Any) -> dict:
        """Push ``/command args`` with its bot_command entity (offset 0)."""
        if not command.startswith("/"):
            command = "/" + command
        text = f"{command} {args}" if args else command
        entity = {"type": "bot_command", "offset": 0, "length": len(command.encode("utf-16-le"))
                  // 2}
        kw["entities"] = [entity, *(kw.get("entities") or [])]
        return self.push_message(text, **kw)

    def push_callback(self, data: str, *, user_id: int = 1001, message: dict | None = None,
                      chat_id: int | None = None, language_code: str | None = "en") -> dict:
        """Push a button press; ``message`` defaults to the current state of the last message
        the bot sent to the chat (``chat_id`` defaults to the user's private chat)."""
        with self._lock:
            if message is None:
                cid = user_id if chat_id is None else chat_id
                if cid not in self._last_bot_message:
                    raise ValueError(f"the bot has not sent any message to chat {cid} yet")
                message = self._messages[(cid, self._last_bot_message[cid])]
            query_id = str(next(self._query_ids))
            self._open_queries.add(query_id)
            query = {"id": query_id, "from": self.user(user_id, language_code),
                     "chat_instance": f"ci{message['chat']['id']}", "data": data,
                     "message": json.loads(json.dumps(message))}
            return self.push_update({"callback_query": query})

    def push_inline_query(self, query: str, *, user_id: int = 1001,
                          language_code: str | None = "en", offset: str = "") -> dict:
        with self._lock:
            query_id = str(next(self._query_ids))
            self._open_queries.add(query_id)
            return self.push_update({"inline_query": {
                "id": query_id, "from": self.user(user_id, language_code), "query": query,
                "offset": offset, "chat_type": "sender"}})

    @property
    def pending_updates(self) -> list[dict]:
        with self._lock:
            return list(self._updates)

    # ------------------------------------------------------------------ observing the bot

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method.lower() == method.lower()]

    def mark(self) -> int:
        with self._lock:
            return len(self.calls)

    def _find(self, method: str, predicate: Callable[[Call], bool], after: int,
              errors: list[BaseException]) -> Call | None:
        with self._lock:
            candidates = [c for c in self.calls[after:] if c.method.lower() == method.lower()]
        for call in candidates:
            try:
                if predicate(call):
                    return call
            except Exception as exc:  # a predicate that does not fit this call: no match
                errors[:] = [exc]
        return None

    def _timeout_error(self, method: str, timeout: float, after: int,
                       errors: list[BaseException]) -> AssertionError:
        with self._lock:
            recent = list(enumerate(self.calls))[-25:]
        lines = [f"  #{i}{'' if i >= after else ' (before after)'} {c.short()}"
                 for i, c in recent]
        note = f"\nlast predicate error: {errors[0]!r}" if errors else ""
        return AssertionError(
            f"no matching {method} call (index >= {after}) within {timeout}s; recent calls:\n"
            + ("\n".join(lines) or "  (none)") + note)

    async def wait_for(self, method: str, predicate: Callable[[Call], bool] = lambda call: True,
                       timeout: float = 10.0, after: int = 0) -> Call:
        """The first call of ``method`` with index >= ``after`` matching ``predicate``
        (a predicate raising counts as no match)."""
        polls = self._polls(method, predicate, timeout, after)
        while (call := next(polls)) is None:
            await asyncio.sleep(0.02)
        return call

    def _polls(self, method: str, predicate: Callable[[Call], bool], timeout: float,
               after: int) -> Iterator[Call | None]:
        """None until a matching call is recorded, then that call; raises on timeout."""
        deadline = time.monotonic() + timeout
        errors: list[BaseException] = []
        while True:
            call = self._find(method, predicate, after, errors)
            if call is not None:
                yield call
                return
            if time.monotonic() >= deadline:
                raise self._timeout_error(method, timeout, after, errors)
            yield None

    def wait_for_sync(self, method: str, predicate: Callable[[Call], bool] = lambda call: True,
                      timeout: float = 10.0, after: int = 0) -> Call:
        polls = self._polls(method, predicate, timeout, after)
        while (call := next(polls)) is None:
            time.sleep(0.02)
        return call

    def message(self, chat_id: int, message_id: int) -> dict | None:
        """Current state of a message (after edits), or None."""
        with self._lock:
            return self._messages.get((chat_id, message_id))

    def uploaded_file(self, file_id: str) -> bytes:
        with self._lock:
            return self._files[file_id][1]

    # ------------------------------------------------------------------ faults

    def fail(self, method: str, *, status: int = 500, retry_after: int | None = None,
             description: str = "Internal Server Error", times: int = 1,
             parameters: dict | None = None) -> None:
        """The next ``times`` calls of ``method`` get an error response (``parameters``: the
        error's ``parameters`` object, e.g. ``{"migrate_to_chat_id": -100…}``)."""
        if status == 429:
            retry_after = 1 if retry_after is None else retry_after
            if description == "Internal Server Error":
                description = f"Too Many Requests: retry after {retry_after}"
        elif description == "Internal Server Error" and status != 500:
            description = {
                400: "Bad Request: chat not found",
                401: "Unauthorized",
                403: "Forbidden: bot was blocked by the user",
                404: "Not Found",
                409: "Conflict: terminated by other getUpdates request; make sure that only one "
                     "bot instance is running",
                502: "Bad Gateway",
            }.get(status, description)
        self._add_fault(method, times, _Fault("fail", status=status, description=description,
                                              retry_after=retry_after,
                                              parameters=parameters))

    def migrate(self, method: str, new_chat_id: int, times: int = 1) -> None:
        """The next ``times`` calls of ``method`` are refused as Telegram refuses a message to
        a group that became a supergroup: 400 with ``parameters.migrate_to_chat_id``."""
        self.fail(method, status=400, times=times,
                  description="Bad Request: group chat was upgraded to a supergroup chat",
                  parameters={"migrate_to_chat_id": new_chat_id})

    def heal(self, method: str | None = None) -> None:
        """End an outage: drop the faults still queued (for ``method``, or for all)."""
        with self._lock:
            if method is None:
                self._faults.clear()
            else:
                self._faults.pop(method.lower(), None)

    def delay(self, method: str, seconds: float, times: int = 1) -> None:
        """The next ``times`` calls of ``method`` are answered (normally) after ``seconds``:
        Telegram is slow to take them on. A client that hangs up meanwhile had its call
        abandoned: nothing is delivered (recorded with status None, fault "abandoned")."""
        self._add_fault(method, times, _Fault("delay", seconds=seconds))

    def slow_answer(self, method: str, seconds: float, times: int = 1) -> None:
        """The next ``times`` calls of ``method`` are carried out at once (a message is
        delivered) but answered only after ``seconds``: a client that gives up waiting cannot
        know that it was delivered."""
        self._add_fault(method, times, _Fault("slow_answer", seconds=seconds))

    def drop(self, method: str, times: int = 1) -> None:
        """The next ``times`` calls of ``method`` get the connection closed without a reply."""
        self._add_fault(method, times, _Fault("drop"))

    def _add_fault(self, method: str, times: int, fault: _Fault) -> None:
        with self._lock:
            self._faults[method.lower()].extend(fault for _ in range(times))

    def _take_fault(self, method: str) -> _Fault | None:
        with self._lock:
            queue = self._faults.get(method.lower())
            return queue.popleft() if queue else None

    # ------------------------------------------------------------------ request handling

    def _handle(self, token: str, method_name: str, params: dict, files: dict,
                file_names: dict, client_gone: Callable[[], bool] = lambda: False,
                ) -> tuple[int, dict] | None:
        """Serve one API request: (status, body), or None to drop the connection."""
        method = _CANONICAL.get(method_name.lower(), method_name)
        arrived = time.time()

        def record(status: int | None, result: Any, fault: str | None = None) -> Call:
            call = Call(method, params, files, arrived, file_names, status, result, fault)
            with self._lock:
                self.calls.append(call)
            return call

        if token != self._token:
            body = ApiError(401, "Unauthorized").body()
            record(401, body, "unauthorized")
            return 401, body

        fault = self._take_fault(method)
        if fault is not None and fault.kind == "drop":
            record(None, None, "drop")
            return None
        if fault is not None and fault.kind == "fail":
            parameters = dict(fault.parameters or {})
            if fault.retry_after:
                parameters["retry_after"] = fault.retry_after
            body = ApiError(fault.status, fault.description, parameters).body()
            record(fault.status, body, "fail")
            return fault.status, body
        if fault is not None and fault.kind == "delay":
            self._stopping.wait(fault.seconds)
            if client_gone():
                record(None, None, "abandoned")
                return None

        fault_name = fault.kind if fault is not None else None
        if method == "getUpdates":
            call = record(None, None, fault_name)  # status set when the poll ends
            status, body = self._answer(self._get_updates, params)
            call.status, call.result = status, body.get("result", body)
            return status, body

        impl = getattr(self, f"_m_{method}", None)
        if impl is None:
            body = ApiError(404, "Not Found").body()
            record(404, body, fault_name)
            return 404, body
        with self._lock:  # state change and record are atomic for observers
            status, body = self._answer(lambda p: impl(p, files, file_names), params)
            record(status, body.get("result", body) if status == 200 else body, fault_name)
        if fault is not None and fault.kind == "slow_answer":
            self._stopping.wait(fault.seconds)
        return status, body

    @staticmethod
    def _answer(impl: Callable[[dict], Any], params: dict) -> tuple[int, dict]:
        try:
            return 200, {"ok": True, "result": impl(params)}
        except ApiError as err:
            return err.code, err.body()

    def _file_response(self, token: str, path: str) -> tuple[int, bytes, str]:
        if token != self._token:
            return 401, json.dumps(ApiError(401, "Unauthorized").body()).encode(), \
                "application/json"
        with self._lock:
            for file_path, content in self._files.values():
                if file_path == path:
                    return 200, content, "application/octet-stream"
        return 404, json.dumps(ApiError(404, "Not Found").body()).encode(), "application/json"

    # ------------------------------------------------------------------ helpers

    def _new_message_id(self, chat_id: int) -> int:
        with self._lock:
            self._last_message_id[chat_id] += 1
            return self._last_message_id[chat_id]

    def _bot_message_to_reply(self, chat_id: int) -> dict:
        if chat_id in self._last_bot_message:
            return self._messages[(chat_id, self._last_bot_message[chat_id])]
        return self._store_bot_message(chat_id, {"text": "(earlier bot message)"})

    def _store_bot_message(self, chat_id: int, content: dict) -> dict:
        message = {"message_id": self._new_message_id(chat_id), "from": dict(BOT_USER),
                   "chat": self.chat(chat_id), "date": int(time.time()), **content}
        key = (chat_id, message["message_id"])
        self._messages[key] = message
        self._bot_message_keys.add(key)
        self._last_bot_message[chat_id] = message["message_id"]
        return message

    @staticmethod
    def _chat_id(params: dict) -> int:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise _bad("chat_id is empty")
        if isinstance(chat_id, str):
            if chat_id.startswith("@"):
                return -1000000000000 - zlib.crc32(chat_id.lower().encode())
            raise _bad("chat not found")
        return int(chat_id)

    @staticmethod
    def _reply_extras(params: dict, chat_id: int, messages: dict) -> dict:
        out: dict[str, Any] = {}
        markup = params.get("reply_markup")
        _check_markup(markup)
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            out["reply_markup"] = {"inline_keyboard": markup["inline_keyboard"]}
        reply_id = params.get("reply_to_message_id")
        reply_parameters = params.get("reply_parameters")
        if isinstance(reply_parameters, dict):
            reply_id = reply_parameters.get("message_id", reply_id)
        if reply_id is not None:
            replied = messages.get((chat_id, int(reply_id)))
            if replied is None and not (isinstance(reply_parameters, dict)
                                        and reply_parameters.get("allow_sending_without_reply")):
                raise _bad("message to be replied not found")
            if replied is not None:
                out["reply_to_message"] = {k: v for k, v in replied.items()
                                           if k != "reply_to_message"}
        return out

    def _editable(self, params: dict) -> tuple[tuple[int, int], dict] | None:
        """The bot message an edit targets; None for inline messages."""
        if params.get("inline_message_id"):
            return None
        chat_id = self._chat_id(params)
        message_id = params.get("message_id")
        if message_id is None:
            raise _bad("message identifier is not specified")
        key = (chat_id, int(message_id))
        if key not in self._messages:
            raise _bad("message to edit not found")
        if key not in self._bot_message_keys:
            raise _bad("message can't be edited")
        return key, self._messages[key]

    # ------------------------------------------------------------------ methods

    def _get_updates(self, params: dict) -> list[dict]:
        offset = params.get("offset")
        limit = int(params.get("limit") or 100)
        limit = max(1, min(limit, 100))
        timeout = float(params.get("timeout") or 0)
        allowed = params.get("allowed_updates") or None
        deadline = time.monotonic() + timeout
        with self._cond:
            if self.webhook_url:
                raise ApiError(409, "Conflict: can't use getUpdates method while webhook is "
                                    "active; use deleteWebhook to delete the webhook first")
            self._poll_generation += 1
            generation = self._poll_generation
            self._cond.notify_all()  # a running long poll of another client ends with 409
            if offset is not None:
                offset = int(offset)
                if offset < 0:
                    self._updates = self._updates[offset:]
                else:
                    self._updates = [u for u in self._updates if u["update_id"] >= offset]
            while True:
                if generation != self._poll_generation:
                    raise ApiError(409, "Conflict: terminated by other getUpdates request; "
                                        "make sure that only one bot instance is running")
                selected = [u for u in self._updates
                            if allowed is None or any(t in u for t in allowed)
                            or not any(t in u for t in _UPDATE_TYPES)][:limit]
                remaining = deadline - time.monotonic()
                if selected or remaining <= 0 or self._stopping.is_set():
                    return json.loads(json.dumps(selected))
                self._cond.wait(remaining)

    def _m_getMe(self, params: dict, files: dict, names: dict) -> dict:
        return dict(BOT_USER)

    def _m_deleteWebhook(self, params: dict, files: dict, names: dict) -> bool:
        self.webhook_url = ""
        if params.get("drop_pending_updates") is True:
            self._updates.clear()
        return True

    def _m_setWebhook(self, params: dict, files: dict, names: dict) -> bool:
        url = params.get("url") or ""
        if url and not url.startswith("https://"):
            raise _bad("bad webhook: An HTTPS URL must be provided for webhook")
        self.webhook_url = url
        if params.get("drop_pending_updates") is True:
            self._updates.clear()
        return True

    def _m_getWebhookInfo(self, params: dict, files: dict, names: dict) -> dict:
        return {"url": self.webhook_url, "has_custom_certificate": False,
                "pending_update_count": len(self._updates)}

    @staticmethod
    def _checked_text(params: dict, too_long: str) -> tuple[str, str]:
        """(source text, visible text) of a text parameter, refused as Telegram refuses it."""
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise _bad("message text is empty")
        visible = _visible_text(text, params.get("parse_mode"))
        if not visible.strip():
            raise _bad("message text is empty")
        if len(visible) > MAX_TEXT:
            raise _bad(too_long)
        return text, visible

    def _m_sendMessage(self, params: dict, files: dict, names: dict) -> dict:
        chat_id = self._chat_id(params)
        text, visible = self._checked_text(params, "message is too long")
        extras = self._reply_extras(params, chat_id, self._messages)
        message = self._store_bot_message(chat_id, {"text": visible, **extras})
        self._sources[(chat_id, message["message_id"])] = text
        self.sent_messages.append(message)
        return message

    def _edit(self, params: dict) -> tuple[tuple[int, int], dict, dict | None] | None:
        """(key, current message, new inline keyboard or None) of an edit; None when the
        edit targets an inline message, which the fake does not keep."""
        markup = params.get("reply_markup")
        _check_markup(markup)
        target = self._editable(params)
        if target is None:
            return None
        new_markup = markup if isinstance(markup, dict) and "inline_keyboard" in markup else None
        return (*target, new_markup)

    def _m_editMessageText(self, params: dict, files: dict, names: dict) -> dict | bool:
        text, visible = self._checked_text(params, "MESSAGE_TOO_LONG")
        edit = self._edit(params)
        if edit is None:
            return True
        key, old, new_markup = edit
        if "text" not in old:
            raise _bad("there is no text in the message to edit")
        source = self._sources.get(key, old.get("text"))
        if source == text and old.get("reply_markup") == new_markup:
            raise _bad("message is not modified: specified new message content and reply "
                       "markup are exactly the same as a current content and reply markup of "
                       "the message")
        message = {k: v for k, v in old.items() if k not in ("reply_markup", "caption")}
        message.update(text=visible, edit_date=int(time.time()))
        self._sources[key] = text
        if new_markup is not None:
            message["reply_markup"] = new_markup
        self._messages[key] = message
        self.sent_messages.append(message)
        return message

    def _m_editMessageReplyMarkup(self, params: dict, files: dict, names: dict) -> dict | bool:
        edit = self._edit(params)
        if edit is None:
            return True
        key, old, new_markup = edit
        if (new_markup or None) == (old.get("reply_markup") or None):
            raise _bad("message is not modified: specified new message content and reply "
                       "markup are exactly the same as a current content and reply markup of "
                       "the message")
        message = {k: v for k, v in old.items() if k != "reply_markup"}
        message["edit_date"] = int(time.time())
        if new_markup is not None and new_markup.get("inline_keyboard"):
            message["reply_markup"] = new_markup
        self._messages[key] = message
        self.sent_messages.append(message)
        return message

    def _m_deleteMessage(self, params: dict, files: dict, names: dict) -> bool:
        key = (self._chat_id(params), int(params.get("message_id") or 0))
        if key not in self._messages:
            raise _bad("message to delete not found")
        del self._messages[key]
        self._bot_message_keys.discard(key)
        return True

    def _open_query(self, params: dict, key: str) -> str:
        """The id of a callback or inline query still waiting for its answer."""
        query_id = str(params.get(key) or "")
        if query_id not in self._open_queries:
            raise _bad("query is too old and response timeout expired or query ID is invalid")
        return query_id

    def _m_answerCallbackQuery(self, params: dict, files: dict, names: dict) -> bool:
        query_id = self._open_query(params, "callback_query_id")
        if len(str(params.get("text") or "")) > 200:
            raise _bad("MESSAGE_TOO_LONG")
        self._open_queries.discard(query_id)
        return True

    def _m_answerInlineQuery(self, params: dict, files: dict, names: dict) -> bool:
        query_id = self._open_query(params, "inline_query_id")
        results = params.get("results")
        if not isinstance(results, list):
            raise _bad("can't parse inline query results JSON object")
        if len(results) > 50:
            raise _bad("RESULTS_TOO_MUCH")
        ids = [r.get("id") for r in results if isinstance(r, dict)]
        if len(ids) != len(results) or len(set(ids)) != len(ids):
            raise _bad("RESULT_ID_DUPLICATE")
        for result in results:
            _check_markup(result.get("reply_markup"))
        self._open_queries.discard(query_id)
        return True

    def _m_setMyCommands(self, params: dict, files: dict, names: dict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _bad("can't parse commands JSON object")
        for cmd in commands:
            name = str(cmd.get("command", "")) if isinstance(cmd, dict) else ""
            if not re.fullmatch(r"[a-z0-9_]{1,32}", name):
                raise _bad("BOT_COMMAND_INVALID")
            if not 1 <= len(str(cmd.get("description", ""))) <= 256:
                raise _bad("command description must be non-empty and at most 256 "
                           "characters")
        self.commands[self._commands_key(params)] = commands
        return True

    @staticmethod
    def _commands_key(params: dict) -> str | None:
        """Menus by scope: a chat's own ("chat:42"), else by language code (None: default)."""
        scope = params.get("scope")
        if isinstance(scope, dict) and scope.get("type") == "chat":
            return f"chat:{scope.get('chat_id')}"
        return params.get("language_code") or None

    def _m_deleteMyCommands(self, params: dict, files: dict, names: dict) -> bool:
        self.commands.pop(self._commands_key(params), None)
        return True

    def _m_getMyCommands(self, params: dict, files: dict, names: dict) -> list:
        return list(self.commands.get(self._commands_key(params), []))

    def _m_sendDocument(self, params: dict, files: dict, names: dict) -> dict:
        return self._send_file(params, files, names, "document")

    def _m_sendPhoto(self, params: dict, files: dict, names: dict) -> dict:
        return self._send_file(params, files, names, "photo")

    def _send_file(self, params: dict, files: dict, names: dict, field: str) -> dict:
        chat_id = self._chat_id(params)
        caption = params.get("caption")
        if caption is not None:
            caption = _visible_text(caption, params.get("parse_mode"))
            if len(caption) > MAX_CAPTION:
                raise _bad("message caption is too long")
        value = params.get(field)
        if field in files:
            content, file_name = files[field], names.get(field) or field
        elif isinstance(value, str) and value.startswith("attach://") and value[9:] in files:
            content, file_name = files[value[9:]], names.get(value[9:]) or field
        elif isinstance(value, str) and value in self._files:
            path, content = self._files[value]
            file_name = path.rsplit("/", 1)[-1]
        elif isinstance(value, str) and value:
            raise _bad("wrong file identifier/HTTP URL specified")
        else:
            raise _bad(f"there is no {field} in the request")
        if not content:
            raise _bad("file must be non-empty")
        if field == "photo" and not content.startswith(b"\x89PNG") and not content.startswith(
                b"\xff\xd8"):
            raise _bad("IMAGE_PROCESS_FAILED")
        number = next(self._file_counter)
        file_id = f"{field[:3].upper()}{number:06d}"
        self._files[file_id] = (f"{field}s/file_{number}_{file_name}", content)
        described = {"file_id": file_id, "file_unique_id": f"U{file_id}", "file_size": len(content)}
        if field == "document":
            described["file_name"] = file_name
        else:
            described = [{**described, "width": 720, "height": 420}]  # type: ignore[assignment]
        extras = self._reply_extras(params, chat_id, self._messages)
        content_fields: dict[str, Any] = {field: described, **extras}
        if caption is not None:
            content_fields["caption"] = caption
        message = self._store_bot_message(chat_id, content_fields)
        self.sent_messages.append(message)
        return message

    def _m_getFile(self, params: dict, files: dict, names: dict) -> dict:
        file_id = str(params.get("file_id") or "")
        if file_id not in self._files:
            raise _bad("invalid file_id")
        path, content = self._files[file_id]
        return {"file_id": file_id, "file_unique_id": f"U{file_id}", "file_size": len(content),
                "file_path": path}

    def _m_sendChatAction(self, params: dict, files: dict, names: dict) -> bool:
        self._chat_id(params)
        if not params.get("action"):
            raise _bad("wrong parameter action in request")
        return True

    def _m_close(self, params: dict, files: dict, names: dict) -> bool:
        return True

    def _m_logOut(self, params: dict, files: dict, names: dict) -> bool:
        return True

    def _m_setMyDescription(self, params: dict, files: dict, names: dict) -> bool:
        self.descriptions["description"][params.get("language_code") or None] = \
            params.get("description") or ""
        return True

    def _m_setMyShortDescription(self, params: dict, files: dict, names: dict) -> bool:
        self.descriptions["short_description"][params.get("language_code") or None] = \
            params.get("short_description") or ""
        return True

    def _m_setMyName(self, params: dict, files: dict, names: dict) -> bool:
        self.descriptions["name"][params.get("language_code") or None] = params.get("name") or ""
        return True

    def _m_setChatMenuButton(self, params: dict, files: dict, names: dict) -> bool:
        return True


class _Handler(BaseHTTPRequestHandler):
    api: FakeBotAPI
    protocol_version = "HTTP/1.1"
    server_version = "FakeBotAPI/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        """Never log requests: the path contains the token."""

    def setup(self) -> None:
        super().setup()
        # headers and body go out as two writes: without this each answer waits ~40 ms for
        # the client's delayed ACK (Telegram's servers do not make the bot wait like that)
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.api._lock:
            self.api._connections.add(self.connection)

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            super().finish()
        with self.api._lock:
            self.api._connections.discard(self.connection)

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _send(self, status: int, payload: bytes, content_type: str = "application/json") -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except OSError:  # the client went away (e.g. a cancelled long poll)
            self.close_connection = True

    def _serve(self) -> None:
        split = urlsplit(self.path)
        path = unquote(split.path)
        body = self._body()

        file_match = re.fullmatch(r"/file/bot([^/]*)/(.+)", path)
        if file_match:
            status, payload, ctype = self.api._file_response(*file_match.groups())
            self._send(status, payload, ctype)
            return
        match = re.fullmatch(r"/bot([^/]*)/([A-Za-z]+)", path)
        if not match:
            self._send(404, json.dumps(ApiError(404, "Not Found").body()).encode())
            return
        try:
            params, files, names = self._params(split.query, body)
        except ApiError as err:
            self._send(err.code, json.dumps(err.body()).encode())
            return
        answer = self.api._handle(match.group(1), match.group(2), params, files, names,
                                  self._client_gone)
        if answer is None:  # drop: close without sending anything
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        status, reply = answer
        try:
            payload = json.dumps(reply, ensure_ascii=False).encode()
        except UnicodeEncodeError:  # a lone surrogate ("\ud800") only travels as a JSON escape
            payload = json.dumps(reply).encode()
        self._send(status, payload)

    def _client_gone(self) -> bool:
        """Whether the client closed its end (readable, with nothing to read)."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return bool(readable) and self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def _body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _params(self, query: str, body: bytes) -> tuple[dict, dict, dict]:
        raw: dict[str, str] = dict(parse_qsl(query, keep_blank_values=True))
        params: dict[str, Any] = {}
        files: dict[str, bytes] = {}
        names: dict[str, str] = {}
        content_type = self.headers.get("Content-Type") or ""
        kind = content_type.split(";")[0].strip().lower()
        if kind == "application/json" and body:
            try:
                decoded = json.loads(body)
            except ValueError as exc:
                raise _bad("can't parse JSON request body") from exc
            if not isinstance(decoded, dict):
                raise _bad("request body must be a JSON object")
            params.update(decoded)
        elif kind == "multipart/form-data":
            fields, files, names = _parse_multipart(body, content_type)
            raw.update(fields)
        elif body:
            raw.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        for name, value in raw.items():
            params.setdefault(name, _decode_value(name, value))
        return params, files, names

"""An in-process fake of the Telegram Bot API, speaking real HTTP.

The bot (``python -m bot``) and the worker are separate processes that talk to Telegram through
aiogram.  In end-to-end tests they are pointed at :class:`FakeTelegram` with
``TelegramAPIServer.from_base(fake.base_url)``; the fake then

* answers the Bot API methods the project uses with objects shaped like the real API, so that
  aiogram's pydantic models parse them;
* records every request in :attr:`FakeTelegram.calls`;
* keeps the current state of every message the bot sent (after edits and deletions);
* lets a test act as a user: :meth:`FakeTelegram.send_text` and :meth:`FakeTelegram.press_button`
  queue updates that the bot receives through ``getUpdates`` long polling;
* reproduces the Telegram errors that commonly bite bots: ``message is not modified``,
  ``can't parse entities`` (HTML and MarkdownV2), ``message is too long``,
  ``BUTTON_DATA_INVALID``, an unknown callback query, a blocked user, and injected faults such as
  ``429 Too Many Requests`` with ``retry_after`` (:meth:`FakeTelegram.fail_next`).

The server runs on the test's event loop; all state is touched from that loop only, so the
public methods are not thread-safe.  Times in :class:`ApiCall` come from :func:`time.monotonic`.

Typical use::

    async with FakeTelegram() as tg:
        proc = start_bot(env={"TELEGRAM_API_BASE": tg.base_url, "BOT_TOKEN": tg.token})
        mid = tg.send_text("/start")
        reply = await tg.wait_for_message(1001, "Welcome", after=mid)
        tg.press_button(message_id=reply.message_id, data=reply.button_data("Help"))
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import mimetypes
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Literal, Self

from aiogram.client.session.aiohttp import AiohttpSession
from aiohttp import web

if TYPE_CHECKING:
    from aiogram import Bot

__all__ = [
    "ApiCall",
    "FakeTelegram",
    "InlineButton",
    "SentMessage",
    "UploadedFile",
]

JsonDict = dict[str, Any]
_Handler = Callable[[JsonDict, dict[str, "UploadedFile"]], Awaitable[Any]]

#: Form fields that are plain strings in the Bot API and must never be JSON-decoded
#: (aiogram sends strings verbatim and everything else JSON-encoded).
_STRING_FIELDS: Final = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "inline_message_id",
        "action",
        "url",
        "description",
        "short_description",
        "name",
        "language_code",
        "business_connection_id",
        "message_effect_id",
        "emoji",
        "title",
        "question",
        "file_id",
        "secret_token",
        "certificate",
        "ip_address",
    }
)

_MAX_TEXT_LENGTH: Final = 4096
_MAX_CAPTION_LENGTH: Final = 1024
_MAX_CALLBACK_DATA_BYTES: Final = 64

#: Update types delivered when ``allowed_updates`` is an empty list (the Telegram default).
_NOT_DELIVERED_BY_DEFAULT: Final = frozenset(
    {"chat_member", "message_reaction", "message_reaction_count"}
)

_NOT_MODIFIED: Final = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
_QUERY_INVALID: Final = (
    "Bad Request: query is too old and response timeout expired or query ID is invalid"
)

_DEFAULT_ERROR_DESCRIPTIONS: Final[Mapping[int, str]] = {
    400: "Bad Request: injected failure",
    401: "Unauthorized",
    403: "Forbidden: injected failure",
    404: "Not Found",
    409: "Conflict: injected failure",
    500: "Internal Server Error",
    502: "Bad Gateway",
}


class _ApiError(Exception):
    """Raised inside a method handler to answer with ``{"ok": false, ...}``."""

    def __init__(
        self, error_code: int, description: str, parameters: JsonDict | None = None
    ) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.parameters = parameters

    def payload(self) -> JsonDict:
        """Return the JSON body Telegram would send for this error."""
        body: JsonDict = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def _bad_request(description: str) -> _ApiError:
    return _ApiError(400, f"Bad Request: {description}")


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


# --------------------------------------------------------------------------------------------
# Public data classes
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request."""

    field_name: str
    filename: str
    content_type: str
    data: bytes


@dataclass
class ApiCall:
    """One HTTP request made to the fake Bot API.

    ``params`` holds the request fields, JSON-decoded where the value is JSON (``reply_markup``,
    ``chat_id``, booleans, ...); plain-string fields such as ``text`` stay strings.  Uploaded
    files are in ``files`` keyed by their form field name (aiogram uses a random key and puts
    ``attach://<key>`` into the parameter).  ``status`` is the HTTP status of the answer (it is
    200 while a long poll is still in flight) and ``time`` is :func:`time.monotonic` at arrival.
    """

    method: str
    params: JsonDict
    time: float
    files: dict[str, UploadedFile] = field(default_factory=dict)
    status: int = 200
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the call was answered successfully."""
        return self.status == 200


@dataclass(frozen=True)
class InlineButton:
    """One button of an inline keyboard."""

    text: str
    callback_data: str | None = None
    url: str | None = None
    row: int = 0
    column: int = 0


@dataclass
class SentMessage:
    """Current state of a message sent by the bot.

    ``text`` is what the user sees: the message text, or the caption of a document/photo, with
    HTML/MarkdownV2 markup already rendered to plain text.  ``raw_text`` is what the bot sent.
    """

    chat_id: int
    message_id: int
    date: int
    kind: Literal["text", "document", "photo"]
    text: str
    raw_text: str
    parse_mode: str | None
    entities: list[JsonDict]
    reply_markup: JsonDict | None
    edits: int = 0
    edit_date: int | None = None
    history: list[str] = field(default_factory=list)
    file_id: str | None = None
    document_name: str | None = None
    document_bytes: bytes | None = None
    mime_type: str | None = None
    reply_to_message_id: int | None = None
    deleted: bool = False

    def buttons(self) -> list[InlineButton]:
        """Return the inline keyboard buttons, row by row (empty without an inline keyboard)."""
        if not self.reply_markup:
            return []
        result: list[InlineButton] = []
        for row_index, row in enumerate(self.reply_markup.get("inline_keyboard") or []):
            for column_index, button in enumerate(row):
                result.append(
                    InlineButton(
                        text=str(button.get("text", "")),
                        callback_data=button.get("callback_data"),
                        url=button.get("url"),
                        row=row_index,
                        column=column_index,
                    )
                )
        return result

    def button_data(self, label: str) -> str:
        """Return the ``callback_data`` of the first button whose text contains ``label``."""
        for button in self.buttons():
            if label in button.text and button.callback_data is not None:
                return button.callback_data
        labels = [button.text for button in self.buttons()]
        raise LookupError(f"no callback button containing {label!r} in message; have {labels}")


@dataclass
class _StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    filename: str
    data: bytes
    mime_type: str


@dataclass
class _FaultRule:
    error_code: int
    description: str
    parameters: JsonDict | None
    remaining: int
    matching: str | None = None  # only calls whose parameters contain this text


# --------------------------------------------------------------------------------------------
# Text formatting (parse_mode) -- an approximation of Telegram's parsers
# --------------------------------------------------------------------------------------------

_HTML_ENTITY_TYPES: Final[Mapping[str, str]] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_HTML_NAMED_ENTITIES: Final[Mapping[str, str]] = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


class _HtmlRenderer(HTMLParser):
    """Render Telegram-flavoured HTML to plain text plus message entities."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=False)
        self._source = source
        self._line_starts = [0]
        for match in re.finditer("\n", source):
            self._line_starts.append(match.end())
        self._parts: list[str] = []
        self._position = 0  # UTF-16 offset in the rendered text
        self._stack: list[tuple[str, dict[str, str | None], int, int]] = []
        self.entities: list[JsonDict] = []

    @property
    def text(self) -> str:
        return "".join(self._parts)

    def _char_index(self) -> int:
        line, column = self.getpos()
        return self._line_starts[line - 1] + column

    def _byte_offset(self) -> int:
        return len(self._source[: self._char_index()].encode())

    def _fail(self, description: str) -> _ApiError:
        return _bad_request(f"can't parse entities: {description}")

    def _emit(self, text: str) -> None:
        self._parts.append(text)
        self._position += _utf16_len(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _HTML_ENTITY_TYPES:
            raise self._fail(f'Unsupported start tag "{tag}" at byte offset {self._byte_offset()}')
        attributes = dict(attrs)
        if tag == "span" and attributes.get("class") != "tg-spoiler":
            raise self._fail('Tag "span" must have class "tg-spoiler"')
        self._stack.append((tag, attributes, self._position, self._byte_offset()))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        offset = self._byte_offset()
        if not self._stack:
            raise self._fail(f'Unexpected end tag at byte offset {offset}, found "</{tag}>"')
        open_tag, attributes, start, _ = self._stack[-1]
        if open_tag != tag:
            raise self._fail(
                f'Unmatched end tag at byte offset {offset}, expected "</{open_tag}>", '
                f'found "</{tag}>"'
            )
        self._stack.pop()
        length = self._position - start
        if length <= 0:
            return
        entity: JsonDict = {"type": _HTML_ENTITY_TYPES[tag], "offset": start, "length": length}
        if tag == "a":
            href = attributes.get("href")
            if not href:
                return
            entity["url"] = href
        elif tag == "tg-emoji":
            entity["custom_emoji_id"] = attributes.get("emoji-id") or ""
        elif tag == "blockquote" and "expandable" in attributes:
            entity["type"] = "expandable_blockquote"
        elif tag == "code" and self._stack and self._stack[-1][0] == "pre":
            language = (attributes.get("class") or "").removeprefix("language-")
            if language:
                # ``<pre><code class="language-x">`` is a single pre entity with a language.
                self._stack[-1][1]["language"] = language
            return
        elif tag == "pre" and attributes.get("language"):
            entity["language"] = attributes["language"]
        self.entities.append(entity)

    def handle_data(self, data: str) -> None:
        if "<" in data:
            index = self._char_index() + data.index("<")
            match = re.match(r"<([^\s>]*)", self._source[index:])
            name = match.group(1) if match else ""
            offset = len(self._source[:index].encode())
            raise self._fail(f'Unsupported start tag "{name}" at byte offset {offset}')
        self._emit(data)

    def handle_entityref(self, name: str) -> None:
        self._emit(_HTML_NAMED_ENTITIES.get(name, f"&{name};"))

    def handle_charref(self, name: str) -> None:
        try:
            code = int(name[1:], 16) if name[:1] in ("x", "X") else int(name)
            self._emit(chr(code))
        except (ValueError, OverflowError):
            self._emit(f"&#{name};")

    def handle_comment(self, data: str) -> None:
        raise self._fail(f'Unsupported start tag "!--" at byte offset {self._byte_offset()}')

    def handle_decl(self, decl: str) -> None:
        raise self._fail(f'Unsupported start tag "!" at byte offset {self._byte_offset()}')

    def handle_pi(self, data: str) -> None:
        raise self._fail(f'Unsupported start tag "?" at byte offset {self._byte_offset()}')

    def unknown_decl(self, data: str) -> None:
        raise self._fail(f'Unsupported start tag "!" at byte offset {self._byte_offset()}')

    def render(self) -> tuple[str, list[JsonDict]]:
        """Parse the whole source and return ``(text, entities)``."""
        self.feed(self._source)
        self.close()
        if self._stack:
            tag, _, _, offset = self._stack[-1]
            raise self._fail(
                f'Can\'t find end tag corresponding to start tag "{tag}" at byte offset {offset}'
            )
        return self.text, self.entities


_MDV2_RESERVED: Final = frozenset("_*[]()~`>#+-=|{}.!")
_MDV2_NAMES: Final[Mapping[str, str]] = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "text_link": "TextUrl",
}


def _render_markdown_v2(source: str) -> tuple[str, list[JsonDict]]:
    """Render MarkdownV2 to ``(text, entities)``, rejecting unescaped reserved characters."""
    parts: list[str] = []
    position = 0
    stack: list[tuple[str, int, int, str]] = []  # (type, utf16 start, byte offset, language)
    entities: list[JsonDict] = []

    def emit(text: str) -> None:
        nonlocal position
        parts.append(text)
        position += _utf16_len(text)

    def byte_offset(index: int) -> int:
        return len(source[:index].encode())

    def fail(description: str) -> _ApiError:
        return _bad_request(f"can't parse entities: {description}")

    def toggle(kind: str, index: int, extra: JsonDict | None = None) -> None:
        if stack and stack[-1][0] == kind:
            _, start, _, language = stack.pop()
            if position > start:
                entity: JsonDict = {"type": kind, "offset": start, "length": position - start}
                if language:
                    entity["language"] = language
                entity.update(extra or {})
                entities.append(entity)
        elif any(entry[0] == kind for entry in stack):
            raise fail(
                f"Can't find end of {_MDV2_NAMES[stack[-1][0]]} entity at byte offset "
                f"{stack[-1][2]}"
            )
        else:
            stack.append((kind, position, byte_offset(index), ""))

    index = 0
    length = len(source)
    while index < length:
        char = source[index]
        top = stack[-1][0] if stack else None
        if char == "\\":
            if index + 1 < length and 0 < ord(source[index + 1]) <= 126:
                emit(source[index + 1])
                index += 2
            else:
                emit(char)
                index += 1
            continue
        if top == "pre":
            if source.startswith("```", index):
                toggle("pre", index)
                index += 3
            else:
                emit(char)
                index += 1
            continue
        if top == "code":
            if char == "`":
                toggle("code", index)
            else:
                emit(char)
            index += 1
            continue
        if source.startswith("```", index):
            end_of_line = source.find("\n", index + 3)
            language = ""
            skip = 3
            if end_of_line != -1:
                candidate = source[index + 3 : end_of_line]
                if candidate and not re.search(r"\s|`", candidate):
                    language = candidate
                    skip = 3 + len(candidate) + 1
                elif not candidate:
                    skip = 4
            stack.append(("pre", position, byte_offset(index), language))
            index += skip
            continue
        if char == "`":
            toggle("code", index)
            index += 1
        elif char == "*":
            toggle("bold", index)
            index += 1
        elif source.startswith("__", index):
            toggle("underline", index)
            index += 2
        elif char == "_":
            toggle("italic", index)
            index += 1
        elif char == "~":
            toggle("strikethrough", index)
            index += 1
        elif source.startswith("||", index):
            toggle("spoiler", index)
            index += 2
        elif char == "[":
            stack.append(("text_link", position, byte_offset(index), ""))
            index += 1
        elif char == "]" and top == "text_link":
            if not source.startswith("(", index + 1):
                stack.pop()  # "[text]" without a URL is plain text
                index += 1
                continue
            url_chars: list[str] = []
            cursor = index + 2
            while cursor < length and source[cursor] != ")":
                if source[cursor] == "\\" and cursor + 1 < length:
                    cursor += 1
                url_chars.append(source[cursor])
                cursor += 1
            if cursor >= length:
                raise fail(f"Can't find end of a URL at byte offset {byte_offset(index + 2)}")
            toggle("text_link", index, {"url": "".join(url_chars)})
            index = cursor + 1
        elif char == ">" and (index == 0 or source[index - 1] == "\n"):
            index += 1  # blockquote marker; the entity itself is not modelled
        elif char in _MDV2_RESERVED:
            raise fail(
                f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
            )
        else:
            emit(char)
            index += 1
    if stack:
        kind, _, offset, _ = stack[-1]
        raise fail(f"Can't find end of {_MDV2_NAMES[kind]} entity at byte offset {offset}")
    return "".join(parts), entities


def _render_markdown_legacy(source: str) -> str:
    """Very lenient rendering of the legacy ``Markdown`` parse mode (no entities)."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", source)
    return re.sub(r"```|[`*_]", "", text)


def _strip_rendered(text: str, entities: list[JsonDict]) -> tuple[str, list[JsonDict]]:
    """Trim surrounding whitespace like Telegram does, shifting and clipping the entities."""
    stripped = text.strip()
    lead = _utf16_len(text[: len(text) - len(text.lstrip())])
    total = _utf16_len(stripped)
    result: list[JsonDict] = []
    for entity in entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, total)
        if end > start:
            result.append({**entity, "offset": start, "length": end - start})
    result.sort(key=lambda item: (item["offset"], -item["length"]))
    return stripped, result


def _command_entities(text: str) -> list[JsonDict]:
    """Entities Telegram attaches to a user's text: a leading ``bot_command``."""
    match = re.match(r"/[A-Za-z0-9_]+(@[A-Za-z0-9_]+)?", text)
    if not match:
        return []
    return [{"type": "bot_command", "offset": 0, "length": _utf16_len(match.group(0))}]


def _decode_field(name: str, value: str) -> Any:
    """JSON-decode a form value unless the field is a plain-string field."""
    if name in _STRING_FIELDS or not value:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


class _PlainHttpSession(AiohttpSession):
    """aiogram session whose ``close`` skips the 250 ms TLS grace sleep (the fake is plain HTTP)."""

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


# --------------------------------------------------------------------------------------------
# The fake server
# --------------------------------------------------------------------------------------------


class FakeTelegram:
    """A fake Telegram Bot API HTTP server for end-to-end tests.

    :param token: the only bot token the server accepts (others get ``401 Unauthorized``).
    :param bot_id: the bot's user id (``getMe``).
    :param username: the bot's username (``getMe``).
    :param first_name: the bot's display name (``getMe``).
    :param max_poll_wait: cap, in seconds, for the ``timeout`` of ``getUpdates`` long polls, so
        that a stopping bot never waits long for the fake.
    """

    def __init__(
        self,
        token: str = "123456:TEST-TOKEN",
        bot_id: int = 123456,
        username: str = "vkcomments_test_bot",
        *,
        first_name: str = "VK Comments Test Bot",
        max_poll_wait: float = 1.0,
    ) -> None:
        self.token = token
        self.bot_id = bot_id
        self.username = username
        self.first_name = first_name
        self.max_poll_wait = max_poll_wait

        #: Every request made to the server, in arrival order.
        self.calls: list[ApiCall] = []
        #: ``answerCallbackQuery`` parameters keyed by callback query id.
        self.callback_answers: dict[str, JsonDict] = {}
        #: Commands registered with ``setMyCommands`` keyed by ``(scope JSON, language_code)``.
        self.commands: dict[tuple[str, str], list[JsonDict]] = {}
        #: Chats whose user "blocked" the bot: sending there answers ``403 Forbidden``.
        self.blocked_chats: set[int] = set()
        #: Messages the test user sent (``send_text``), as the ``message`` objects of updates.
        self.user_messages: list[JsonDict] = []

        self._base_url: str | None = None
        self._runner: web.AppRunner | None = None
        self._closing = False
        self._changed = asyncio.Event()
        self._updates_arrived = asyncio.Event()
        self._pending_updates: list[JsonDict] = []
        self._allowed_updates: list[str] | None = None
        self._update_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._last_message_id: dict[int, int] = {}
        self._messages: dict[int, dict[int, SentMessage]] = {}
        self._chats: dict[int, JsonDict] = {}
        self._open_callbacks: set[str] = set()
        self._files: dict[str, _StoredFile] = {}
        self._faults: dict[str, list[_FaultRule]] = {}
        self._handlers: dict[str, tuple[str, _Handler]] = {
            name.lower(): (name, handler)
            for name, handler in {
                "getMe": self._get_me,
                "logOut": self._true,
                "close": self._true,
                "deleteWebhook": self._delete_webhook,
                "getWebhookInfo": self._get_webhook_info,
                "getUpdates": self._get_updates,
                "setMyCommands": self._set_my_commands,
                "deleteMyCommands": self._delete_my_commands,
                "getMyCommands": self._get_my_commands,
                "setMyDescription": self._true,
                "setMyShortDescription": self._true,
                "setMyName": self._true,
                "setChatMenuButton": self._true,
                "sendMessage": self._send_message,
                "editMessageText": self._edit_message_text,
                "editMessageCaption": self._edit_message_caption,
                "editMessageReplyMarkup": self._edit_message_reply_markup,
                "deleteMessage": self._delete_message,
                "answerCallbackQuery": self._answer_callback_query,
                "sendDocument": self._send_document,
                "sendPhoto": self._send_photo,
                "sendChatAction": self._send_chat_action,
                "getFile": self._get_file,
            }.items()
        }

    # ---------------------------------------------------------------- lifecycle

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Start serving on ``host:port`` (0 = a free port) and return the base URL."""
        if self._runner is not None:
            raise RuntimeError("FakeTelegram is already running")
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_route("GET", "/file/bot{token}/{path:.+}", self._handle_file)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self._runner = runner
        self._closing = False
        address = runner.addresses[0]
        self._base_url = f"http://{host}:{address[1]}"
        return self._base_url

    async def stop(self) -> None:
        """Release pending long polls and shut the server down."""
        if self._runner is None:
            return
        self._closing = True
        self._updates_arrived.set()
        runner, self._runner = self._runner, None
        await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """Base URL for ``TelegramAPIServer.from_base`` (only while running)."""
        if self._base_url is None:
            raise RuntimeError("FakeTelegram is not started")
        return self._base_url

    def create_bot(self, **kwargs: Any) -> Bot:
        """Return an aiogram ``Bot`` talking to this server (close its session when done).

        The bot's session closes without aiogram's 250 ms TLS grace period, keeping tests fast.
        """
        from aiogram import Bot
        from aiogram.client.telegram import TelegramAPIServer

        session = _PlainHttpSession(api=TelegramAPIServer.from_base(self.base_url))
        return Bot(self.token, session=session, **kwargs)

    # ---------------------------------------------------------------- acting as a user

    def send_text(
        self,
        text: str,
        *,
        user_id: int = 1001,
        chat_id: int | None = None,
        first_name: str = "Tester",
        username: str | None = "tester",
        chat_type: str = "private",
        language_code: str | None = "en",
        reply_to_message_id: int | None = None,
    ) -> int:
        """Queue a text message from a user and return its ``message_id``.

        The chat defaults to the private chat with the user.  Like real Telegram, a text that
        starts with a command (``/start``, ``/export@bot``) carries a ``bot_command`` entity.
        The user speaks English unless ``language_code`` says otherwise (None: Telegram did
        not say).
        """
        user = self._user_json(user_id, first_name, username, language_code)
        chat = self._register_chat(user_id if chat_id is None else chat_id, chat_type, user)
        message: JsonDict = {
            "message_id": self._next_message_id(chat["id"]),
            "date": int(time.time()),
            "chat": chat,
            "from": user,
            "text": text,
        }
        entities = _command_entities(text)
        if entities:
            message["entities"] = entities
        if reply_to_message_id is not None:
            replied = self._find_message(chat["id"], reply_to_message_id)
            if replied is not None:
                message["reply_to_message"] = self._message_json(replied)
        self.user_messages.append(message)
        self.inject_update({"message": message})
        return int(message["message_id"])

    def press_button(
        self,
        *,
        message_id: int,
        data: str,
        user_id: int = 1001,
        chat_id: int | None = None,
        first_name: str = "Tester",
        username: str | None = "tester",
        strict: bool = True,
        language_code: str | None = "en",
    ) -> str:
        """Queue a ``callback_query`` for a button of a bot message; return the query id.

        With ``strict`` (the default) the message must exist and carry an inline button with this
        ``callback_data``, as a real user can only press buttons they see.
        """
        chat = user_id if chat_id is None else chat_id
        message = self._find_message(chat, message_id)
        if message is None:
            raise LookupError(f"bot message {message_id} not found in chat {chat}")
        if strict:
            available = [b.callback_data for b in message.buttons() if b.callback_data]
            if data not in available:
                raise LookupError(
                    f"message {message_id} in chat {chat} has no button with callback_data "
                    f"{data!r}; available: {available}"
                )
        query_id = f"{self.bot_id}{next(self._callback_ids):08d}"
        self._open_callbacks.add(query_id)
        self.inject_update(
            {
                "callback_query": {
                    "id": query_id,
                    "from": self._user_json(user_id, first_name, username, language_code),
                    "message": self._message_json(message),
                    "chat_instance": str(abs(hash((self.bot_id, chat)))),
                    "data": data,
                }
            }
        )
        return query_id

    def click(
        self,
        label: str,
        *,
        chat_id: int | None = None,
        user_id: int = 1001,
        message_id: int | None = None,
        language_code: str | None = "en",
    ) -> str:
        """Press the first button whose text contains ``label``; return the query id.

        Without ``message_id`` the newest bot message in the chat having such a button is used.
        """
        chat = user_id if chat_id is None else chat_id
        candidates = (
            [m for m in self.messages(chat) if m.message_id == message_id]
            if message_id is not None
            else list(reversed(self.messages(chat)))
        )
        for message in candidates:
            with contextlib.suppress(LookupError):
                data = message.button_data(label)
                return self.press_button(
                    message_id=message.message_id,
                    data=data,
                    user_id=user_id,
                    chat_id=chat,
                    language_code=language_code,
                )
        raise LookupError(f"no button containing {label!r} in chat {chat}\n{self.dump()}")

    def inject_update(self, update: JsonDict) -> int:
        """Queue a raw update (without ``update_id``) for ``getUpdates``; return its id."""
        update_id = next(self._update_ids)
        self._pending_updates.append({"update_id": update_id, **update})
        self._updates_arrived.set()
        self._changed.set()
        return update_id

    @property
    def pending_updates(self) -> list[JsonDict]:
        """Updates queued and not yet confirmed by the bot through ``offset``."""
        return list(self._pending_updates)

    def block(self, chat_id: int) -> None:
        """Make the user of ``chat_id`` "block" the bot: sends there answer 403."""
        self.blocked_chats.add(chat_id)

    def unblock(self, chat_id: int) -> None:
        """Undo :meth:`block`."""
        self.blocked_chats.discard(chat_id)

    # ---------------------------------------------------------------- fault injection

    def fail_next(
        self,
        method: str,
        *,
        error_code: int = 429,
        retry_after: int = 1,
        times: int = 1,
        description: str | None = None,
        matching: str | None = None,
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail with ``error_code``.

        With ``matching``, only calls whose parameters contain that text count (a job's closing
        message, say, while other messages of the same method pass).

        A 429 answers ``Too Many Requests: retry after N`` with ``parameters.retry_after``; other
        codes answer a Telegram-like description for that code (``description`` overrides it).
        Rules for one method are used in the order they were added.
        """
        if times < 1:
            raise ValueError("times must be positive")
        parameters: JsonDict | None = None
        if error_code == 429:
            text = description or f"Too Many Requests: retry after {retry_after}"
            parameters = {"retry_after": retry_after}
        else:
            text = description or _DEFAULT_ERROR_DESCRIPTIONS.get(
                error_code, f"Injected failure {error_code}"
            )
        rule = _FaultRule(error_code, text, parameters, times, matching)
        self._faults.setdefault(method.lower(), []).append(rule)

    # ---------------------------------------------------------------- inspection

    def messages(self, chat_id: int, *, include_deleted: bool = False) -> list[SentMessage]:
        """Current state of the bot's messages in a chat, oldest first."""
        chat = self._messages.get(chat_id, {})
        return [m for _, m in sorted(chat.items()) if include_deleted or not m.deleted]

    def last_message(self, chat_id: int) -> SentMessage | None:
        """The newest (not deleted) bot message in the chat, if any."""
        messages = self.messages(chat_id)
        return messages[-1] if messages else None

    def calls_of(self, method: str) -> list[ApiCall]:
        """Recorded calls of one method (case-insensitive)."""
        wanted = method.lower()
        return [call for call in self.calls if call.method.lower() == wanted]

    def file_bytes(self, file_id: str) -> bytes:
        """Content of a file the bot uploaded."""
        return self._files[file_id].data

    def dump(self, limit: int = 30) -> str:
        """Human-readable summary of recent calls and of the bot's messages (for failures)."""
        lines: list[str] = []
        polls = len(self.calls_of("getUpdates"))
        interesting = [c for c in self.calls if c.method != "getUpdates"]
        start = self.calls[0].time if self.calls else 0.0
        lines.append(
            f"--- last {min(limit, len(interesting))} of {len(interesting)} calls "
            f"(+{polls} getUpdates) ---"
        )
        for call in interesting[-limit:]:
            params = json.dumps(call.params, ensure_ascii=False, default=str)
            if len(params) > 300:
                params = params[:300] + "..."
            status = "" if call.ok else f" -> {call.status} {call.error}"
            files = f" files={[f.filename for f in call.files.values()]}" if call.files else ""
            lines.append(f"+{call.time - start:7.3f}s {call.method}{status} {params}{files}")
        lines.append(f"--- pending updates: {len(self._pending_updates)} ---")
        for chat_id in sorted(self._messages):
            lines.append(f"--- chat {chat_id} ---")
            for message in self.messages(chat_id, include_deleted=True):
                flags = f" edits={message.edits}" if message.edits else ""
                flags += " DELETED" if message.deleted else ""
                flags += f" file={message.document_name}" if message.document_name else ""
                buttons = [b.text for b in message.buttons()]
                flags += f" buttons={buttons}" if buttons else ""
                text = message.text if len(message.text) <= 200 else message.text[:200] + "..."
                lines.append(f"#{message.message_id}{flags}: {text!r}")
        return "\n".join(lines)

    async def wait_for(
        self,
        predicate: Callable[[FakeTelegram], bool],
        timeout: float = 20.0,  # noqa: ASYNC109 - part of the documented test API
        *,
        description: str = "condition",
    ) -> None:
        """Wait until ``predicate(self)`` is true; raise ``AssertionError`` after ``timeout``.

        The predicate is re-checked whenever the fake's state changes and at least every 50 ms.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            self._changed.clear()
            if predicate(self):
                return
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(
                    f"timed out after {timeout:.1f}s waiting for {description}\n{self.dump()}"
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(remaining, 0.05))

    async def wait_for_message(
        self,
        chat_id: int,
        contains: str,
        timeout: float = 20.0,  # noqa: ASYNC109 - part of the documented test API
        *,
        after: int = 0,
    ) -> SentMessage:
        """Wait for a bot message in the chat whose text contains ``contains``.

        Only messages with ``message_id > after`` are considered (pass the id returned by
        :meth:`send_text` to ignore older ones); the newest match is returned.
        """
        found: list[SentMessage] = []

        def predicate(_: FakeTelegram) -> bool:
            for message in reversed(self.messages(chat_id)):
                if message.message_id > after and contains in message.text:
                    found.append(message)
                    return True
            return False

        await self.wait_for(
            predicate, timeout, description=f"a message containing {contains!r} in {chat_id}"
        )
        return found[-1]

    async def wait_for_call(
        self,
        method: str,
        predicate: Callable[[ApiCall], bool] | None = None,
        timeout: float = 20.0,  # noqa: ASYNC109 - part of the documented test API
        *,
        after: int = 0,
    ) -> ApiCall:
        """Wait for a call of ``method`` (matching ``predicate``) among ``calls[after:]``."""
        found: list[ApiCall] = []
        wanted = method.lower()

        def check(_: FakeTelegram) -> bool:
            for call in self.calls[after:]:
                if call.method.lower() == wanted and (predicate is None or predicate(call)):
                    found.append(call)
                    return True
            return False

        await self.wait_for(check, timeout, description=f"a {method} call")
        return found[0]

    # ---------------------------------------------------------------- HTTP plumbing

    async def _read_request(self, request: web.Request) -> tuple[JsonDict, dict[str, UploadedFile]]:
        params: JsonDict = {}
        files: dict[str, UploadedFile] = {}
        for key, value in request.query.items():
            params[key] = _decode_field(key, value)
        if request.method != "POST" or not request.can_read_body:
            return params, files
        if request.content_type == "application/json":
            body = await request.json()
            if isinstance(body, dict):
                params.update(body)
            return params, files
        form = await request.post()
        for key, item in form.items():
            if isinstance(item, web.FileField):
                files[key] = UploadedFile(
                    field_name=key,
                    filename=item.filename,
                    content_type=item.content_type,
                    data=item.file.read(),
                )
            elif isinstance(item, str):
                params[key] = _decode_field(key, item)
            else:  # pragma: no cover - bytes parts without a filename
                params[key] = _decode_field(key, bytes(item).decode())
        return params, files

    @staticmethod
    def _answer(status: int, body: JsonDict) -> web.Response:
        return web.json_response(body, status=status)

    async def _handle_api(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        requested = request.match_info["method"]
        params, files = await self._read_request(request)
        name, handler = self._handlers.get(requested.lower(), (requested, None))
        call = ApiCall(method=name, params=params, time=time.monotonic(), files=files)
        self.calls.append(call)
        self._changed.set()
        try:
            if token != self.token:
                raise _ApiError(401, "Unauthorized")
            if handler is None:
                raise _ApiError(404, "Not Found")
            self._maybe_fail(name, params)
            result = await handler(params, files)
        except _ApiError as error:
            call.status = error.error_code
            call.error = error.description
            self._changed.set()
            return self._answer(error.error_code, error.payload())
        self._changed.set()
        return self._answer(200, {"ok": True, "result": result})

    async def _handle_file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return self._answer(401, _ApiError(401, "Unauthorized").payload())
        path = request.match_info["path"]
        for stored in self._files.values():
            if stored.file_path == path:
                return web.Response(body=stored.data, content_type=stored.mime_type)
        return self._answer(404, _ApiError(404, "Not Found").payload())

    def _maybe_fail(self, method: str, params: JsonDict) -> None:
        rules = self._faults.get(method.lower())
        if not rules:
            return
        text = str(params)
        rule = next((r for r in rules if r.matching is None or r.matching in text), None)
        if rule is None:
            return
        rule.remaining -= 1
        if rule.remaining <= 0:
            rules.remove(rule)
        raise _ApiError(rule.error_code, rule.description, rule.parameters)

    # ---------------------------------------------------------------- object builders

    def _bot_user_json(self) -> JsonDict:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
        }

    @staticmethod
    def _user_json(
        user_id: int, first_name: str, username: str | None, language_code: str | None
    ) -> JsonDict:
        user: JsonDict = {"id": user_id, "is_bot": False, "first_name": first_name}
        if username is not None:
            user["username"] = username
        if language_code is not None:
            user["language_code"] = language_code
        return user

    def _register_chat(self, chat_id: int, chat_type: str, user: JsonDict) -> JsonDict:
        if chat_type == "private":
            chat: JsonDict = {"id": chat_id, "type": "private", "first_name": user["first_name"]}
            if "username" in user:
                chat["username"] = user["username"]
        else:
            chat = self._chats.get(chat_id) or {
                "id": chat_id,
                "type": chat_type,
                "title": f"Test {chat_type} {chat_id}",
            }
        self._chats[chat_id] = chat
        return chat

    def _chat_json(self, chat_id: int) -> JsonDict:
        known = self._chats.get(chat_id)
        if known is not None:
            return known
        if chat_id > 0:
            return {"id": chat_id, "type": "private", "first_name": f"User {chat_id}"}
        chat_type = "supergroup" if str(chat_id).startswith("-100") else "group"
        return {"id": chat_id, "type": chat_type, "title": f"Chat {chat_id}"}

    def _next_message_id(self, chat_id: int) -> int:
        message_id = self._last_message_id.get(chat_id, 0) + 1
        self._last_message_id[chat_id] = message_id
        return message_id

    def _find_message(self, chat_id: int, message_id: int) -> SentMessage | None:
        message = self._messages.get(chat_id, {}).get(message_id)
        return None if message is None or message.deleted else message

    def _message_json(self, message: SentMessage) -> JsonDict:
        body: JsonDict = {
            "message_id": message.message_id,
            "date": message.date,
            "chat": self._chat_json(message.chat_id),
            "from": self._bot_user_json(),
        }
        if message.edit_date is not None:
            body["edit_date"] = message.edit_date
        entities_key = "entities"
        if message.kind == "text":
            body["text"] = message.text
        else:
            entities_key = "caption_entities"
            if message.text:
                body["caption"] = message.text
            stored = self._files[message.file_id or ""]
            if message.kind == "document":
                body["document"] = {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "file_name": stored.filename,
                    "mime_type": stored.mime_type,
                    "file_size": len(stored.data),
                }
            else:
                body["photo"] = [
                    {
                        "file_id": stored.file_id,
                        "file_unique_id": stored.file_unique_id,
                        "width": 320,
                        "height": 320,
                        "file_size": len(stored.data),
                    }
                ]
        if message.entities:
            body[entities_key] = message.entities
        if message.reply_markup and "inline_keyboard" in message.reply_markup:
            body["reply_markup"] = message.reply_markup
        if message.reply_to_message_id is not None:
            for user_message in self.user_messages:
                if (
                    user_message["chat"]["id"] == message.chat_id
                    and user_message["message_id"] == message.reply_to_message_id
                ):
                    body["reply_to_message"] = user_message
        return body

    # ---------------------------------------------------------------- parameter helpers

    def _target_chat(self, params: JsonDict) -> int:
        value = params.get("chat_id")
        if isinstance(value, bool) or not isinstance(value, int):
            raise _bad_request("chat not found")
        if value in self.blocked_chats:
            raise _ApiError(403, "Forbidden: bot was blocked by the user")
        return value

    def _target_message(self, params: JsonDict, action: str = "edit") -> SentMessage:
        if "inline_message_id" in params:
            raise _bad_request("inline messages are not supported by FakeTelegram")
        chat_id = self._target_chat(params)
        message_id = params.get("message_id")
        if not isinstance(message_id, int):
            raise _bad_request("message identifier is not specified")
        message = self._find_message(chat_id, message_id)
        if message is None:
            raise _bad_request(f"message to {action} not found")
        return message

    @staticmethod
    def _render(
        text: str, parse_mode: Any, entities: Any, *, caption: bool = False
    ) -> tuple[str, list[JsonDict]]:
        mode = parse_mode.lower() if isinstance(parse_mode, str) and parse_mode else None
        if mode == "html":
            rendered, parsed = _HtmlRenderer(text).render()
        elif mode == "markdownv2":
            rendered, parsed = _render_markdown_v2(text)
        elif mode == "markdown":
            rendered, parsed = _render_markdown_legacy(text), []
        elif mode is None:
            rendered = text
            parsed = [dict(e) for e in entities] if isinstance(entities, list) else []
        else:
            raise _bad_request(f"unsupported parse_mode {parse_mode!r}")
        rendered, parsed = _strip_rendered(rendered, parsed)
        limit = _MAX_CAPTION_LENGTH if caption else _MAX_TEXT_LENGTH
        if _utf16_len(rendered) > limit:
            raise _bad_request("message caption is too long" if caption else "message is too long")
        if not rendered and not caption:
            raise _bad_request("message text is empty")
        return rendered, parsed

    @staticmethod
    def _markup(params: JsonDict) -> JsonDict | None:
        markup = params.get("reply_markup")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise _bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" not in markup:
            return markup
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise _bad_request('can\'t parse inline keyboard button: field "inline_keyboard"')
        for row in rows:
            for button in row:
                if not isinstance(button, dict) or not button.get("text"):
                    raise _bad_request("can't parse inline keyboard button: Text must be non-empty")
                if set(button) == {"text"}:
                    raise _bad_request("text buttons are unallowed in the inline keyboard")
                data = button.get("callback_data")
                if data is not None and not (
                    isinstance(data, str) and 1 <= len(data.encode()) <= _MAX_CALLBACK_DATA_BYTES
                ):
                    raise _bad_request("BUTTON_DATA_INVALID")
        if not any(rows):
            return None  # an empty inline keyboard is the same as none
        return markup

    def _store_file(self, params: JsonDict, files: dict[str, UploadedFile], kind: str) -> str:
        value = params.get(kind)
        upload = files.get(kind)
        if isinstance(value, str) and value.startswith("attach://"):
            upload = files.get(value.removeprefix("attach://"))
            if upload is None:
                raise _bad_request("wrong file identifier/HTTP URL specified")
        if upload is None:
            if value is not None and str(value) in self._files:
                return str(value)  # re-sending a file by file_id
            if value is None:
                raise _bad_request(f"there is no {kind} in the request")
            raise _bad_request("wrong file identifier/HTTP URL specified")
        if not upload.data:
            raise _bad_request("file must be non-empty")
        number = next(self._file_ids)
        prefix = "BQAC" if kind == "document" else "AgAC"
        file_id = f"{prefix}{self.bot_id}_{number:06d}"
        suffix = upload.filename.rsplit(".", 1)[-1] if "." in upload.filename else "bin"
        guessed = mimetypes.guess_type(upload.filename)[0]
        self._files[file_id] = _StoredFile(
            file_id=file_id,
            file_unique_id=f"U{number:06d}",
            file_path=f"{kind}s/file_{number}.{suffix}",
            filename=upload.filename,
            data=upload.data,
            mime_type=guessed or upload.content_type or "application/octet-stream",
        )
        return file_id

    def _reply_to(self, params: JsonDict) -> int | None:
        reply = params.get("reply_parameters")
        if isinstance(reply, dict) and isinstance(reply.get("message_id"), int):
            return int(reply["message_id"])
        legacy = params.get("reply_to_message_id")
        return legacy if isinstance(legacy, int) else None

    def _add_message(self, message: SentMessage) -> SentMessage:
        self._messages.setdefault(message.chat_id, {})[message.message_id] = message
        return message

    # ---------------------------------------------------------------- method handlers

    async def _true(self, params: JsonDict, files: dict[str, UploadedFile]) -> bool:
        return True

    async def _get_me(self, params: JsonDict, files: dict[str, UploadedFile]) -> JsonDict:
        return {
            **self._bot_user_json(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _delete_webhook(self, params: JsonDict, files: dict[str, UploadedFile]) -> bool:
        if params.get("drop_pending_updates") is True:
            self._pending_updates.clear()
        return True

    async def _get_webhook_info(self, params: JsonDict, files: dict[str, UploadedFile]) -> JsonDict:
        return {
            "url": "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending_updates),
        }

    def _take_updates(self, offset: Any, limit: int) -> list[JsonDict]:
        if isinstance(offset, int) and not isinstance(offset, bool):
            if offset < 0:
                self._pending_updates = self._pending_updates[offset:]
            else:
                self._pending_updates = [
                    u for u in self._pending_updates if u["update_id"] >= offset
                ]
        allowed = self._allowed_updates
        if allowed is not None:

            def deliverable(update: JsonDict) -> bool:
                kind = next(key for key in update if key != "update_id")
                if allowed:
                    return kind in allowed
                return kind not in _NOT_DELIVERED_BY_DEFAULT

            # Telegram never creates updates of types the bot did not ask for.
            self._pending_updates = [u for u in self._pending_updates if deliverable(u)]
        return self._pending_updates[:limit]

    async def _get_updates(
        self, params: JsonDict, files: dict[str, UploadedFile]
    ) -> list[JsonDict]:
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = [str(item) for item in allowed]
        limit = params.get("limit")
        limit = limit if isinstance(limit, int) and 1 <= limit <= 100 else 100
        wait = params.get("timeout")
        wait = float(wait) if isinstance(wait, int | float) and wait > 0 else 0.0
        loop = asyncio.get_running_loop()
        deadline = loop.time() + min(wait, self.max_poll_wait)
        while True:
            updates = self._take_updates(params.get("offset"), limit)
            remaining = deadline - loop.time()
            if updates or self._closing or remaining <= 0:
                return updates
            self._updates_arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._updates_arrived.wait(), remaining)

    @staticmethod
    def _commands_key(params: JsonDict) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        language = params.get("language_code") or ""
        return json.dumps(scope, sort_keys=True), str(language)

    async def _set_my_commands(self, params: JsonDict, files: dict[str, UploadedFile]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _bad_request('parameter "commands" is required')
        for command in commands:
            name = command.get("command", "") if isinstance(command, dict) else ""
            if not re.fullmatch(r"[a-z0-9_]{1,32}", str(name)):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not command.get("description"):
                raise _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands[self._commands_key(params)] = commands
        return True

    async def _delete_my_commands(self, params: JsonDict, files: dict[str, UploadedFile]) -> bool:
        self.commands.pop(self._commands_key(params), None)
        return True

    async def _get_my_commands(
        self, params: JsonDict, files: dict[str, UploadedFile]
    ) -> list[JsonDict]:
        return self.commands.get(self._commands_key(params), [])

    async def _send_message(self, params: JsonDict, files: dict[str, UploadedFile]) -> JsonDict:
        chat_id = self._target_chat(params)
        raw = params.get("text")
        raw_text = "" if raw is None else str(raw)
        parse_mode = params.get("parse_mode")
        text, entities = self._render(raw_text, parse_mode, params.get("entities"))
        message = SentMessage(
            chat_id=chat_id,
            message_id=self._next_message_id(chat_id),
            date=int(time.time()),
            kind="text",
            text=text,
            raw_text=raw_text,
            parse_mode=parse_mode if isinstance(parse_mode, str) else None,
            entities=entities,
            reply_markup=self._markup(params),
            reply_to_message_id=self._reply_to(params),
        )
        return self._message_json(self._add_message(message))

    async def _send_file(
        self,
        params: JsonDict,
        files: dict[str, UploadedFile],
        kind: Literal["document", "photo"],
    ) -> JsonDict:
        chat_id = self._target_chat(params)
        raw = params.get("caption")
        raw_text = "" if raw is None else str(raw)
        parse_mode = params.get("parse_mode")
        caption, entities = self._render(
            raw_text, parse_mode, params.get("caption_entities"), caption=True
        )
        markup = self._markup(params)
        file_id = self._store_file(params, files, kind)
        stored = self._files[file_id]
        message = SentMessage(
            chat_id=chat_id,
            message_id=self._next_message_id(chat_id),
            date=int(time.time()),
            kind=kind,
            text=caption,
            raw_text=raw_text,
            parse_mode=parse_mode if isinstance(parse_mode, str) else None,
            entities=entities,
            reply_markup=markup,
            file_id=file_id,
            document_name=stored.filename,
            document_bytes=stored.data,
            mime_type=stored.mime_type,
            reply_to_message_id=self._reply_to(params),
        )
        return self._message_json(self._add_message(message))

    async def _send_document(self, params: JsonDict, files: dict[str, UploadedFile]) -> JsonDict:
        return await self._send_file(params, files, "document")

    async def _send_photo(self, params: JsonDict, files: dict[str, UploadedFile]) -> JsonDict:
        return await self._send_file(params, files, "photo")

    def _apply_edit(
        self,
        message: SentMessage,
        *,
        text: str,
        raw_text: str,
        parse_mode: Any,
        entities: list[JsonDict],
        markup: JsonDict | None,
    ) -> JsonDict:
        if (text, entities, markup) == (message.text, message.entities, message.reply_markup):
            raise _ApiError(400, _NOT_MODIFIED)
        if text != message.text:
            message.history.append(message.text)
        message.text = text
        message.raw_text = raw_text
        message.parse_mode = parse_mode if isinstance(parse_mode, str) else None
        message.entities = entities
        message.reply_markup = markup
        message.edits += 1
        message.edit_date = int(time.time())
        return self._message_json(message)

    async def _edit_message_text(
        self, params: JsonDict, files: dict[str, UploadedFile]
    ) -> JsonDict:
        return self._edit_words(params, caption=False)

    async def _edit_message_caption(
        self, params: JsonDict, files: dict[str, UploadedFile]
    ) -> JsonDict:
        return self._edit_words(params, caption=True)

    def _edit_words(self, params: JsonDict, *, caption: bool) -> JsonDict:
        """editMessageText and editMessageCaption: same rules, on text or on a file's caption."""
        message = self._target_message(params)
        if (message.kind == "text") == caption:
            what = "caption" if caption else "text"
            raise _bad_request(f"there is no {what} in the message to edit")
        raw = params.get("caption" if caption else "text")
        raw_text = "" if raw is None else str(raw)
        parse_mode = params.get("parse_mode")
        entities_key = "caption_entities" if caption else "entities"
        text, entities = self._render(
            raw_text, parse_mode, params.get(entities_key), caption=caption
        )
        return self._apply_edit(
            message,
            text=text,
            raw_text=raw_text,
            parse_mode=parse_mode,
            entities=entities,
            markup=self._markup(params),
        )

    async def _edit_message_reply_markup(
        self, params: JsonDict, files: dict[str, UploadedFile]
    ) -> JsonDict:
        message = self._target_message(params)
        return self._apply_edit(
            message,
            text=message.text,
            raw_text=message.raw_text,
            parse_mode=message.parse_mode,
            entities=message.entities,
            markup=self._markup(params),
        )

    async def _delete_message(self, params: JsonDict, files: dict[str, UploadedFile]) -> bool:
        message = self._target_message(params, action="delete")
        message.deleted = True
        return True

    async def _answer_callback_query(
        self, params: JsonDict, files: dict[str, UploadedFile]
    ) -> bool:
        query_id = str(params.get("callback_query_id", ""))
        if query_id not in self._open_callbacks:
            raise _ApiError(400, _QUERY_INVALID)
        self._open_callbacks.discard(query_id)
        self.callback_answers[query_id] = dict(params)
        return True

    async def _send_chat_action(self, params: JsonDict, files: dict[str, UploadedFile]) -> bool:
        self._target_chat(params)
        if not params.get("action"):
            raise _bad_request("wrong parameter action in request")
        return True

    async def _get_file(self, params: JsonDict, files: dict[str, UploadedFile]) -> JsonDict:
        stored = self._files.get(str(params.get("file_id", "")))
        if stored is None:
            raise _bad_request("invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "file_path": stored.file_path,
        }

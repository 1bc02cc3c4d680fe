"""A fake Telegram Bot API server for end-to-end tests.

Telegram cannot be reached from the test machines, so the e2e tests start the *real* bot
process and point it (via ``TELEGRAM_API_BASE_URL``) at this server instead.  It speaks the
subset of the Bot API that a python-telegram-bot long-polling bot uses, answers with objects
shaped like the real API (so PTB's ``de_json`` accepts them) and deliberately reproduces the
errors Telegram gives for common bot bugs (invalid HTML, over-long texts, oversized
``callback_data``, "message is not modified", answering a callback query twice, ...), so those
bugs show up in tests instead of in production.

Tests drive it from the user's side with a synchronous, thread-safe control API::

    with FakeTelegram(token="123:ABC") as tg:
        start_bot(env={"TELEGRAM_BOT_TOKEN": tg.token, "TELEGRAM_API_BASE_URL": tg.base_url})
        replies = tg.ask(42, "/start")
        tg.click(42, "lang:nl")

Only the standard library is used.
"""

from __future__ import annotations

import copy
import email.parser
import email.policy
import html
import json
import re
import select
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, cast
from urllib.parse import parse_qsl, unquote, urlsplit

JSON = dict[str, Any]

__all__ = ["ApiError", "FakeTelegram"]

# Form/multipart values are strings.  PTB sends ``str`` parameters verbatim and JSON-encodes
# everything else (ints, bools, lists, dicts), so every other field is JSON-decoded.  These
# fields are free text and must never be decoded ("123" or "true" as message text stays a str).
_RAW_STRING_FIELDS = frozenset(
    {
        "action",
        "address",
        "animation",
        "audio",
        "business_connection_id",
        "callback_query_id",
        "caption",
        "currency",
        "custom_emoji_id",
        "description",
        "document",
        "emoji",
        "explanation",
        "explanation_parse_mode",
        "file_id",
        "first_name",
        "foursquare_id",
        "foursquare_type",
        "game_short_name",
        "google_place_id",
        "google_place_type",
        "inline_message_id",
        "ip_address",
        "language_code",
        "last_name",
        "message_effect_id",
        "name",
        "next_offset",
        "parse_mode",
        "payload",
        "phone_number",
        "photo",
        "provider_token",
        "query",
        "question",
        "question_parse_mode",
        "result_id",
        "secret_token",
        "short_description",
        "start_parameter",
        "sticker",
        "text",
        "thumbnail",
        "title",
        "url",
        "vcard",
        "video",
        "video_note",
        "voice",
    }
)
# Fields that some clients send as a JSON *string* even inside a JSON body.
_JSON_FIELDS = frozenset(
    {
        "allowed_updates",
        "caption_entities",
        "commands",
        "entities",
        "link_preview_options",
        "media",
        "reply_markup",
        "reply_parameters",
        "scope",
    }
)
# Bot API default when allowed_updates is empty/never given.
_DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
# Tags Telegram's HTML parse mode accepts; anything else is a 400 "can't parse entities".
_HTML_TAGS = frozenset(
    {
        "a",
        "b",
        "blockquote",
        "code",
        "del",
        "em",
        "i",
        "ins",
        "pre",
        "s",
        "span",
        "strike",
        "strong",
        "tg-emoji",
        "tg-spoiler",
        "tg-time",
        "u",
    }
)
_BUTTON_ACTIONS = (
    "callback_data",
    "callback_game",
    "copy_text",
    "login_url",
    "pay",
    "switch_inline_query",
    "switch_inline_query_chosen_chat",
    "switch_inline_query_current_chat",
    "url",
    "web_app",
)
_COMMAND_RE = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?")
_API_PATH_RE = re.compile(r"^/bot(?P<token>[^/]+)/(?P<method>[A-Za-z0-9_]+)/?$")
_FILE_PATH_RE = re.compile(r"^/file/bot(?P<token>[^/]+)/(?P<path>.+)$")
_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
_TRANSCRIPT_LIMIT = 200  # lines; keeps assertion messages readable when a bot loops
_MEDIA_KINDS = ("photo", "document", "voice", "audio", "video", "animation", "sticker")


class ApiError(Exception):
    """An error answer of the Bot API (``{"ok": false, "error_code": ..., "description": ...}``)."""

    def __init__(self, code: int, description: str) -> None:
        super().__init__(f"{code} {description}")
        self.code = code
        self.description = description


class _Abandoned(Exception):
    """The HTTP client hung up during a long poll; nobody is left to answer."""


@dataclass
class _StoredMessage:
    """Current state of one message in a chat (edits replace ``data``)."""

    data: JSON  # Telegram-shaped Message as the bot would receive it
    from_bot: bool
    raw_text: str | None = None  # text/caption exactly as the bot sent it (before parse_mode)
    kind: str = "text"


@dataclass
class _StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    content: bytes
    mime_type: str


@dataclass
class _Chat:
    """A private chat between the bot and one fake user (user id == chat id), or a group
    (with a title) that the bot is a member of until it leaves."""

    chat_id: int
    user: JSON
    next_message_id: int = 1
    messages: dict[int, _StoredMessage] = field(default_factory=dict)
    bot_log: list[JSON] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    blocked: bool = False
    title: str | None = None
    member: bool = True

    @property
    def chat(self) -> JSON:
        if self.title is not None:
            return {"id": self.chat_id, "type": "group", "title": self.title}
        return {"id": self.chat_id, "type": "private", "first_name": self.user["first_name"]}


# --------------------------------------------------------------------------------------------
# Parameter decoding
# --------------------------------------------------------------------------------------------


def _decode_value(name: str, raw: str) -> Any:
    if name in _RAW_STRING_FIELDS:
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw  # e.g. chat_id="@channel", language_code="nl"


def decode_params(content_type: str, body: bytes, query: str = "") -> tuple[JSON, dict[str, bytes]]:
    """Decode Bot API parameters the way Telegram does, whatever the client sent.

    Supports query strings, ``application/json``, ``application/x-www-form-urlencoded`` (what
    PTB's HTTPXRequest sends: ``str`` verbatim, everything else JSON-encoded) and
    ``multipart/form-data`` (PTB, when uploading files).  Returns ``(params, uploads)``;
    an uploaded file appears in ``params`` as ``{"filename", "content_type", "size"}``.
    """
    params: JSON = {k: _decode_value(k, v) for k, v in parse_qsl(query, keep_blank_values=True)}
    uploads: dict[str, bytes] = {}
    mime = content_type.split(";", 1)[0].strip().lower()
    if not body:
        pass
    elif mime == "application/json":
        try:
            loaded = json.loads(body.decode("utf-8"))
        except ValueError as exc:
            raise ApiError(400, "Bad Request: can't parse JSON request body") from exc
        if not isinstance(loaded, dict):
            raise ApiError(400, "Bad Request: parameters must be a JSON object")
        params.update(loaded)
    elif mime == "multipart/form-data":
        envelope = b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(envelope)
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if not isinstance(name, str):
                continue
            payload = cast(bytes, part.get_payload(decode=True) or b"")
            filename = part.get_filename()
            if filename is None:
                params[name] = _decode_value(name, payload.decode("utf-8"))
            else:
                uploads[name] = payload
                params[name] = {
                    "filename": filename,
                    "content_type": part.get_content_type(),
                    "size": len(payload),
                }
    else:  # application/x-www-form-urlencoded (and anything unlabelled)
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
        params.update({k: _decode_value(k, v) for k, v in pairs})
    for name in _JSON_FIELDS & params.keys():
        if isinstance(params[name], str):
            try:
                params[name] = json.loads(params[name])
            except ValueError as exc:
                raise ApiError(400, f"Bad Request: can't parse {name} JSON object") from exc
    return params, uploads


# --------------------------------------------------------------------------------------------
# Telegram-like validation
# --------------------------------------------------------------------------------------------


class _TelegramHTML(HTMLParser):
    """Validates parse_mode=HTML like Telegram and yields the plain text the user would see."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.parts: list[str] = []
        self.stack: list[str] = []
        self.error: str | None = None

    def _fail(self, message: str) -> None:
        if self.error is None:
            self.error = message

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _HTML_TAGS:
            self._fail(f'Unsupported start tag "{tag}"')
        else:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._fail(f'Unsupported start tag "{tag}/"')

    def handle_endtag(self, tag: str) -> None:
        if self.stack and self.stack[-1] == tag:
            self.stack.pop()
        else:
            self._fail(f'Can\'t find start tag corresponding to end tag "{tag}"')

    def handle_data(self, data: str) -> None:
        if "<" in data:
            self._fail('Unexpected "<": characters "<" must be escaped as "&lt;"')
        self.parts.append(data)

    def handle_entityref(self, name: str) -> None:
        known = name in ("lt", "gt", "amp", "quot")
        self.parts.append(html.unescape(f"&{name};") if known else f"&{name};")

    def handle_charref(self, name: str) -> None:
        self.parts.append(chr(int(name[1:], 16) if name[:1] in "xX" else int(name)))

    def handle_comment(self, data: str) -> None:
        self._fail('Unsupported start tag "!--"')

    def handle_decl(self, decl: str) -> None:
        self._fail('Unsupported start tag "!"')

    def handle_pi(self, data: str) -> None:
        self._fail('Unsupported start tag "?"')

    def unknown_decl(self, data: str) -> None:
        self._fail('Unsupported start tag "!["')


def _render_text(raw: str, parse_mode: Any) -> str:
    """Plain text Telegram would store for ``raw`` (raises ApiError like Telegram on bad HTML).

    Markdown modes are passed through unvalidated.
    """
    if isinstance(parse_mode, str) and parse_mode.lower() == "html":
        parser = _TelegramHTML()
        parser.feed(raw)
        parser.close()
        if parser.error is None and parser.stack:
            parser.error = f'Can\'t find end tag corresponding to start tag "{parser.stack[-1]}"'
        if parser.error is not None:
            raise ApiError(400, f"Bad Request: can't parse entities: {parser.error}")
        raw = "".join(parser.parts)
    return raw.strip()  # Telegram trims leading/trailing whitespace


def _utf16_len(text: str) -> int:
    """Telegram measures lengths and entity offsets in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def _check_reply_markup(markup: Any) -> JSON | None:
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    rows = markup.get("inline_keyboard")
    if rows is None:
        return markup  # reply keyboards, ReplyKeyboardRemove, ForceReply: accepted as-is
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise ApiError(400, 'Bad Request: field "inline_keyboard" must be an Array of Array')
    for row in rows:
        for button in row:
            if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                raise ApiError(
                    400,
                    "Bad Request: can't parse inline keyboard button: "
                    'Field "text" must be of type String',
                )
            if not any(key in button for key in _BUTTON_ACTIONS):
                raise ApiError(
                    400,
                    "Bad Request: can't parse inline keyboard button: "
                    "Text buttons are unallowed in the inline keyboard",
                )
            data = button.get("callback_data")
            if data is not None and not (1 <= len(str(data).encode("utf-8")) <= 64):
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
    return markup


def _inline_markup(markup: JSON | None) -> JSON | None:
    """Telegram only echoes inline keyboards back in the Message object."""
    return markup if markup and "inline_keyboard" in markup else None


def _command_entities(text: str) -> list[JSON]:
    """bot_command entities, as Telegram's servers add them to any "/command" in a text."""
    return [
        {
            "type": "bot_command",
            "offset": _utf16_len(text[: match.start()]),
            "length": _utf16_len(match.group()),
        }
        for match in _COMMAND_RE.finditer(text)
    ]


def _any_entry(entry: JSON) -> bool:
    return True


def _is_reply(entry: JSON) -> bool:
    """Everything but removing a spent inline keyboard counts as the bot answering."""
    return not (entry["method"] == "editMessageReplyMarkup" and entry["reply_markup"] is None)


def _int_param(params: JSON, name: str) -> int:
    value = params.get(name)
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise ApiError(400, f"Bad Request: {name} is empty or invalid") from exc


# --------------------------------------------------------------------------------------------
# HTTP plumbing
# --------------------------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeTelegram

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A bot that hangs up mid-request (cancelled long poll) is normal, not an error."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "FakeTelegramBotAPI/1.0"

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def log_message(self, *args: Any) -> None:
        """Silence per-request logging; the fake records calls itself."""

    def _client_gone(self) -> bool:
        """True once the client closed its end (e.g. PTB cancelled a long poll on shutdown)."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return bool(readable) and self.connection.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):
            return True

    def _handle(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        content_type = self.headers.get("Content-Type", "")
        answer = self.server.fake._handle_http(
            unquote(url.path), url.query, content_type, body, self._client_gone
        )
        if answer is None:
            return
        status, payload, payload_type = answer
        try:
            self.send_response(status)
            self.send_header("Content-Type", payload_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except ConnectionError:
            pass


# --------------------------------------------------------------------------------------------
# The fake
# --------------------------------------------------------------------------------------------


class FakeTelegram:
    """In-process fake of the Telegram Bot API plus a control API for tests.

    All state lives behind one ``threading.Condition``; HTTP handler threads and the test
    thread both use it, so every public method is thread-safe and may block.
    """

    def __init__(
        self,
        token: str = "123456:TEST-TOKEN",
        *,
        bot_username: str = "wegwijs_test_bot",
        bot_first_name: str = "Wegwijs",
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.token = token
        prefix = token.split(":", 1)[0]
        self.bot_user: JSON = {
            "id": int(prefix) if prefix.isdigit() else 123456,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        self._host = host
        self._port = port
        self._cond = threading.Condition(threading.RLock())
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._closed = False
        self._chats: dict[int, _Chat] = {}
        self._pending: list[JSON] = []
        self._all_updates: dict[int, JSON] = {}
        self._delivered: set[int] = set()
        self._next_update_id = 1
        self._poll_generation = 0
        self._allowed_updates: set[str] | None = None
        self._calls: list[JSON] = []
        self._unauthorized: list[JSON] = []
        self._errors: list[JSON] = []
        self._callback_queries: dict[str, JSON] = {}
        self._files: dict[str, _StoredFile] = {}
        self._files_by_path: dict[str, _StoredFile] = {}
        self._commands: dict[tuple[str, str], list[JSON]] = {}
        self._counter = 0
        self._methods: dict[str, Callable[[JSON, dict[str, bytes], Callable[[], bool]], Any]] = {
            "getme": lambda p, u, g: dict(self.bot_user),
            "logout": lambda p, u, g: True,
            "close": lambda p, u, g: True,
            "deletewebhook": self._api_delete_webhook,
            "setwebhook": lambda p, u, g: True,
            "getwebhookinfo": self._api_get_webhook_info,
            "getupdates": self._api_get_updates,
            "setmycommands": self._api_set_my_commands,
            "getmycommands": self._api_get_my_commands,
            "deletemycommands": self._api_delete_my_commands,
            "sendmessage": self._api_send_message,
            "editmessagetext": self._api_edit_message_text,
            "editmessagecaption": self._api_edit_message_caption,
            "editmessagereplymarkup": self._api_edit_message_reply_markup,
            "deletemessage": self._api_delete_message,
            "answercallbackquery": self._api_answer_callback_query,
            "sendchataction": self._api_send_chat_action,
            "getchat": self._api_get_chat,
            "getfile": self._api_get_file,
            "sendlocation": self._api_send_location,
            "leavechat": self._api_leave_chat,
        }
        for kind in _MEDIA_KINDS:
            self._methods[f"send{kind}"] = self._media_sender(kind)

    # ---- lifecycle ---------------------------------------------------------------------------

    def start(self) -> FakeTelegram:
        """Bind to a free port and serve in a daemon thread."""
        if self._server is not None:
            return self
        self._closed = False
        server = _Server((self._host, self._port), _Handler)
        server.fake = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-telegram",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; waiting long polls are woken and answered with an empty result."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> FakeTelegram:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """Root URL to give the bot as ``TELEGRAM_API_BASE_URL`` (no trailing slash)."""
        if self._server is None:
            raise RuntimeError("FakeTelegram is not running; use start() or a with-block")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def api_url(self) -> str:
        """``{base_url}/bot{token}``: prefix for hand-made API calls in tests."""
        return f"{self.base_url}/bot{self.token}"

    # ---- user side: queue updates --------------------------------------------------------------

    def send_text(
        self, chat_id: int, text: str, *, language_code: str = "nl", first_name: str = "Test"
    ) -> int:
        """Queue a private text message from the user; returns the update_id.

        Like Telegram, any "/command" in the text gets a ``bot_command`` entity.
        """
        extra: JSON = {"text": text}
        entities = _command_entities(text)
        if entities:
            extra["entities"] = entities
        return self._user_message(chat_id, extra, text, language_code, first_name)

    def send_command(
        self,
        chat_id: int,
        command: str,
        *,
        language_code: str = "nl",
        first_name: str = "Test",
    ) -> int:
        """Queue "/command [args]" (leading slash optional); a CommandHandler will match it."""
        text = command if command.startswith("/") else f"/{command}"
        if not _COMMAND_RE.match(text):
            raise ValueError(f"not a bot command: {command!r}")
        return self.send_text(chat_id, text, language_code=language_code, first_name=first_name)

    def send_photo(
        self,
        chat_id: int,
        *,
        caption: str | None = None,
        width: int = 1280,
        height: int = 960,
        content: bytes | None = None,
        language_code: str = "nl",
        first_name: str = "Test",
    ) -> int:
        """Queue a photo message (three PhotoSize variants, largest last, like Telegram)."""
        extra: JSON = {"photo": self._photo_sizes(width, height, content)}
        if caption is not None:
            extra["caption"] = caption
        return self._user_message(
            chat_id, extra, f"<photo {width}x{height}>", language_code, first_name
        )

    def send_sticker(
        self,
        chat_id: int,
        *,
        emoji: str = "\N{THUMBS UP SIGN}",
        language_code: str = "nl",
        first_name: str = "Test",
    ) -> int:
        """Queue a (static, regular) sticker message."""
        stored = self._register_file("sticker", b"RIFF\x00\x00\x00\x00WEBP", "image/webp", ".webp")
        sticker = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
            "set_name": "WegwijsTestStickers",
            "file_size": len(stored.content),
        }
        return self._user_message(
            chat_id, {"sticker": sticker}, f"<sticker {emoji}>", language_code, first_name
        )

    def send_voice(
        self,
        chat_id: int,
        *,
        duration: int = 3,
        content: bytes | None = None,
        language_code: str = "nl",
        first_name: str = "Test",
    ) -> int:
        """Queue a voice note (OGG/Opus, as Telegram clients record them)."""
        data = content if content is not None else b"OggS" + bytes(60)
        stored = self._register_file("voice", data, "audio/ogg", ".oga")
        voice = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "duration": duration,
            "mime_type": "audio/ogg",
            "file_size": len(data),
        }
        return self._user_message(
            chat_id, {"voice": voice}, f"<voice {duration}s>", language_code, first_name
        )

    def send_document(
        self,
        chat_id: int,
        *,
        file_name: str = "document.pdf",
        mime_type: str = "application/pdf",
        content: bytes | None = None,
        caption: str | None = None,
        language_code: str = "nl",
        first_name: str = "Test",
    ) -> int:
        """Queue a document (file) message."""
        data = content if content is not None else b"%PDF-1.4\n% fake\n"
        stored = self._register_file("documents", data, mime_type, "")
        document = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_name": file_name,
            "mime_type": mime_type,
            "file_size": len(data),
        }
        extra: JSON = {"document": document}
        if caption is not None:
            extra["caption"] = caption
        return self._user_message(
            chat_id, extra, f"<document {file_name}>", language_code, first_name
        )

    def send_location(
        self,
        chat_id: int,
        *,
        latitude: float = 52.0907,
        longitude: float = 5.1214,
        language_code: str = "nl",
        first_name: str = "Test",
    ) -> int:
        """Queue a location message (defaults: Utrecht)."""
        location = {"latitude": latitude, "longitude": longitude}
        return self._user_message(
            chat_id,
            {"location": location},
            f"<location {latitude},{longitude}>",
            language_code,
            first_name,
        )

    def press_button(
        self, chat_id: int, callback_data: str, *, message_id: int | None = None
    ) -> int:
        """Queue a callback_query for a button the bot actually shows; returns the update_id.

        Without ``message_id`` the newest bot message whose *current* inline keyboard has a
        button with this ``callback_data`` is used.  Raises AssertionError if there is none,
        so tests cannot press buttons the bot never offered (or already removed).
        """
        with self._cond:
            chat = self._chats.get(chat_id)
            stored = self._find_keyboard_message(
                chat, message_id, lambda b: b.get("callback_data") == callback_data
            )
            if chat is None or stored is None:
                where = f"message #{message_id}" if message_id is not None else "any keyboard"
                raise AssertionError(
                    f"No button with callback_data={callback_data!r} in {where} of chat "
                    f"{chat_id}.\n{self._transcript_locked(chat_id)}"
                )
            return self._queue_callback(chat, stored, callback_data)

    def press_forged(self, chat_id: int, callback_data: str) -> int:
        """Queue a callback_query with any data on the newest bot message, as a modified client
        (or a button of an old message) can send it; returns the update_id."""
        with self._cond:
            chat = self._chats[chat_id]
            stored = next(m for _, m in sorted(chat.messages.items(), reverse=True) if m.from_bot)
            return self._queue_callback(chat, stored, callback_data)

    def press_button_text(
        self, chat_id: int, label_substring: str, *, message_id: int | None = None
    ) -> int:
        """Like :meth:`press_button` but finds the button by (part of) its visible label."""
        with self._cond:
            chat = self._chats.get(chat_id)
            stored = self._find_keyboard_message(
                chat,
                message_id,
                lambda b: "callback_data" in b and label_substring in b.get("text", ""),
            )
            if chat is None or stored is None:
                raise AssertionError(
                    f"No callback button whose label contains {label_substring!r} in chat "
                    f"{chat_id}.\n{self._transcript_locked(chat_id)}"
                )
            for text, data in self._buttons_with_data(stored.data):
                if label_substring in text:
                    return self._queue_callback(chat, stored, data)
            raise AssertionError("unreachable")  # pragma: no cover

    def send_group_text(
        self, group_id: int, user_id: int, text: str, *, title: str = "Buurtapp"
    ) -> int:
        """Queue a text message from user `user_id` in the group `group_id` (a negative id,
        as in Telegram), which the bot is then a member of; returns the update_id."""
        with self._cond:
            group = self._chats.get(group_id)
            if group is None:
                user = {"id": user_id, "is_bot": False, "first_name": "Test"}
                group = self._chats[group_id] = _Chat(chat_id=group_id, user=user, title=title)
            group.member = True
            message_id = group.next_message_id
            group.next_message_id += 1
            sender = {"id": user_id, "is_bot": False, "first_name": "Test", "language_code": "nl"}
            message = {
                "message_id": message_id,
                "from": sender,
                "chat": group.chat,
                "date": int(time.time()),
                "text": text,
            }
            group.messages[message_id] = _StoredMessage(
                data=message, from_bot=False, raw_text=text, kind="text"
            )
            group.events.append(f"[{message_id}] {user_id}: {text}")
            return self._queue({"message": copy.deepcopy(message)})

    def edit_user_message(self, chat_id: int, message_id: int, text: str) -> int:
        """The user edits an earlier text message of theirs: Telegram sends the whole message
        again as an `edited_message` with an edit_date; returns the update_id."""
        with self._cond:
            stored = self._chats[chat_id].messages[message_id]
            if stored.from_bot or stored.kind != "text":
                raise ValueError(f"message {message_id} is not a text the user sent")
            stored.data = {**stored.data, "text": text, "edit_date": int(time.time())}
            stored.data.pop("entities", None)
            stored.raw_text = text
            self._chats[chat_id].events.append(f"[{message_id}] user edited: {text}")
            return self._queue({"edited_message": copy.deepcopy(stored.data)})

    def send_raw_update(self, update: JSON) -> int:
        """Escape hatch: queue any update payload (without update_id); returns the update_id."""
        with self._cond:
            return self._queue(copy.deepcopy(update))

    def block_bot(self, chat_id: int, blocked: bool = True) -> None:
        """Simulate the user blocking the bot: sends to the chat fail with 403 Forbidden.

        The next message or button press from the user unblocks again.
        """
        with self._cond:
            self._chat(chat_id).blocked = blocked

    # ---- inspection ----------------------------------------------------------------------------

    def bot_messages(self, chat_id: int) -> list[JSON]:
        """Everything the bot sent or edited in this chat, in order.

        Each entry: ``index``, ``method``, ``chat_id``, ``message_id``, ``text`` (as sent,
        markup included; captions for media; for editMessageReplyMarkup the current text),
        ``plain_text`` (what the user sees), ``parse_mode``, ``reply_markup`` (dict or None),
        ``kind`` ("text", "photo", ...) and the full decoded ``params``.
        """
        with self._cond:
            chat = self._chats.get(chat_id)
            return copy.deepcopy(chat.bot_log) if chat else []

    def bot_message_count(self, chat_id: int) -> int:
        """Number of recorded bot messages; pass it as ``after=`` to :meth:`wait_for_reply`."""
        with self._cond:
            chat = self._chats.get(chat_id)
            return len(chat.bot_log) if chat else 0

    def last_bot_message(self, chat_id: int) -> JSON | None:
        """The most recent bot message/edit recorded for the chat, or None."""
        messages = self.bot_messages(chat_id)
        return messages[-1] if messages else None

    def current_message(self, chat_id: int, message_id: int) -> JSON | None:
        """The message as it is now (after edits), Telegram-shaped; None if deleted/unknown."""
        with self._cond:
            chat = self._chats.get(chat_id)
            stored = chat.messages.get(message_id) if chat else None
            return copy.deepcopy(stored.data) if stored else None

    def calls(self, method: str | None = None) -> list[JSON]:
        """Recorded authorized API calls (``method``, ``params``, ``ok``, ``result``, ``error``,
        ``unknown``, ``time``); ``method`` filters case-insensitively."""
        with self._cond:
            found = [
                c for c in self._calls if method is None or c["method"].lower() == method.lower()
            ]
            return copy.deepcopy(found)

    def unknown_calls(self) -> list[JSON]:
        """Calls of methods this fake does not implement (answered with ``true``)."""
        return [c for c in self.calls() if c["unknown"]]

    def unauthorized_calls(self) -> list[JSON]:
        """Requests that used a wrong token (answered 401)."""
        with self._cond:
            return copy.deepcopy(self._unauthorized)

    def errors(self) -> list[JSON]:
        """Error answers given to the bot (``method``, ``error_code``, ``description``,
        ``params``), e.g. to assert that a flow produced none."""
        with self._cond:
            return copy.deepcopy(self._errors)

    def pending_updates(self) -> list[JSON]:
        """Updates the bot has not confirmed yet (via getUpdates offset)."""
        with self._cond:
            return copy.deepcopy(self._pending)

    def update(self, update_id: int) -> JSON:
        """A queued update by id (e.g. to read the callback_query id of a press)."""
        with self._cond:
            return copy.deepcopy(self._all_updates[update_id])

    def my_commands(self, *, scope: JSON | None = None, language_code: str = "") -> list[JSON]:
        """Commands registered via setMyCommands for this scope/language."""
        with self._cond:
            return copy.deepcopy(self._commands.get(self._commands_key(scope, language_code), []))

    @staticmethod
    def buttons(message: JSON) -> list[tuple[str, str]]:
        """``(text, callback_data)`` of every inline button of a recorded bot message (or a
        Telegram-shaped message), row by row; URL buttons give their url instead."""
        markup = message.get("reply_markup") or {}
        return [
            (button.get("text", ""), str(button.get("callback_data") or button.get("url") or ""))
            for row in markup.get("inline_keyboard", [])
            for button in row
        ]

    def transcript(self, chat_id: int) -> str:
        """Readable dump of the conversation for assertion messages."""
        with self._cond:
            return self._transcript_locked(chat_id)

    # ---- waiting -------------------------------------------------------------------------------

    def wait_for_reply(
        self, chat_id: int, *, after: int, timeout: float = 15.0, count: int = 1
    ) -> list[JSON]:
        """Block until at least ``count`` bot messages with index >= ``after`` exist; returns
        all of them.  Raises AssertionError (with the transcript) on timeout."""
        with self._cond:
            ok = self._cond.wait_for(
                lambda: self._bot_log_len(chat_id) >= after + count or self._closed, timeout
            )
            if not ok or self._bot_log_len(chat_id) < after + count:
                raise AssertionError(
                    f"Expected {count} new bot message(s) in chat {chat_id} after #{after} "
                    f"within {timeout}s, got {max(0, self._bot_log_len(chat_id) - after)}.\n"
                    f"{self._transcript_locked(chat_id)}"
                )
            return copy.deepcopy(self._chats[chat_id].bot_log[after:])

    def wait_for_call(
        self,
        method: str,
        where: Callable[[JSON], bool] | None = None,
        *,
        timeout: float = 5.0,
    ) -> JSON:
        """Block until a call of ``method`` (matching ``where(call)``) has been answered."""

        def find() -> JSON | None:
            for call in self._calls:
                if (
                    call["method"].lower() == method.lower()
                    and call["ok"] is not None
                    and (where is None or where(call))
                ):
                    return call
            return None

        with self._cond:
            if not self._cond.wait_for(lambda: find() is not None, timeout):
                seen = sorted({c["method"] for c in self._calls})
                raise AssertionError(f"No matching {method} call within {timeout}s; seen: {seen}")
            return copy.deepcopy(cast(JSON, find()))

    def wait_until_polling(self, timeout: float = 30.0) -> None:
        """Block until the bot has started long polling (its first getUpdates arrived).

        Send test updates only after this when the bot starts with
        ``drop_pending_updates=True``: like Telegram, that drops everything queued earlier.
        """
        with self._cond:
            started = self._cond.wait_for(
                lambda: any(c["method"].lower() == "getupdates" for c in self._calls), timeout
            )
            if not started:
                seen = sorted({c["method"] for c in self._calls})
                raise AssertionError(
                    f"The bot did not start polling within {timeout}s; calls seen: {seen}"
                )

    def ask(
        self,
        chat_id: int,
        text: str,
        *,
        timeout: float = 15.0,
        settle: float = 0.3,
        language_code: str = "nl",
        first_name: str = "Test",
    ) -> list[JSON]:
        """Send a text and return every bot message that follows, until ``settle`` seconds
        pass without a new one (at least one is required within ``timeout``)."""
        start = self.bot_message_count(chat_id)
        update_id = self.send_text(
            chat_id, text, language_code=language_code, first_name=first_name
        )
        return self._collect(chat_id, start, update_id, timeout, settle, _any_entry)

    def click(
        self,
        chat_id: int,
        callback_data: str,
        *,
        message_id: int | None = None,
        timeout: float = 15.0,
        settle: float = 0.3,
        expect_message: bool = True,
    ) -> list[JSON]:
        """Press a button (see :meth:`press_button`) and collect the bot's messages/edits like
        :meth:`ask`.

        Merely removing the pressed keyboard (editMessageReplyMarkup without markup) does not
        count as the awaited reply: bots do that first and answer after slower work, which a
        short ``settle`` would otherwise cut off.  It is still included in the result.  With
        ``expect_message=False`` it only waits until the bot fetched the press and then
        settles, for buttons that merely answer the callback query.
        """
        start = self.bot_message_count(chat_id)
        update_id = self.press_button(chat_id, callback_data, message_id=message_id)
        return self._collect(
            chat_id, start, update_id, timeout, settle, _is_reply if expect_message else None
        )

    def click_text(
        self,
        chat_id: int,
        label_substring: str,
        *,
        timeout: float = 15.0,
        settle: float = 0.3,
        expect_message: bool = True,
    ) -> list[JSON]:
        """:meth:`click` by visible button label."""
        start = self.bot_message_count(chat_id)
        update_id = self.press_button_text(chat_id, label_substring)
        return self._collect(
            chat_id, start, update_id, timeout, settle, _is_reply if expect_message else None
        )

    # ---- internals: state helpers (call with the lock held) ------------------------------------

    def _bot_log_len(self, chat_id: int) -> int:
        chat = self._chats.get(chat_id)
        return len(chat.bot_log) if chat else 0

    def _collect(
        self,
        chat_id: int,
        start: int,
        update_id: int,
        timeout: float,
        settle: float,
        awaited: Callable[[JSON], bool] | None,
    ) -> list[JSON]:
        """Wait for a first entry satisfying ``awaited`` (or, if None, for the bot to fetch
        the update), then until ``settle`` s pass without new entries.

        The whole exchange is bounded by ``timeout`` so a bot stuck in a message loop fails
        the test instead of hanging it.
        """
        deadline = time.monotonic() + timeout

        def new_entries() -> list[JSON]:
            chat = self._chats.get(chat_id)
            return chat.bot_log[start:] if chat else []

        with self._cond:
            if awaited is None:
                ready = self._cond.wait_for(lambda: update_id in self._delivered, timeout)
                problem = f"The bot did not fetch update {update_id} within {timeout}s."
            else:
                ready = self._cond.wait_for(
                    lambda: self._closed or any(awaited(e) for e in new_entries()), timeout
                ) and any(awaited(e) for e in new_entries())
                problem = (
                    f"Expected a bot reply in chat {chat_id} after #{start} within {timeout}s, "
                    f"got {len(new_entries())} message(s)/edit(s)."
                )
            if not ready:
                raise AssertionError(f"{problem}\n{self._transcript_locked(chat_id)}")
            while True:
                seen = self._bot_log_len(chat_id)
                self._cond.wait_for(lambda seen=seen: self._bot_log_len(chat_id) > seen, settle)
                if self._bot_log_len(chat_id) == seen or self._closed:
                    break
                if time.monotonic() > deadline:
                    raise AssertionError(
                        f"The bot was still sending messages to chat {chat_id} after "
                        f"{timeout}s (message loop?).\n{self._transcript_locked(chat_id)}"
                    )
            return copy.deepcopy(new_entries())

    def _next(self) -> int:
        self._counter += 1
        return self._counter

    def _chat(self, chat_id: int) -> _Chat:
        chat = self._chats.get(chat_id)
        if chat is None:
            user = {"id": chat_id, "is_bot": False, "first_name": "Test", "language_code": "nl"}
            chat = self._chats[chat_id] = _Chat(chat_id=chat_id, user=user)
        return chat

    def _queue(self, update: JSON) -> int:
        update_id = self._next_update_id
        self._next_update_id += 1
        update = {"update_id": update_id, **update}
        self._pending.append(update)
        self._all_updates[update_id] = update
        self._cond.notify_all()
        return update_id

    def _user_message(
        self, chat_id: int, extra: JSON, summary: str, language_code: str, first_name: str
    ) -> int:
        with self._cond:
            chat = self._chat(chat_id)
            chat.user = {
                "id": chat_id,
                "is_bot": False,
                "first_name": first_name,
                "language_code": language_code,
            }
            chat.blocked = False
            message_id = chat.next_message_id
            chat.next_message_id += 1
            message = {
                "message_id": message_id,
                "from": dict(chat.user),
                "chat": chat.chat,
                "date": int(time.time()),
                **extra,
            }
            chat.messages[message_id] = _StoredMessage(
                data=message,
                from_bot=False,
                raw_text=extra.get("text"),
                kind=next((k for k in extra if k not in ("caption", "entities")), "text"),
            )
            update_id = self._queue({"message": copy.deepcopy(message)})
            chat.events.append(f"[{message_id}] user: {summary}")
            return update_id

    def _find_keyboard_message(
        self,
        chat: _Chat | None,
        message_id: int | None,
        matches: Callable[[JSON], bool],
    ) -> _StoredMessage | None:
        if chat is None:
            return None
        ids = [message_id] if message_id is not None else sorted(chat.messages, reverse=True)
        for mid in ids:
            stored = chat.messages.get(mid)
            if stored is None or not stored.from_bot:
                continue
            markup = stored.data.get("reply_markup") or {}
            if any(matches(b) for row in markup.get("inline_keyboard", []) for b in row):
                return stored
        return None

    @staticmethod
    def _buttons_with_data(message: JSON) -> list[tuple[str, str]]:
        markup = message.get("reply_markup") or {}
        return [
            (b.get("text", ""), b["callback_data"])
            for row in markup.get("inline_keyboard", [])
            for b in row
            if "callback_data" in b
        ]

    def _queue_callback(self, chat: _Chat, stored: _StoredMessage, data: str) -> int:
        query_id = str(4_000_000_000_000_000_000 + self._next())
        chat.blocked = False
        self._callback_queries[query_id] = {"chat_id": chat.chat_id, "answered": False}
        label = next((t for t, d in self._buttons_with_data(stored.data) if d == data), "?")
        chat.events.append(f"      user pressed [{label}] ({data}) on #{stored.data['message_id']}")
        return self._queue(
            {
                "callback_query": {
                    "id": query_id,
                    "from": dict(chat.user),
                    "message": copy.deepcopy(stored.data),
                    "chat_instance": str(-1_000_000_000_000 - abs(chat.chat_id)),
                    "data": data,
                }
            }
        )

    def _register_file(
        self, folder: str, content: bytes, mime_type: str, suffix: str
    ) -> _StoredFile:
        """Store file bytes so getFile and /file/bot<token>/<path> can serve them."""
        with self._cond:  # also called from the test thread (send_photo & co.)
            n = self._next()
            stored = _StoredFile(
                file_id=f"AgACAgQAAxkBAAI{n:06d}FakeFileId",
                file_unique_id=f"AQAD{n:06d}",
                file_path=f"{folder}/file_{n}{suffix}",
                content=content,
                mime_type=mime_type,
            )
            self._files[stored.file_id] = stored
            self._files_by_path[stored.file_path] = stored
            return stored

    def _photo_sizes(self, width: int, height: int, content: bytes | None) -> list[JSON]:
        data = content if content is not None else b"\xff\xd8\xff\xe0fake-jpeg\xff\xd9"
        sizes = []
        for limit in (90, 320, max(width, height)):
            scale = min(1.0, limit / max(width, height))
            w, h = max(1, round(width * scale)), max(1, round(height * scale))
            stored = self._register_file("photos", data, "image/jpeg", ".jpg")
            sizes.append(
                {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "width": w,
                    "height": h,
                    "file_size": len(data),
                }
            )
        return sizes

    def _transcript_locked(self, chat_id: int) -> str:
        chat = self._chats.get(chat_id)
        if chat is None or not chat.events:
            return f"--- chat {chat_id}: (no messages) ---"
        events = chat.events[-_TRANSCRIPT_LIMIT:]
        skipped = len(chat.events) - len(events)
        header = f"--- chat {chat_id}" + (f" ({skipped} earlier lines omitted)" if skipped else "")
        return "\n".join([f"{header} ---", *events, "---"])

    @staticmethod
    def _commands_key(scope: Any, language_code: Any) -> tuple[str, str]:
        scope_key = json.dumps(scope or {"type": "default"}, sort_keys=True)
        return scope_key, str(language_code or "")

    # ---- internals: HTTP entry point -----------------------------------------------------------

    def _handle_http(
        self,
        path: str,
        query: str,
        content_type: str,
        body: bytes,
        client_gone: Callable[[], bool],
    ) -> tuple[int, bytes, str] | None:
        """Route one request; returns (status, body, content type) or None to hang up."""
        file_match = _FILE_PATH_RE.match(path)
        if file_match:
            return self._serve_file(file_match["token"], file_match["path"])
        match = _API_PATH_RE.match(path)
        if match is None:
            return self._error_response(404, "Not Found")
        method = match["method"]
        if match["token"] != self.token:
            with self._cond:
                self._unauthorized.append({"method": method, "token": match["token"]})
            return self._error_response(401, "Unauthorized")
        call: JSON = {
            "method": method,
            "params": {},
            "ok": None,
            "result": None,
            "error": None,
            "unknown": method.lower() not in self._methods,
            "time": time.time(),
        }
        with self._cond:
            try:
                params, uploads = decode_params(content_type, body, query)
                call["params"] = params
                self._calls.append(call)
                handler = self._methods.get(method.lower())
                result = True if handler is None else handler(params, uploads, client_gone)
            except _Abandoned:
                call["error"] = "client hung up"
                self._calls.remove(call)  # never answered: not an observable call
                return None
            except ApiError as exc:
                self._record_error(call, exc.code, exc.description)
                return self._error_response(exc.code, exc.description)
            except Exception as exc:  # a bug in the fake: make it loud on the bot side too
                description = f"Internal Server Error: fake Telegram failed: {exc!r}"
                self._record_error(call, 500, description)
                return self._error_response(500, description)
            call["ok"] = True
            call["result"] = copy.deepcopy(result)
            self._cond.notify_all()
        return 200, json.dumps({"ok": True, "result": result}).encode("utf-8"), "application/json"

    def _record_error(self, call: JSON, code: int, description: str) -> None:
        if call not in self._calls:
            self._calls.append(call)
        call["ok"] = False
        call["error"] = f"{code} {description}"
        params = call["params"]
        self._errors.append(
            {
                "method": call["method"],
                "error_code": code,
                "description": description,
                "params": copy.deepcopy(params),
            }
        )
        chat_id = params.get("chat_id") if isinstance(params, dict) else None
        if isinstance(chat_id, int) and chat_id in self._chats:
            self._chats[chat_id].events.append(
                f"      !! bot {call['method']} failed: {code} {description}"
            )
        self._cond.notify_all()

    @staticmethod
    def _error_response(code: int, description: str) -> tuple[int, bytes, str]:
        payload = {"ok": False, "error_code": code, "description": description}
        return code, json.dumps(payload).encode("utf-8"), "application/json"

    def _serve_file(self, token: str, file_path: str) -> tuple[int, bytes, str]:
        if token != self.token:
            return self._error_response(401, "Unauthorized")
        with self._cond:
            stored = self._files_by_path.get(file_path)
        if stored is None:
            return self._error_response(404, "Not Found")
        return int(HTTPStatus.OK), stored.content, stored.mime_type

    # ---- internals: Bot API methods (called with the lock held) --------------------------------

    def _api_delete_webhook(self, params: JSON, uploads: dict[str, bytes], gone: Any) -> bool:
        if params.get("drop_pending_updates"):
            self._pending.clear()
        return True

    def _api_get_webhook_info(self, params: JSON, uploads: dict[str, bytes], gone: Any) -> JSON:
        return {
            "url": "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }

    def _api_get_updates(
        self, params: JSON, uploads: dict[str, bytes], client_gone: Callable[[], bool]
    ) -> list[JSON]:
        """Long poll: block up to ``timeout`` s for updates; ``offset`` confirms earlier ones."""
        offset = int(params.get("offset") or 0)
        limit = max(1, min(100, int(params.get("limit") or 100)))
        deadline = time.monotonic() + max(0.0, float(params.get("timeout") or 0))
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = set(allowed) or None
        if offset > 0:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
        elif offset < 0:
            self._pending = self._pending[offset:]
        # Like Telegram, a newer getUpdates terminates an older one that is still waiting.
        self._poll_generation += 1
        generation = self._poll_generation
        self._cond.notify_all()
        while True:
            if self._closed:
                return []
            if generation != self._poll_generation:
                if client_gone():  # PTB cancelled this poll itself (e.g. on shutdown)
                    raise _Abandoned
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one "
                    "bot instance is running",
                )
            self._pending = [u for u in self._pending if self._is_allowed(u)]
            batch = self._pending[:limit]
            remaining = deadline - time.monotonic()
            if batch or remaining <= 0:
                self._delivered.update(u["update_id"] for u in batch)
                return copy.deepcopy(batch)
            self._cond.wait(min(remaining, 0.2))
            if client_gone():
                raise _Abandoned

    def _is_allowed(self, update: JSON) -> bool:
        kind = next(k for k in update if k != "update_id")
        if self._allowed_updates is None:
            return kind not in _DEFAULT_EXCLUDED_UPDATES
        return kind in self._allowed_updates

    def _api_set_my_commands(self, params: JSON, uploads: dict[str, bytes], gone: Any) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise ApiError(400, 'Bad Request: parameter "commands" is required')
        for command in commands:
            name = command.get("command", "") if isinstance(command, dict) else ""
            if not re.fullmatch(r"[a-z0-9_]{1,32}", name):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(command.get("description", "")) <= 256:
                raise ApiError(400, "Bad Request: command description is empty or too long")
        key = self._commands_key(params.get("scope"), params.get("language_code"))
        self._commands[key] = commands
        return True

    def _api_get_my_commands(
        self, params: JSON, uploads: dict[str, bytes], gone: Any
    ) -> list[JSON]:
        key = self._commands_key(params.get("scope"), params.get("language_code"))
        return copy.deepcopy(self._commands.get(key, []))

    def _api_delete_my_commands(self, params: JSON, uploads: dict[str, bytes], gone: Any) -> bool:
        self._commands.pop(
            self._commands_key(params.get("scope"), params.get("language_code")), None
        )
        return True

    def _target_chat(self, params: JSON) -> _Chat:
        """The chat the bot wants to post to, failing like Telegram for unknown/blocked users."""
        chat = self._chats.get(_int_param(params, "chat_id"))
        if chat is None:
            raise ApiError(400, "Bad Request: chat not found")
        if chat.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if not chat.member:
            raise ApiError(403, "Forbidden: bot is not a member of the group chat")
        return chat

    def _checked_text(self, params: JSON, name: str, limit: int) -> tuple[str, str]:
        raw = params.get(name)
        if not isinstance(raw, str) or not raw.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        plain = _render_text(raw, params.get("parse_mode"))
        if not plain:
            raise ApiError(400, "Bad Request: message text is empty")
        if _utf16_len(plain) > limit:
            what = "message caption" if name == "caption" else "message"
            raise ApiError(400, f"Bad Request: {what} is too long")
        return raw, plain

    def _new_bot_message(
        self, chat: _Chat, content: JSON, markup: JSON | None, params: JSON
    ) -> JSON:
        message_id = chat.next_message_id
        chat.next_message_id += 1
        message: JSON = {
            "message_id": message_id,
            "from": dict(self.bot_user),
            "chat": chat.chat,
            "date": int(time.time()),
            **content,
        }
        reply_to = (params.get("reply_parameters") or {}).get("message_id") or params.get(
            "reply_to_message_id"
        )
        if reply_to in chat.messages:
            message["reply_to_message"] = copy.deepcopy(chat.messages[reply_to].data)
            message["reply_to_message"].pop("reply_to_message", None)
        if _inline_markup(markup):
            message["reply_markup"] = markup
        return message

    def _log_bot(
        self,
        chat: _Chat,
        method: str,
        stored: _StoredMessage,
        params: JSON,
        reply_markup: JSON | None,
    ) -> None:
        data = stored.data
        plain = data.get("text", data.get("caption", ""))
        entry = {
            "index": len(chat.bot_log),
            "method": method,
            "chat_id": chat.chat_id,
            "message_id": data["message_id"],
            "text": stored.raw_text or "",
            "plain_text": plain,
            "parse_mode": params.get("parse_mode"),
            "reply_markup": copy.deepcopy(reply_markup),
            "kind": stored.kind,
            "params": copy.deepcopy(params),
        }
        chat.bot_log.append(entry)
        verb = "bot" if method.startswith("send") else f"bot {method}"
        shown = stored.raw_text if stored.raw_text else f"<{stored.kind}>"
        if method == "editMessageReplyMarkup":
            shown = "(keyboard replaced)" if reply_markup else "(keyboard removed)"
        line = f"[{data['message_id']}] {verb}: {shown}"
        buttons = self.buttons({"reply_markup": reply_markup or {}})
        if buttons:
            line += "\n      buttons: " + " ".join(f"[{t} -> {d}]" for t, d in buttons)
        elif reply_markup and "keyboard" in reply_markup:
            labels = [
                b if isinstance(b, str) else b.get("text", "")
                for row in reply_markup["keyboard"]
                for b in row
            ]
            line += "\n      reply keyboard: " + " ".join(f"[{label}]" for label in labels)
        chat.events.append(line)
        self._cond.notify_all()

    def _api_send_message(self, params: JSON, uploads: dict[str, bytes], gone: Any) -> JSON:
        chat = self._target_chat(params)
        raw, plain = self._checked_text(params, "text", 4096)
        markup = _check_reply_markup(params.get("reply_markup"))
        message = self._new_bot_message(chat, {"text": plain}, markup, params)
        stored = _StoredMessage(data=message, from_bot=True, raw_text=raw)
        chat.messages[message["message_id"]] = stored
        self._log_bot(chat, "sendMessage", stored, params, markup)
        return copy.deepcopy(message)

    def _edit_target(self, params: JSON) -> tuple[_Chat, _StoredMessage] | None:
        if "chat_id" not in params and "inline_message_id" in params:
            return None  # inline messages are not modelled; Telegram answers True
        chat = self._chats.get(_int_param(params, "chat_id"))
        if chat is None:
            raise ApiError(400, "Bad Request: chat not found")
        stored = chat.messages.get(_int_param(params, "message_id"))
        if stored is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        if not stored.from_bot:
            raise ApiError(400, "Bad Request: message can't be edited")
        return chat, stored

    def _apply_edit(
        self,
        chat: _Chat,
        stored: _StoredMessage,
        method: str,
        params: JSON,
        changes: JSON,
        raw_text: str | None,
        markup: JSON | None,
    ) -> JSON:
        new_markup = _inline_markup(markup)
        same_text = raw_text == stored.raw_text and all(
            stored.data.get(k) == v for k, v in changes.items()
        )
        if same_text and new_markup == stored.data.get("reply_markup"):
            raise ApiError(400, _NOT_MODIFIED)
        data = {**stored.data, **changes, "edit_date": int(time.time())}
        data = {k: v for k, v in data.items() if v is not None and k != "reply_markup"}
        if new_markup:
            data["reply_markup"] = new_markup
        stored.data = data
        stored.raw_text = raw_text
        self._log_bot(chat, method, stored, params, new_markup)
        return copy.deepcopy(data)

    def _api_edit_message_text(self, params: JSON, uploads: dict[str, bytes], gone: Any) -> Any:
        target = self._edit_target(params)
        raw, plain = self._checked_text(params, "text", 4096)
        markup = _check_reply_markup(params.get("reply_markup"))
        if target is None:
            return True
        chat, stored = target
        if stored.kind != "text":
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        return self._apply_edit(
            chat, stored, "editMessageText", params, {"text": plain}, raw, markup
        )

    def _api_edit_message_caption(self, params: JSON, uploads: dict[str, bytes], gone: Any) -> Any:
        target = self._edit_target(params)
        markup = _check_reply_markup(params.get("reply_markup"))
        if target is None:
            return True
        chat, stored = target
        if stored.kind == "text":
            raise ApiError(400, "Bad Request: there is no caption in the message to edit")
        raw: str | None = params.get("caption") or None
        plain = self._checked_text(params, "caption", 1024)[1] if raw else None
        return self._apply_edit(
            chat, stored, "editMessageCaption", params, {"caption": plain}, raw, markup
        )

    def _api_edit_message_reply_markup(
        self, params: JSON, uploads: dict[str, bytes], gone: Any
    ) -> Any:
        target = self._edit_target(params)
        markup = _check_reply_markup(params.get("reply_markup"))
        if target is None:
            return True
        chat, stored = target
        return self._apply_edit(
            chat, stored, "editMessageReplyMarkup", params, {}, stored.raw_text, markup
        )

    def _api_delete_message(self, params: JSON, uploads: dict[str, bytes], gone: Any) -> bool:
        chat = self._chats.get(_int_param(params, "chat_id"))
        message_id = _int_param(params, "message_id")
        if chat is None or message_id not in chat.messages:
            raise ApiError(400, "Bad Request: message to delete not found")
        del chat.messages[message_id]
        chat.events.append(f"      bot deleted message #{message_id}")
        self._cond.notify_all()
        return True

    def _api_answer_callback_query(
        self, params: JSON, uploads: dict[str, bytes], gone: Any
    ) -> bool:
        query = self._callback_queries.get(str(params.get("callback_query_id")))
        if query is None or query["answered"]:
            raise ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        query["answered"] = True
        chat = self._chats.get(query["chat_id"])
        if chat is not None and (params.get("text") or params.get("url")):
            style = "alert" if params.get("show_alert") else "toast"
            chat.events.append(f"      bot answered callback ({style}): {params.get('text', '')}")
        return True

    def _api_send_chat_action(self, params: JSON, uploads: dict[str, bytes], gone: Any) -> bool:
        self._target_chat(params)
        if not params.get("action"):
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        return True

    def _api_leave_chat(self, params: JSON, uploads: dict[str, bytes], gone: Any) -> bool:
        chat = self._target_chat(params)
        if chat.title is None:
            raise ApiError(400, "Bad Request: chat member status can't be changed in private chats")
        chat.member = False
        chat.events.append("bot left the group")
        return True

    def _api_get_chat(self, params: JSON, uploads: dict[str, bytes], gone: Any) -> JSON:
        chat = self._chats.get(_int_param(params, "chat_id"))
        if chat is None:
            raise ApiError(400, "Bad Request: chat not found")
        return {
            **chat.chat,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": True,
                "limited_gifts": True,
                "unique_gifts": True,
                "premium_subscription": True,
                "gifts_from_channels": True,
            },
        }

    def _api_get_file(self, params: JSON, uploads: dict[str, bytes], gone: Any) -> JSON:
        stored = self._files.get(str(params.get("file_id")))
        if stored is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.content),
            "file_path": stored.file_path,
        }

    def _api_send_location(self, params: JSON, uploads: dict[str, bytes], gone: Any) -> JSON:
        chat = self._target_chat(params)
        try:
            location = {
                "latitude": float(params["latitude"]),
                "longitude": float(params["longitude"]),
            }
        except (KeyError, TypeError, ValueError) as exc:
            raise ApiError(400, "Bad Request: wrong latitude or longitude") from exc
        markup = _check_reply_markup(params.get("reply_markup"))
        message = self._new_bot_message(chat, {"location": location}, markup, params)
        stored = _StoredMessage(data=message, from_bot=True, kind="location")
        chat.messages[message["message_id"]] = stored
        self._log_bot(chat, "sendLocation", stored, params, markup)
        return copy.deepcopy(message)

    def _media_sender(
        self, kind: str
    ) -> Callable[[JSON, dict[str, bytes], Callable[[], bool]], JSON]:
        """Build the handler for sendPhoto/sendDocument/... (upload, file_id or URL)."""

        def send(params: JSON, uploads: dict[str, bytes], gone: Any) -> JSON:
            chat = self._target_chat(params)
            source = params.get(kind)
            if kind in uploads:
                meta = cast(JSON, source)
                stored_file = self._register_file(kind, uploads[kind], meta["content_type"], "")
                file_name = meta["filename"]
            elif isinstance(source, str) and source.startswith(("http://", "https://")):
                stored_file = self._register_file(
                    kind, b"downloaded", "application/octet-stream", ""
                )
                file_name = source.rsplit("/", 1)[-1]
            elif isinstance(source, str) and source in self._files:
                stored_file = self._files[source]
                file_name = stored_file.file_path.rsplit("/", 1)[-1]
            else:
                raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
            ref = {
                "file_id": stored_file.file_id,
                "file_unique_id": stored_file.file_unique_id,
                "file_size": len(stored_file.content),
            }
            media: Any
            if kind == "photo":
                media = [{**ref, "width": 800, "height": 600}]
            elif kind == "sticker":
                media = {
                    **ref,
                    "type": "regular",
                    "width": 512,
                    "height": 512,
                    "is_animated": False,
                    "is_video": False,
                }
            elif kind == "document":
                media = {**ref, "file_name": file_name, "mime_type": stored_file.mime_type}
            elif kind in ("video", "animation"):
                media = {
                    **ref,
                    "width": 640,
                    "height": 360,
                    "duration": int(params.get("duration") or 1),
                }
            else:  # voice, audio
                media = {**ref, "duration": int(params.get("duration") or 1)}
            content: JSON = {kind: media}
            raw: str | None = None
            if params.get("caption") and kind != "sticker":
                raw, content["caption"] = self._checked_text(params, "caption", 1024)
            markup = _check_reply_markup(params.get("reply_markup"))
            message = self._new_bot_message(chat, content, markup, params)
            stored = _StoredMessage(data=message, from_bot=True, raw_text=raw, kind=kind)
            chat.messages[message["message_id"]] = stored
            self._log_bot(chat, f"send{kind.capitalize()}", stored, params, markup)
            return copy.deepcopy(message)

        return send

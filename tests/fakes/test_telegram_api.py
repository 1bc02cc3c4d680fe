"""Self-test of the fake Telegram Bot API against a real python-telegram-bot 22 Application.

The e2e tests trust FakeTelegram to behave like Telegram towards PTB; these tests prove that
with real PTB objects (``Application``, ``Bot``) talking HTTP to the fake, both in-process and
as a separate ``run_polling`` process like the real bot.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Forbidden, InvalidToken
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tests.fakes.telegram_api import FakeTelegram

TOKEN = "123456:TEST-TOKEN"
CHAT = 4242


@pytest.fixture
def tg() -> Iterator[FakeTelegram]:
    with FakeTelegram(token=TOKEN) as fake:
        yield fake


class _ErrorRecords(logging.Handler):
    """Collects PTB log records >= ERROR (e.g. an update the fake shaped wrongly)."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _bot(tg: FakeTelegram, token: str | None = None) -> Bot:
    return Bot(
        token or tg.token,
        base_url=f"{tg.base_url}/bot",
        base_file_url=f"{tg.base_url}/file/bot",
    )


@contextlib.contextmanager
def running_bot(tg: FakeTelegram, setup: Callable[[Application], None]) -> Iterator[Application]:
    """Run a real PTB Application in its own thread and event loop, as the bot process would.

    The test thread stays free for the fake's blocking helpers (ask, click, wait_for_reply).
    Fails the test if a handler raised or PTB logged an error.
    """
    app = (
        Application.builder()
        .token(tg.token)
        .base_url(f"{tg.base_url}/bot")
        .base_file_url(f"{tg.base_url}/file/bot")
        .build()
    )
    setup(app)
    handler_errors: list[BaseException | None] = []

    async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        handler_errors.append(context.error)

    app.add_error_handler(on_error)
    log = _ErrorRecords()
    logging.getLogger("telegram").addHandler(log)
    ready = threading.Event()
    startup_failure: list[BaseException] = []
    loop_box: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []

    async def main() -> None:
        stop = asyncio.Event()
        loop_box.append((asyncio.get_running_loop(), stop))
        try:
            await app.initialize()
            await app.start()
            assert app.updater is not None
            await app.updater.start_polling(poll_interval=0, timeout=1)
        except BaseException as exc:
            startup_failure.append(exc)
            ready.set()
            return
        ready.set()
        await stop.wait()
        await app.updater.stop()
        await app.stop()
        await app.shutdown()

    thread = threading.Thread(target=lambda: asyncio.run(main()), name="ptb-bot", daemon=True)
    thread.start()
    try:
        assert ready.wait(15), "PTB application did not start"
        if startup_failure:
            raise startup_failure[0]
        yield app
    finally:
        if loop_box:
            loop, stop = loop_box[0]
            with contextlib.suppress(RuntimeError):  # loop already gone after a failed start
                loop.call_soon_threadsafe(stop.set)
        thread.join(20)
        logging.getLogger("telegram").removeHandler(log)
    assert not thread.is_alive(), "PTB application did not shut down"
    assert handler_errors == [], f"handler errors: {handler_errors!r}\n{tg.transcript(CHAT)}"
    assert log.records == [], [r.getMessage() for r in log.records]


# --------------------------------------------------------------------------------------------
# Conversations through a real PTB Application
# --------------------------------------------------------------------------------------------


def test_text_in_reply_out(tg: FakeTelegram) -> None:
    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        user = update.effective_user
        assert update.message is not None and user is not None
        await update.message.reply_text(
            f"echo: {update.message.text} ({user.language_code}, {user.first_name})"
        )

    def setup(app: Application) -> None:
        app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))

    with running_bot(tg, setup):
        replies = tg.ask(CHAT, "Hallo daar", language_code="en", first_name="Anna")
        second = tg.ask(CHAT, "123")

    assert [r["text"] for r in replies] == ["echo: Hallo daar (en, Anna)"]
    assert replies[0]["method"] == "sendMessage"
    assert replies[0]["message_id"] == 2  # message 1 was the user's
    assert [r["text"] for r in second] == ["echo: 123 (nl, Test)"]  # digits stay text
    assert tg.bot_messages(CHAT) == replies + second
    assert tg.calls("getMe") and tg.calls("getUpdates")
    assert tg.calls("getupdates")[0]["params"]["timeout"] == 1
    assert tg.pending_updates() == []  # PTB confirmed everything via offset on shutdown
    assert tg.errors() == []


def test_inline_keyboard_callback_and_edit(tg: FakeTelegram) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        keyboard = [
            [
                InlineKeyboardButton("Ja", callback_data="yes"),
                InlineKeyboardButton("Nee", callback_data="no"),
            ]
        ]
        await update.message.reply_text(
            "Wil je <b>doorgaan</b>?",
            parse_mode="HTML",
            reply_markup=InlineKeyboardMarkup(keyboard),
        )

    async def chosen(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None and query.message is not None
        await query.answer(f"gekozen: {query.data}")
        await query.edit_message_text(f"Je koos {query.data} op '{query.message.text}'")

    def setup(app: Application) -> None:
        app.add_handler(CommandHandler("start", start))
        app.add_handler(CallbackQueryHandler(chosen))

    with running_bot(tg, setup):
        tg.send_command(CHAT, "/start")
        (shown,) = tg.wait_for_reply(CHAT, after=0)
        assert shown["text"] == "Wil je <b>doorgaan</b>?"
        assert shown["plain_text"] == "Wil je doorgaan?"
        assert tg.buttons(shown) == [("Ja", "yes"), ("Nee", "no")]

        with pytest.raises(AssertionError, match="callback_data='maybe'"):
            tg.press_button(CHAT, "maybe")  # never shown

        update_id = tg.press_button(CHAT, "no")
        (edited,) = tg.wait_for_reply(CHAT, after=1)
        query_id = tg.update(update_id)["callback_query"]["id"]
        answer = tg.wait_for_call(
            "answerCallbackQuery", lambda c: c["params"]["callback_query_id"] == query_id
        )

    assert edited["method"] == "editMessageText"
    assert edited["message_id"] == shown["message_id"]
    # PTB saw the HTML-stripped text Telegram stores, in the callback's message.
    assert edited["text"] == "Je koos no op 'Wil je doorgaan?'"
    assert edited["reply_markup"] is None  # editing text without markup drops the keyboard
    assert answer["params"]["text"] == "gekozen: no"
    assert answer["ok"] is True
    current = tg.current_message(CHAT, shown["message_id"])
    assert current is not None and "reply_markup" not in current
    with pytest.raises(AssertionError, match="callback_data='yes'"):
        tg.press_button(CHAT, "yes")  # keyboard is gone now
    assert "user pressed [Nee] (no)" in tg.transcript(CHAT)


def test_press_button_text_edit_reply_markup_and_answer_only(tg: FakeTelegram) -> None:
    async def menu(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        keyboard = [
            [InlineKeyboardButton("🍕 Pizza", callback_data="food:pizza")],
            [InlineKeyboardButton("Soep", callback_data="food:soup")],
        ]
        await update.message.reply_text(
            "Wat wil je eten?", reply_markup=InlineKeyboardMarkup(keyboard)
        )

    async def food(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer()
        done = [[InlineKeyboardButton(f"✓ {query.data}", callback_data="done")]]
        await query.edit_message_reply_markup(InlineKeyboardMarkup(done))

    async def done(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.callback_query is not None
        await update.callback_query.answer("Klaar!", show_alert=True)

    def setup(app: Application) -> None:
        app.add_handler(CommandHandler("menu", menu))
        app.add_handler(CallbackQueryHandler(food, pattern=r"^food:"))
        app.add_handler(CallbackQueryHandler(done, pattern=r"^done$"))

    with running_bot(tg, setup):
        (shown,) = tg.ask(CHAT, "/menu")
        with pytest.raises(AssertionError, match="Frietjes"):
            tg.press_button_text(CHAT, "Frietjes")
        (edit,) = tg.click_text(CHAT, "Pizza")
        assert tg.click(CHAT, "done", expect_message=False) == []
        alert = tg.wait_for_call("answerCallbackQuery", lambda c: c["params"].get("show_alert"))

    assert edit["method"] == "editMessageReplyMarkup"
    assert edit["message_id"] == shown["message_id"]
    assert edit["text"] == "Wat wil je eten?"
    assert tg.buttons(edit) == [("✓ food:pizza", "done")]
    assert alert["params"]["text"] == "Klaar!"
    assert len(tg.calls("answerCallbackQuery")) == 2


def test_click_waits_past_keyboard_removal_for_the_real_reply(tg: FakeTelegram) -> None:
    """Wegwijs answers a press by first removing the keyboard, then replying after slower
    work (database, NLU); click() must not return after just the removal."""

    async def ask_rating(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        await update.message.reply_text(
            "Hoe tevreden ben je?",
            reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("Goed", callback_data="ok")]]),
        )

    async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer()
        await query.edit_message_reply_markup(reply_markup=None)
        await asyncio.sleep(0.8)  # longer than click()'s settle time
        await context.bot.send_message(CHAT, "Bedankt!")

    def setup(app: Application) -> None:
        app.add_handler(CommandHandler("start", ask_rating))
        app.add_handler(CallbackQueryHandler(on_button))

    with running_bot(tg, setup):
        tg.ask(CHAT, "/start")
        replies = tg.click(CHAT, "ok")

    assert [(r["method"], r["reply_markup"]) for r in replies] == [
        ("editMessageReplyMarkup", None),
        ("sendMessage", None),
    ]
    assert replies[-1]["text"] == "Bedankt!"


def test_media_updates_reach_their_handlers(tg: FakeTelegram) -> None:
    async def photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        largest = update.message.photo[-1]
        data = await (await largest.get_file()).download_as_bytearray()
        await update.message.reply_text(
            f"photo {largest.width}x{largest.height} {len(data)} bytes "
            f"caption={update.message.caption}"
        )

    async def sticker(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.sticker is not None
        await update.message.reply_text(f"sticker {update.message.sticker.emoji}")

    async def voice(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.voice is not None
        v = update.message.voice
        data = await (await v.get_file()).download_as_bytearray()
        seconds = v.to_dict()["duration"]  # attribute access warns about PTB's timedelta switch
        await update.message.reply_text(f"voice {seconds}s {v.mime_type} {bytes(data)!r}")

    async def document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.document is not None
        d = update.message.document
        await update.message.reply_text(f"document {d.file_name} {d.mime_type}")

    async def location(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.location is not None
        loc = update.message.location
        await update.message.reply_text(f"location {loc.latitude:.4f},{loc.longitude:.4f}")

    async def text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        await update.message.reply_text("text")

    def setup(app: Application) -> None:
        app.add_handler(MessageHandler(filters.PHOTO, photo))
        app.add_handler(MessageHandler(filters.Sticker.ALL, sticker))
        app.add_handler(MessageHandler(filters.VOICE, voice))
        app.add_handler(MessageHandler(filters.Document.ALL, document))
        app.add_handler(MessageHandler(filters.LOCATION, location))
        app.add_handler(MessageHandler(filters.TEXT, text))

    cases: list[tuple[Callable[[], int], str]] = [
        (
            lambda: tg.send_photo(CHAT, content=b"J" * 80, caption="gat"),
            "photo 1280x960 80 bytes caption=gat",
        ),
        (lambda: tg.send_sticker(CHAT, emoji="🎉"), "sticker 🎉"),
        (
            lambda: tg.send_voice(CHAT, duration=7, content=b"OggS-voice"),
            "voice 7s audio/ogg b'OggS-voice'",
        ),
        (
            lambda: tg.send_document(CHAT, file_name="brief.pdf"),
            "document brief.pdf application/pdf",
        ),
        (lambda: tg.send_location(CHAT, latitude=52.37, longitude=4.89), "location 52.3700,4.8900"),
    ]
    with running_bot(tg, setup):
        for send, expected in cases:
            before = tg.bot_message_count(CHAT)
            send()
            replies = tg.wait_for_reply(CHAT, after=before)
            assert [r["text"] for r in replies] == [expected], tg.transcript(CHAT)
    assert len(tg.calls("getFile")) == 2


def test_group_messages_edits_and_leaving_a_group(tg: FakeTelegram) -> None:
    async def group(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat
        assert chat is not None and chat.type == "group" and chat.title == "Buurtapp"
        await context.bot.send_message(chat.id, f"in {chat.title}")
        await context.bot.leave_chat(chat.id)

    async def edited(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.edited_message
        assert message is not None and message.edit_date is not None
        await context.bot.send_message(
            message.chat.id, f"edited {message.message_id}: {message.text}"
        )

    def setup(app: Application) -> None:
        app.add_handler(MessageHandler(filters.ChatType.GROUPS, group))
        app.add_handler(MessageHandler(filters.UpdateType.EDITED_MESSAGE, edited))

    with running_bot(tg, setup):
        tg.send_group_text(-100123, CHAT, "hallo allemaal")
        assert [r["text"] for r in tg.wait_for_reply(-100123, after=0)] == ["in Buurtapp"]
        tg.wait_for_call("leaveChat")
        tg.send_text(CHAT, "zaterdag 12 december")
        tg.edit_user_message(CHAT, 1, "zaterdag 19 december")
        replies = tg.wait_for_reply(CHAT, after=0)
        assert [r["text"] for r in replies] == ["edited 1: zaterdag 19 december"]

    async def after_leaving() -> None:
        async with _bot(tg) as bot:
            with pytest.raises(Forbidden, match="not a member"):
                await bot.send_message(-100123, "nog iemand?")
            with pytest.raises(BadRequest, match="private chats"):
                await bot.leave_chat(CHAT)

    asyncio.run(after_leaving())


# --------------------------------------------------------------------------------------------
# Protocol details
# --------------------------------------------------------------------------------------------


def test_wrong_token_is_rejected(tg: FakeTelegram) -> None:
    async def initialize_with_wrong_token() -> None:
        async with _bot(tg, token="999:WRONG"):
            pass

    with pytest.raises(InvalidToken):
        asyncio.run(initialize_with_wrong_token())

    response = httpx.post(f"{tg.base_url}/bot999:WRONG/getMe")
    assert response.status_code == 401
    assert response.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    assert {c["method"] for c in tg.unauthorized_calls()} == {"getMe"}
    assert tg.calls() == []

    good = httpx.post(f"{tg.api_url}/getMe").json()
    assert good["ok"] is True
    assert good["result"]["username"] == "wegwijs_test_bot"
    assert good["result"]["id"] == 123456


def test_parameters_are_decoded_from_json_form_and_multipart(tg: FakeTelegram) -> None:
    tg.send_text(CHAT, "hoi")  # the chat must exist before the bot can post to it
    keyboard = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}

    as_json = httpx.post(
        f"{tg.api_url}/sendMessage",
        json={"chat_id": CHAT, "text": "json", "reply_markup": keyboard},
    ).json()
    as_form = httpx.post(
        f"{tg.api_url}/sendMessage",
        data={
            "chat_id": str(CHAT),
            "text": "true",
            "reply_markup": json.dumps(keyboard),
            "disable_notification": "true",
        },
    ).json()
    binary = b"\xff\xd8\x00\r\n--not-a-boundary\n\x80\xff"
    as_multipart = httpx.post(
        f"{tg.api_url}/sendPhoto",
        data={"chat_id": str(CHAT), "caption": "café <b>gat</b>", "parse_mode": "HTML"},
        files={"photo": ("gat.jpg", binary, "image/jpeg")},
    ).json()

    assert as_json["ok"] and as_form["ok"] and as_multipart["ok"], tg.errors()
    assert as_json["result"]["reply_markup"] == keyboard  # inline keyboards are echoed back
    json_call, form_call = tg.calls("sendMessage")
    assert json_call["params"] == {"chat_id": CHAT, "text": "json", "reply_markup": keyboard}
    assert form_call["params"] == {
        "chat_id": CHAT,
        "text": "true",  # free text stays a string
        "reply_markup": keyboard,
        "disable_notification": True,
    }
    photo_params = tg.calls("sendPhoto")[0]["params"]
    assert photo_params["photo"] == {
        "filename": "gat.jpg",
        "content_type": "image/jpeg",
        "size": len(binary),
    }
    assert photo_params["caption"] == "café <b>gat</b>"
    assert as_multipart["result"]["caption"] == "café gat"
    photo_message = tg.bot_messages(CHAT)[-1]
    assert (photo_message["kind"], photo_message["text"]) == ("photo", "café <b>gat</b>")

    # The upload can be fetched back byte for byte, like a bot re-downloading its own file.
    file_id = as_multipart["result"]["photo"][-1]["file_id"]
    file_info = httpx.post(f"{tg.api_url}/getFile", data={"file_id": file_id}).json()["result"]
    downloaded = httpx.get(f"{tg.base_url}/file/bot{tg.token}/{file_info['file_path']}")
    assert downloaded.content == binary


def test_get_updates_long_polls_and_honours_offset_limit_and_filter(tg: FakeTelegram) -> None:
    def get_updates(**params: object) -> list[dict]:
        response = httpx.post(f"{tg.api_url}/getUpdates", json=params, timeout=30)
        assert response.status_code == 200, response.text
        return response.json()["result"]

    started = time.monotonic()
    assert get_updates(timeout=1) == []
    assert time.monotonic() - started >= 0.9  # really waited

    timer = threading.Timer(0.4, tg.send_text, args=(CHAT, "wakker?"))
    timer.start()
    started = time.monotonic()
    woken = get_updates(timeout=20)
    elapsed = time.monotonic() - started
    timer.join()
    assert 0.3 <= elapsed < 5
    assert [u["message"]["text"] for u in woken] == ["wakker?"]
    first_id = woken[0]["update_id"]

    ids = [tg.send_text(CHAT, f"bericht {n}") for n in range(3)]
    assert [u["update_id"] for u in get_updates(offset=first_id + 1, limit=2)] == ids[:2]
    assert [u["update_id"] for u in tg.pending_updates()] == ids  # not confirmed yet
    assert [u["update_id"] for u in get_updates(offset=ids[1] + 1)] == ids[2:]
    assert [u["update_id"] for u in tg.pending_updates()] == ids[2:]
    assert [u["update_id"] for u in get_updates(offset=-1)] == ids[2:]

    assert get_updates(offset=ids[2] + 1, timeout=0) == []
    assert tg.pending_updates() == []

    tg.send_text(CHAT, "tekst")
    tg.send_raw_update(
        {
            "callback_query": {
                "id": "1",
                "from": {"id": CHAT, "is_bot": False, "first_name": "Test"},
                "chat_instance": "1",
                "data": "x",
            }
        }
    )
    only_callbacks = get_updates(allowed_updates=["callback_query"])
    assert [next(k for k in u if k != "update_id") for u in only_callbacks] == ["callback_query"]


def test_stop_wakes_a_waiting_long_poll() -> None:
    tg = FakeTelegram(token=TOKEN).start()
    results: list[httpx.Response] = []
    poller = threading.Thread(
        target=lambda: results.append(
            httpx.post(f"{tg.api_url}/getUpdates", data={"timeout": "30"}, timeout=40)
        )
    )
    poller.start()
    try:
        deadline = time.monotonic() + 5
        while not tg.calls("getUpdates") and time.monotonic() < deadline:
            time.sleep(0.02)
        assert tg.calls("getUpdates"), "long poll never arrived"
        started = time.monotonic()
    finally:
        tg.stop()
    poller.join(10)
    assert not poller.is_alive()
    assert time.monotonic() - started < 3
    assert results[0].json() == {"ok": True, "result": []}


def test_concurrent_long_polls_conflict_but_abandoned_polls_are_silent(tg: FakeTelegram) -> None:
    results: dict[str, dict] = {}

    def poll(name: str, server_timeout: int, client_timeout: float) -> None:
        try:
            response = httpx.post(
                f"{tg.api_url}/getUpdates",
                data={"timeout": str(server_timeout)},
                timeout=client_timeout,
            )
            results[name] = response.json()
        except httpx.TimeoutException:
            results[name] = {"client": "gave up"}

    poll("hung up", 30, 0.5)  # the client leaves, as PTB does when it cancels a poll
    time.sleep(0.5)
    assert results == {"hung up": {"client": "gave up"}}
    assert tg.calls("getUpdates") == [] and tg.errors() == []

    older = threading.Thread(target=poll, args=("older", 30, 40))
    older.start()
    time.sleep(0.5)
    poll("newer", 0, 40)  # a second bot instance polling: Telegram ends the older request
    older.join(10)
    assert not older.is_alive()
    assert results["newer"] == {"ok": True, "result": []}
    assert results["older"]["error_code"] == 409
    assert [e["error_code"] for e in tg.errors()] == [409]


def test_wait_for_reply_times_out_with_transcript(tg: FakeTelegram) -> None:
    tg.send_text(CHAT, "is daar iemand?")
    started = time.monotonic()
    with pytest.raises(AssertionError, match=r"(?s)Expected 1 new bot message.*is daar iemand\?"):
        tg.wait_for_reply(CHAT, after=0, timeout=0.3)
    assert time.monotonic() - started < 2


def test_telegram_errors_are_reproduced_for_ptb(tg: FakeTelegram) -> None:
    tg.send_text(CHAT, "hoi")

    async def scenario() -> list[str]:
        problems: list[str] = []
        async with _bot(tg) as bot:
            for text in ("regel 1<br>regel 2", "1 < 2", "<b>open"):
                with pytest.raises(BadRequest, match="an't parse entities") as bad_html:
                    await bot.send_message(CHAT, text, parse_mode="HTML")
                problems.append(bad_html.value.message)
            with pytest.raises(BadRequest, match="too long"):
                await bot.send_message(CHAT, "x" * 4097)
            with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
                await bot.send_message(
                    CHAT,
                    "knop",
                    reply_markup=InlineKeyboardMarkup(
                        [[InlineKeyboardButton("lang", callback_data="x" * 65)]]
                    ),
                )
            with pytest.raises(BadRequest, match=r"(?i)chat not found"):
                await bot.send_message(CHAT + 1, "wie?")
            sent = await bot.send_message(CHAT, "1 &lt; 2 &amp; <i>klaar</i>", parse_mode="HTML")
            assert sent.text == "1 < 2 & klaar"
            with pytest.raises(BadRequest, match="not modified"):
                await bot.edit_message_text(
                    "1 &lt; 2 &amp; <i>klaar</i>", CHAT, sent.message_id, parse_mode="HTML"
                )
            tg.block_bot(CHAT)
            with pytest.raises(Forbidden, match="blocked"):
                await bot.send_message(CHAT, "hallo?")
        return problems

    problems = asyncio.run(scenario())
    assert len(problems) == 3
    assert [e["error_code"] for e in tg.errors()] == [400] * 7 + [403]
    assert "!! bot sendMessage failed: 403 Forbidden" in tg.transcript(CHAT)


def test_callback_query_can_be_answered_only_once(tg: FakeTelegram) -> None:
    tg.send_text(CHAT, "hoi")
    keyboard = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
    httpx.post(
        f"{tg.api_url}/sendMessage",
        json={"chat_id": CHAT, "text": "kies", "reply_markup": keyboard},
    )
    query_id = tg.update(tg.press_button(CHAT, "a"))["callback_query"]["id"]

    async def answer_twice() -> None:
        async with _bot(tg) as bot:
            assert await bot.answer_callback_query(query_id) is True
            with pytest.raises(BadRequest, match=r"(?i)query is too old"):
                await bot.answer_callback_query(query_id)

    asyncio.run(answer_twice())


def test_commands_and_unknown_methods_are_recorded(tg: FakeTelegram) -> None:
    async def scenario() -> None:
        async with _bot(tg) as bot:
            await bot.set_my_commands([("start", "Begin"), ("help", "Hulp")], language_code="nl")
            commands = await bot.get_my_commands(language_code="nl")
            assert [(c.command, c.description) for c in commands] == [
                ("start", "Begin"),
                ("help", "Hulp"),
            ]
            assert await bot.set_my_description("Wegwijs helpt je") is True

    asyncio.run(scenario())
    assert tg.my_commands(language_code="nl") == [
        {"command": "start", "description": "Begin"},
        {"command": "help", "description": "Hulp"},
    ]
    unknown = tg.unknown_calls()
    assert [c["method"] for c in unknown] == ["setMyDescription"]
    assert unknown[0]["params"] == {"description": "Wegwijs helpt je"}


# --------------------------------------------------------------------------------------------
# The real thing: a separate bot process using run_polling, configured like Wegwijs
# --------------------------------------------------------------------------------------------

_BOT_SCRIPT = """
    import os

    from telegram.ext import ApplicationBuilder, CommandHandler

    root = os.environ["TELEGRAM_API_BASE_URL"].rstrip("/")


    async def start(update, context):
        await update.message.reply_text("Welkom bij Wegwijs")


    async def post_init(app):
        await app.bot.set_my_commands([("start", "Begin")])


    app = (
        ApplicationBuilder()
        .token(os.environ["TELEGRAM_BOT_TOKEN"])
        .base_url(f"{root}/bot")
        .base_file_url(f"{root}/file/bot")
        .post_init(post_init)
        .build()
    )
    app.add_handler(CommandHandler("start", start))
    app.run_polling(poll_interval=0, timeout=1)
"""


@pytest.mark.process
def test_real_bot_process_with_run_polling(tg: FakeTelegram, tmp_path: Path) -> None:
    script = tmp_path / "bot.py"
    script.write_text(textwrap.dedent(_BOT_SCRIPT))
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": tg.token,
        "TELEGRAM_API_BASE_URL": tg.base_url + "/",
    }
    process = subprocess.Popen(
        [sys.executable, str(script)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        tg.wait_until_polling(timeout=30)
        replies = tg.ask(CHAT, "/start", timeout=30)
        assert [r["text"] for r in replies] == ["Welkom bij Wegwijs"]
        assert tg.my_commands() == [{"command": "start", "description": "Begin"}]
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert tg.calls("deleteWebhook")
    assert tg.pending_updates() == []  # run_polling confirmed the update before exiting
    assert tg.errors() == [], tg.errors()

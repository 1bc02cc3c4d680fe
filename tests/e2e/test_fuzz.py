"""1,000 bad updates of every kind through the fake Bot API, against residents at every step
of a conversation, on both databases: nothing is submitted or handed over but by a real
confirmation, no request is without needs, nothing raises, and every earlier answer is kept.
The real bot process and the real Rasa model."""

from __future__ import annotations

import random
import time
from collections.abc import Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.knowledge import Knowledge
from bot.storage.models import Conversation, OutboxMessage, Request, RequestPart, Resident
from tests.e2e.support import BotProcess, dutch, future_saturday
from tests.e2e.support import Resident as Chat
from tests.fakes.telegram_api import FakeTelegram

pytestmark = [pytest.mark.e2e, pytest.mark.rasa]

BAD_UPDATES = 1000
GARBAGE = [
    "👎", "❌", "❌❌❌", "?", "...", "/", "!!!", "\x07\x08\x1b", "a\x00b\x00c", "\x00",
    "שלום, מה שלומך", "مرحبا كيف حالك", "你好吗", "Привет как дела",
    "<script>alert('x')</script>", "<b>vet</b> &amp; <i>schuin</i>",
    "'; DROP TABLE requests; --", "' OR ''='", "\u200b\u200b\u200b", "   ", "\u202egnitset",
    "null", "undefined", "NaN", "%s %n {name}", "{{ config }}", "x" * 10_000, "🎉" * 500,
]  # fmt: skip
# Button data a modified client can send, or that an old message still carries; no keyboard
# number here is a current one (those start at 1 and count up by one per keyboard).
FORGED = [
    "", "@", "expired", "need:", "need:xyz", "need:room@0", "need:room,tools@abc",
    "confirm:send", "confirm:send@0", "confirm:send@99999", "confirm:send@-1",
    "confirm:cancel@99999", "handover:yes", "handover:yes@0", "remove:room@99999",
    "edit:<unknown>@99999", "choice:Atlantis@0", "skip@0", "x" * 64, "\x00",
]  # fmt: skip
COMMANDS = ["/status 💥", "/start@een_andere_bot", "/onbekend", "/help ❌", "/status ' OR 1=1"]
CONTACT = {"name": "Fatima de Vries", "phone": "06 12345678", "email": "button:skip"}
CONFIRMING = {"confirm", "edit_menu", "handover_offer"}  # where garbage must change nothing


def _residents(telegram: FakeTelegram, knowledge: Knowledge) -> list[Chat]:
    """Residents at every step: idle, at a date, at a time, at a choice, at the summary, in
    the edit menu and at the offer of a person."""
    chats = [Chat(telegram, knowledge, chat_id) for chat_id in range(3101, 3108)]
    idle, _, _, _, at_summary, editing, offered = chats  # at a date, a time, a choice
    idle.command("/start")
    for chat in chats[1:]:
        chat.say("Ik wil graag een zaal huren voor 40 mensen")
    for chat in chats[2:6]:
        chat.say(dutch(future_saturday()))
    for chat in chats[3:6]:
        chat.say("19:00")
        chat.say("22:00")
    for chat in (at_summary, editing):
        chat.answer_all({"neighbourhood": "button:choice:Oost", "purpose": "Bingo", **CONTACT},
                        chat.say("Oost"))  # fmt: skip
    editing.press("confirm:edit")
    offered.say("kan ik iemand van de gemeente spreken?")
    assert "handover:yes" in offered.buttons(telegram.last_bot_message(offered.chat_id) or {})
    return chats


def _states(sessions: sessionmaker[Session]) -> dict[str, dict]:
    with sessions() as session:
        rows = session.execute(
            select(Resident.external_id, Conversation.state).join(
                Conversation, Conversation.resident_id == Resident.id
            )
        )
        return {external_id: dict(state) for external_id, state in rows}


def _bad_update(telegram: FakeTelegram, chat: Chat, rng: random.Random) -> None:
    chat_id = chat.chat_id
    kinds: list[Callable[[], object]] = [
        lambda: telegram.send_text(chat_id, rng.choice(GARBAGE)),
        lambda: telegram.send_text(chat_id, rng.choice(GARBAGE)),
        lambda: telegram.send_text(chat_id, rng.choice(COMMANDS)),
        lambda: telegram.press_forged(chat_id, rng.choice(FORGED)),
        lambda: telegram.press_forged(chat_id, rng.choice(FORGED)),
        lambda: telegram.send_photo(chat_id, caption=rng.choice([None, "ja", "versturen"])),
        lambda: telegram.send_sticker(chat_id, emoji="👍"),
        lambda: telegram.send_voice(chat_id),
        lambda: telegram.send_document(chat_id),
        lambda: telegram.send_location(chat_id, latitude=52.1, longitude=5.1),
        lambda: telegram.edit_user_message(chat_id, 1, rng.choice(["ja", "versturen", "👍"])),
        lambda: telegram.send_group_text(-200 - chat_id, chat_id, "ja, versturen"),
    ]
    rng.choice(kinds)()


def _settled(telegram: FakeTelegram, sessions: sessionmaker[Session], timeout: float) -> None:
    """Every update handled (Telegram has them acknowledged) and every reply sent."""
    deadline = time.monotonic() + timeout
    while True:
        with sessions() as session:
            unsent = session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.delivered_at.is_(None), OutboxMessage.gave_up_at.is_(None))
            )
        if not telegram.pending_updates() and not unsent:
            return
        assert time.monotonic() < deadline, f"{len(telegram.pending_updates())} updates left"
        time.sleep(0.5)


def test_a_thousand_bad_updates_submit_nothing_and_keep_every_answer(
    bot: BotProcess, telegram: FakeTelegram, knowledge: Knowledge, sessions: sessionmaker[Session]
) -> None:
    chats = _residents(telegram, knowledge)
    before = _states(sessions)
    sent_before = {chat.chat_id: telegram.bot_message_count(chat.chat_id) for chat in chats}
    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    for _ in range(BAD_UPDATES):
        _bad_update(telegram, rng.choice(chats), rng)
    _settled(telegram, sessions, timeout=600)

    after = _states(sessions)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Request)) == 0, f"seed {seed}"
    for chat in chats:
        old, new = before[str(chat.chat_id)], after[str(chat.chat_id)]
        kept = {key: new["answers"].get(key) for key in old["answers"]}
        assert kept == old["answers"], f"seed {seed}, chat {chat.chat_id}"
        assert new["needs"] == old["needs"], f"seed {seed}, chat {chat.chat_id}"
        if old["phase"] in CONFIRMING:
            assert new["phase"] == old["phase"], f"seed {seed}, chat {chat.chat_id}"
        answered = telegram.bot_message_count(chat.chat_id) - sent_before[chat.chat_id]
        assert answered >= 50, f"chat {chat.chat_id} got only {answered} answers"
    log = bot.log()
    assert "Traceback" not in log and "error while handling" not in log, f"seed {seed}"

    # A real confirmation still works, and makes a request with its need.
    at_summary = chats[4]
    at_summary.press("confirm:send")
    with sessions() as session:
        (request,) = session.scalars(select(Request))
        parts = session.scalars(
            select(RequestPart.need).where(RequestPart.request_id == request.id)
        )
        assert list(parts) == ["room"]

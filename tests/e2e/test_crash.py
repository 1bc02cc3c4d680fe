"""kill -9 of the bot with residents' answers in flight, again and again: each answer is
handled once, each reply arrives, and no answer lands on another question. The real bot
process, the real Rasa and PostgreSQL, against the fake Bot API."""

from __future__ import annotations

import random
import time

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.knowledge import Knowledge
from bot.storage.models import Conversation, MessageLog, Resident
from tests.e2e.support import BotProcess, dutch, future_saturday
from tests.e2e.support import Resident as Chat
from tests.fakes.telegram_api import FakeTelegram
from tests.support import FIRST_DATABASE

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.rasa,
    pytest.mark.parametrize("database_url", FIRST_DATABASE, indirect=True),
]

CHATS = range(3001, 3009)  # 8 residents × 4 answers: 32 answers in flight at the kills


def _asked(chat: Chat, after: int, question: str, timeout: float = 90) -> None:
    """Wait until a bot message after #`after` asks `question`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        messages = chat.telegram.bot_messages(chat.chat_id)[after:]
        if any(m.get("text") and chat.question_in(m) == question for m in messages):
            return
        time.sleep(0.1)
    raise AssertionError(
        f"chat {chat.chat_id}: {question!r} never asked\n" + chat.telegram.transcript(chat.chat_id)
    )


def test_kill_9_with_answers_in_flight_loses_nothing_and_mixes_nothing_up(
    bot: BotProcess, telegram: FakeTelegram, knowledge: Knowledge, sessions: sessionmaker[Session]
) -> None:
    day = future_saturday()
    answers = [
        ("date", dutch(day)),
        ("start_time", "19:00"),
        ("end_time", "22:00"),
        ("people", "40"),
    ]
    chats = [Chat(telegram, knowledge, chat_id) for chat_id in CHATS]
    for chat in chats:
        replies = chat.say("Wij willen een zaal huren voor een buurtfeest")
        assert chat.question_in(replies[-1]) == "date", telegram.transcript(chat.chat_id)
    seed = random.randrange(1_000_000)
    pause = random.Random(seed)
    for number, (_, answer) in enumerate(answers):
        before = {chat.chat_id: telegram.bot_message_count(chat.chat_id) for chat in chats}
        for chat in chats:
            telegram.send_text(chat.chat_id, answer)
        time.sleep(pause.uniform(0.0, 0.6))  # somewhere while the answers are handled
        bot.kill()
        bot.start()
        following = answers[number + 1][0] if number + 1 < len(answers) else "neighbourhood"
        for chat in chats:
            _asked(chat, before[chat.chat_id], following)

    with sessions() as session:
        for chat in chats:
            resident = session.scalar(
                select(Resident).where(Resident.external_id == str(chat.chat_id))
            )
            assert resident is not None
            state = session.get(Conversation, resident.id).state
            stored = {key: state["answers"].get(key) for key, _ in answers}
            assert stored == {
                "date": day.isoformat(),
                "start_time": "19:00",
                "end_time": "22:00",
                "people": 40,
            }, f"seed {seed}"
            said = list(
                session.scalars(
                    select(MessageLog.text).where(
                        MessageLog.resident_id == resident.id, MessageLog.direction == "in"
                    )
                )
            )
            assert said[1:] == [answer for _, answer in answers], f"seed {seed}: {said}"
    assert "Traceback" not in bot.log()

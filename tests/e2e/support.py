"""Helpers for the tests that run the real bot process against the fake Bot API, and for the
browser tests that chat with it: kept out of conftest.py because test modules import them."""

from __future__ import annotations

import os
import signal
import subprocess
from datetime import date, timedelta
from pathlib import Path

from babel.dates import format_date

from bot.knowledge import Knowledge
from bot.learning.masking import MASKING_READY
from tests.fakes.telegram_api import FakeTelegram
from tests.processes import start_wegwijs, stop, wait_while_alive
from tests.rasa_server import TOKEN

BOT_TOKEN = "123456:TEST-TOKEN"


class BotProcess:
    """The bot as residents meet it: its own process, polling the fake Telegram."""

    def __init__(self, telegram: FakeTelegram, env: dict[str, str], log_file: Path) -> None:
        self.telegram, self.env, self.log_file = telegram, env, log_file
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        polls_before = len(self.telegram.calls("getUpdates"))
        ready_before = self._log_text().count(MASKING_READY)
        self.process = start_wegwijs("bot", self.env, self.log_file)
        wait_while_alive(
            lambda: len(self.telegram.calls("getUpdates")) > polls_before,
            self.process,
            self.log_file,
            "polling Telegram",
        )
        # Loading deduce (masking) in its thread holds the interpreter for seconds after the
        # start; a reply sent meanwhile comes in pieces slower than the fake's settle time.
        wait_while_alive(
            lambda: self._log_text().count(MASKING_READY) > ready_before,
            self.process,
            self.log_file,
            "ready to mask personal data",
        )

    def _log_text(self) -> str:
        return self.log_file.read_text(errors="replace") if self.log_file.exists() else ""

    def kill(self) -> None:
        """Pull the plug: no clean shutdown, like a crash or a killed container."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)

    def log(self) -> str:
        return self.log_file.read_text(errors="replace")


def bot_process(telegram: FakeTelegram, database_url: str, rasa: str, tmp_path: Path) -> BotProcess:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "RASA_URL": rasa,
        "RASA_TOKEN": TOKEN,
        "TELEGRAM_BOT_TOKEN": BOT_TOKEN,
        "TELEGRAM_API_BASE_URL": telegram.base_url,
    }
    return BotProcess(telegram, env, tmp_path / "bot.log")


class Resident:
    """One resident chatting: knows which question each bot message asks."""

    def __init__(
        self, telegram: FakeTelegram, knowledge: Knowledge, chat_id: int, language: str = "nl"
    ) -> None:
        self.telegram, self.knowledge = telegram, knowledge
        self.chat_id, self.language = chat_id, language
        self.asked: list[str] = []

    def say(self, text: str) -> list[dict]:
        return self._track(self.telegram.ask(self.chat_id, text, language_code=self.language))

    def press(self, data: str) -> list[dict]:
        """Press the button `data` ("confirm:send") of the latest keyboard that has it; the
        bot numbers its keyboards ("confirm:send@7"), and only the newest one counts."""
        return self._track(self.telegram.click(self.chat_id, self._on_screen(data)))

    def buttons(self, message: dict) -> list[str]:
        """What the message's buttons do, without their keyboard number."""
        return [data.rpartition("@")[0] or data for _, data in self.telegram.buttons(message)]

    def _on_screen(self, data: str) -> str:
        for message in reversed(self.telegram.bot_messages(self.chat_id)):
            for _, stamped in self.telegram.buttons(message):
                if stamped.rpartition("@")[0] == data:
                    return stamped
        return data

    def command(self, command: str) -> list[dict]:
        return self._track(self.telegram.ask(self.chat_id, command, language_code=self.language))

    def question_in(self, message: dict) -> str | None:
        questions = [q for n in self.knowledge.needs.values() for q in n.questions]
        for question in [*questions, *self.knowledge.contact]:
            if message["text"] and message["text"].endswith(question.prompt[self.language]):
                return question.key
        return None

    def _track(self, replies: list[dict]) -> list[dict]:
        sent = [r for r in replies if r["method"] == "sendMessage"]
        if sent and (key := self.question_in(sent[-1])):
            self.asked.append(key)
        return sent

    def answer_all(self, answers: dict[str, str], replies: list[dict]) -> list[dict]:
        """Answer each question from `answers` (a value "button:x" presses x) until the
        summary shows; fails on a question that has no answer or is asked twice."""
        for _ in range(30):
            last = replies[-1]
            if "confirm:send" in self.buttons(last):
                return replies
            key = self.question_in(last)
            if key is None:
                # On a busy machine the bot's next message (the question) can come later than
                # the fake's settle time after the one before it: wait for it.
                count = self.telegram.bot_message_count(self.chat_id)
                later = self.telegram.wait_for_reply(self.chat_id, after=count, timeout=60)
                replies = [*replies, *self._track(later)]
                last = replies[-1]
                key = self.question_in(last)
            assert key, f"no question recognised in: {last['text']}"
            assert key in answers, f"unexpected question {key!r}:\n{self.transcript()}"
            assert self.asked.count(key) == 1, f"{key!r} asked twice:\n{self.transcript()}"
            value = answers[key]
            replies = self.press(value[7:]) if value.startswith("button:") else self.say(value)
        raise AssertionError(self.transcript())

    def transcript(self) -> str:
        return self.telegram.transcript(self.chat_id)


def future_saturday(weeks: int = 3) -> date:
    day = date.today() + timedelta(weeks=weeks)
    return day + timedelta(days=(5 - day.weekday()) % 7)


def dutch(day: date) -> str:
    """ "zaterdag 12 december", as a resident writes it."""
    return format_date(day, format="EEEE d MMMM", locale="nl_NL")

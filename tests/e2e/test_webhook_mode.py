"""Production's Telegram webhook mode: the real bot process registers its HTTPS URL with a
secret token, takes updates that carry the secret and refuses those that don't; and two bot
processes behind a load balancer, on one PostgreSQL database, keep every chat in order."""

from __future__ import annotations

import os
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from bot.knowledge import Knowledge
from bot.learning.rasa_commands import free_port
from bot.storage.database import make_engine, make_session_factory
from bot.storage.models import Conversation, ProcessedUpdate, Resident
from tests.databases import Templates
from tests.e2e.support import BOT_TOKEN, dutch, future_saturday
from tests.e2e.support import Resident as Chat
from tests.fakes.telegram_api import FakeTelegram
from tests.processes import start_wegwijs, stop
from tests.rasa_server import TOKEN

pytestmark = pytest.mark.e2e
SECRET = "webhook-secret-123"


def _start_update(telegram: FakeTelegram, chat_id: int) -> dict:
    """An update as Telegram would POST it (the fake also learns the chat from it)."""
    update_id = telegram.send_text(chat_id, "/start")
    return next(u for u in telegram.pending_updates() if u["update_id"] == update_id)


def _wait_until_listening(port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            assert time.monotonic() < deadline, f"nothing listens on port {port}"
            time.sleep(0.1)


def _webhook_env(telegram: FakeTelegram, database_url: str, rasa_url: str, port: int) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "RASA_URL": rasa_url,
        "RASA_TOKEN": TOKEN,
        "TELEGRAM_BOT_TOKEN": BOT_TOKEN,
        "TELEGRAM_API_BASE_URL": telegram.base_url,
        "TELEGRAM_WEBHOOK_URL": "https://wegwijs.example.nl/telegram",
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "TELEGRAM_WEBHOOK_PORT": str(port),
        "MASKING_WARM_UP": "false",  # nothing here is masked
        "DELIVERY_POLL_SECONDS": "0.2",
    }


def test_webhook_mode_checks_the_secret(
    telegram: FakeTelegram, database_url: str, tmp_path: Path
) -> None:
    port = free_port()
    env = _webhook_env(telegram, database_url, f"http://127.0.0.1:{free_port()}", port)
    log = tmp_path / "bot.log"
    process = start_wegwijs("bot", env, log)
    try:
        registered = telegram.wait_for_call("setWebhook", timeout=60)
        assert registered["params"]["url"] == "https://wegwijs.example.nl/telegram"
        assert registered["params"]["secret_token"] == SECRET
        url = f"http://127.0.0.1:{port}/telegram"
        _wait_until_listening(port)  # the bot registers its URL before it starts listening

        forged = httpx.post(url, json=_start_update(telegram, 501), timeout=10)
        assert forged.status_code == 403
        accepted = httpx.post(
            url,
            json=_start_update(telegram, 502),
            headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
            timeout=10,
        )
        assert accepted.status_code == 200
        reply = telegram.wait_for_call(
            "sendMessage", where=lambda call: str(call["params"]["chat_id"]) == "502", timeout=20
        )
        assert "Wegwijs" in reply["params"]["text"]
        assert not [
            c for c in telegram.calls("sendMessage") if str(c["params"]["chat_id"]) == "501"
        ]
        assert not telegram.calls("getUpdates")  # no polling in webhook mode
    finally:
        stop(process)
    assert "Traceback" not in log.read_text(errors="replace")


@pytest.mark.rasa
def test_two_bot_processes_behind_a_load_balancer_keep_each_chat_in_order(
    telegram: FakeTelegram,
    templates: Templates,
    rasa_url: str,
    knowledge: Knowledge,
    tmp_path: Path,
) -> None:
    """Six residents answer one question after another, each update posted to the other
    process than the one before (round robin, as a load balancer does), the residents at
    the same time. Each process answers an update only after its step committed, so the
    next one finds the conversation where the first one left it."""
    day = future_saturday()
    steps = [
        ("Wij willen een zaal huren voor een buurtfeest", "date"),
        (dutch(day), "start_time"),
        ("19:00", "end_time"),
        ("22:00", "people"),
        ("40", "neighbourhood"),
    ]
    with templates.copy("postgresql", True, tmp_path) as database_url:
        ports = [free_port(), free_port()]
        processes = [
            start_wegwijs(
                "bot",
                _webhook_env(telegram, database_url, rasa_url, port),
                tmp_path / f"bot{n}.log",
            )
            for n, port in enumerate(ports)
        ]
        try:
            for port in ports:
                _wait_until_listening(port, timeout=120)

            def converse(chat_id: int) -> None:
                chat = Chat(telegram, knowledge, chat_id)
                for number, (text, question) in enumerate(steps):
                    before = telegram.bot_message_count(chat_id)
                    update_id = telegram.send_text(chat_id, text)
                    update = telegram.update(update_id)
                    port = ports[(chat_id + number) % 2]
                    response = httpx.post(
                        f"http://127.0.0.1:{port}/telegram",
                        json=update,
                        headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
                        timeout=60,
                    )
                    assert response.status_code == 200
                    replies = telegram.wait_for_reply(chat_id, after=before, timeout=30)
                    deadline = time.monotonic() + 30
                    while chat.question_in(replies[-1]) != question:
                        assert time.monotonic() < deadline, telegram.transcript(chat_id)
                        time.sleep(0.05)
                        replies = telegram.bot_messages(chat_id)[before:]

            with ThreadPoolExecutor(6) as pool:
                list(pool.map(converse, range(601, 607)))
        finally:
            for process in processes:
                stop(process)
        engine = make_engine(database_url)
        try:
            with make_session_factory(engine)() as session:
                assert session.scalar(select(func.count()).select_from(ProcessedUpdate)) == 30
                for chat_id in range(601, 607):
                    resident = session.scalar(
                        select(Resident).where(Resident.external_id == str(chat_id))
                    )
                    answers = session.get(Conversation, resident.id).state["answers"]
                    assert (answers["date"], answers["start_time"], answers["end_time"]) == (
                        day.isoformat(),
                        "19:00",
                        "22:00",
                    )
                    assert answers["people"] == 40
        finally:
            engine.dispose()
    for n in range(2):
        assert "Traceback" not in (tmp_path / f"bot{n}.log").read_text(errors="replace")

"""Production's Telegram webhook mode: the real bot process registers its HTTPS URL with a
secret token, takes updates that carry the secret and refuses those that don't."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import httpx
import pytest

from bot.learning.rasa_commands import free_port
from tests.e2e.support import BOT_TOKEN
from tests.fakes.telegram_api import FakeTelegram
from tests.processes import start_wegwijs, stop

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


def test_webhook_mode_checks_the_secret(
    telegram: FakeTelegram, database_url: str, tmp_path: Path
) -> None:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "RASA_URL": f"http://127.0.0.1:{free_port()}",
        "TELEGRAM_BOT_TOKEN": BOT_TOKEN,
        "TELEGRAM_API_BASE_URL": telegram.base_url,
        "TELEGRAM_WEBHOOK_URL": "https://wegwijs.example.nl/telegram",
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "TELEGRAM_WEBHOOK_PORT": str(port),
        "MASKING_WARM_UP": "false",  # nothing here is masked
    }
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

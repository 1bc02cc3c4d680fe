"""The real bot process (`python -m wegwijs bot`) against the fake Bot API, the real Rasa
server and a real database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.support import BOT_TOKEN, BotProcess, bot_process
from tests.fakes.telegram_api import FakeTelegram


@pytest.fixture
def telegram() -> Iterator[FakeTelegram]:
    with FakeTelegram(token=BOT_TOKEN) as fake:
        yield fake


@pytest.fixture
def bot(
    telegram: FakeTelegram, database_url: str, rasa_url: str, tmp_path: Path
) -> Iterator[BotProcess]:
    process = bot_process(telegram, database_url, rasa_url, tmp_path)
    process.start()
    yield process
    process.stop()
    assert "Traceback" not in process.log(), process.log()


@pytest.fixture
def bot_without_rasa(
    telegram: FakeTelegram, database_url: str, tmp_path: Path
) -> Iterator[BotProcess]:
    from bot.learning.rasa_commands import free_port

    process = bot_process(telegram, database_url, f"http://127.0.0.1:{free_port()}", tmp_path)
    process.start()
    yield process
    process.stop()

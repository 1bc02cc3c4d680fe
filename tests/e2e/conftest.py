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
    """A bot process of the test's own, on the test's database (with `sessions`: seeded)."""
    process = bot_process(telegram, database_url, rasa_url, tmp_path)
    # A reply whose sending was cut off is sent again once its lease ran out: soon, here.
    process.env["DELIVERY_LEASE_SECONDS"] = "3"
    process.start()
    yield process
    process.stop()

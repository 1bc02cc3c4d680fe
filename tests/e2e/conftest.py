"""The real bot process (`python -m wegwijs bot`) against the fake Bot API, the real Rasa
server and a real database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.support import BOT_TOKEN
from tests.fakes.telegram_api import FakeTelegram


@pytest.fixture
def telegram() -> Iterator[FakeTelegram]:
    with FakeTelegram(token=BOT_TOKEN) as fake:
        yield fake

"""The webhook endpoint answers Telegram only after the step: 200 when it committed, 500 when
it failed (Telegram then sends the update again), 403 without the secret. A real
python-telegram-bot Application against the fake Bot API, in process."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.conversation import ConversationService
from bot.knowledge.store import KnowledgeSource
from handlers import webhook
from handlers.telegram import build_application
from tests.fakes.nlu import ScriptedNLU
from tests.fakes.telegram_api import FakeTelegram

TOKEN = "123456:WEBHOOK-TEST"
SECRET = "s3cret"


@pytest.fixture
def telegram() -> Iterator[FakeTelegram]:
    with FakeTelegram(token=TOKEN) as fake:
        yield fake


def test_an_update_is_answered_only_after_its_step(
    telegram: FakeTelegram, sessions: sessionmaker[Session]
) -> None:
    service = ConversationService(KnowledgeSource(sessions), sessions, ScriptedNLU())  # type: ignore[arg-type]
    application = build_application(service, TOKEN, telegram.base_url)
    failing = {"now": True}
    handle = service.handle

    async def sometimes_failing(*args: Any, **kwargs: Any) -> Any:
        if failing["now"]:
            raise RuntimeError("the database went away")
        return await handle(*args, **kwargs)

    service.handle = sometimes_failing  # type: ignore[method-assign]

    async def scenario() -> list[int]:
        update = telegram.update(telegram.send_text(701, "/start"))
        transport = httpx.ASGITransport(app=webhook.webhook_app(application, SECRET))
        codes = []
        async with (
            application,
            httpx.AsyncClient(transport=transport, base_url="http://bot") as client,
        ):
            headers = {webhook.SECRET_HEADER: SECRET}
            codes.append((await client.post("/telegram", json=update)).status_code)
            codes.append((await client.post("/telegram", json=update, headers=headers)).status_code)
            failing["now"] = False  # Telegram sends it again, and now the step works
            codes.append((await client.post("/telegram", json=update, headers=headers)).status_code)
            codes.append(
                (await client.post("/telegram", content=b"{", headers=headers)).status_code
            )
        return codes

    assert asyncio.run(scenario()) == [403, 500, 200, 400]
    welcome = [c for c in telegram.calls("sendMessage") if "Wegwijs" in c["params"]["text"]]
    assert len(welcome) == 1

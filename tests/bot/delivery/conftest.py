"""The delivery tests' department system: a real webhook receiver, and department A of the
test municipality pointing its webhook at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.knowledge import Knowledge
from bot.storage.models import Department
from tests.bot.delivery.support import SECRET
from tests.fakes.webhook_receiver import WebhookReceiver
from tests.web.world import A, World


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver(SECRET) as running:
        yield running


@pytest.fixture
def world(
    sessions: sessionmaker[Session], knowledge: Knowledge, receiver: WebhookReceiver
) -> World:
    """Department A has a webhook pointing at the receiver."""
    with sessions.begin() as session:
        department = session.get(Department, A)
        assert department is not None
        department.webhook_url = receiver.url
        department.webhook_secret = SECRET
    return World(sessions, knowledge)

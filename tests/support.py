"""Helpers several test modules share, kept out of the test modules so that none imports
another: the databases the tests run on, a request stored the way the bot stores it, and the
date the tests call today."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session

from bot.knowledge import NEED_ORDER, Knowledge
from bot.routing.rules import RequestFacts, route
from bot.storage import repositories as repo
from bot.storage.models import Request

POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
DATABASES = os.environ.get("TEST_DATABASES", "postgresql,sqlite").split(",")
# Tests whose subject does not depend on the database (the pages in a browser, a conversation
# with the bot process) run on the first only: storage, queue, delivery and migrations are
# checked on both elsewhere.
FIRST_DATABASE = DATABASES[:1]
TODAY = date(2026, 11, 23)  # a Monday
# "Todays" that date-dependent tests run across: month ends, the year's end, an ISO week 53
# (2026 has one), a leap day, and around King's Day, Christmas and Easter Monday.
TODAYS = [
    date(2026, 11, 30),
    date(2026, 12, 1),
    date(2026, 12, 28),
    date(2026, 12, 31),
    date(2027, 1, 1),
    date(2027, 1, 4),
    date(2027, 2, 28),
    date(2027, 3, 29),
    date(2027, 4, 27),
    date(2027, 12, 24),
    date(2028, 2, 29),
]


def store(session: Session, knowledge: Knowledge, resident, needs, answers) -> Request:
    decision = route(
        repo.routing_rules(session),
        RequestFacts.from_answers(needs, answers),
        repo.fallback_department(session),
        NEED_ORDER,
    )
    return repo.create_request(
        session,
        resident=resident,
        needs=needs,
        answers=answers,
        decision=decision,
        due=date(2026, 12, 1),
        language="nl",
        conversation_started=datetime.now(UTC) - timedelta(minutes=5),
    )

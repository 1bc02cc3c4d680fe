"""Helpers several test modules share, kept out of the test modules so that none imports
another: a request stored the way the bot stores it, and the date the tests call today."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session

from bot.knowledge import NEED_ORDER, Knowledge
from bot.routing.rules import RequestFacts, route
from bot.storage import repositories as repo
from bot.storage.models import Request

TODAY = date(2026, 11, 23)  # a Monday


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

"""The queries the bot needs, kept apart from the models and from the dialogue."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, selectinload

from bot.contact import CONTACT_FIELDS
from bot.queue import workflow
from bot.routing.rules import RoutingDecision, Rule
from bot.storage.models import (
    Base,
    Conversation,
    Department,
    Heartbeat,
    MessageLog,
    ProcessedUpdate,
    Request,
    RequestPart,
    Resident,
    RoutingRule,
    utc_now,
)

# A request's reference: "WW-2026-000012", also as residents type it in a message.
REFERENCE_PREFIX = "WW"
REFERENCE = re.compile(rf"\b{REFERENCE_PREFIX}-\d{{4}}-\d{{6}}\b")


def routing_rules(session: Session) -> list[Rule]:
    rows = session.scalars(select(RoutingRule).order_by(RoutingRule.position, RoutingRule.id))
    return [Rule(row.name, dict(row.conditions), row.department_key) for row in rows]


def fallback_department(session: Session) -> str:
    """The department that takes what no rule matches."""
    key = session.scalar(select(Department.key).where(Department.is_fallback))
    if key is None:
        raise LookupError("no fallback department is set")
    return key


def departments(session: Session) -> dict[str, Department]:
    return {d.key: d for d in session.scalars(select(Department))}


def resident_for(session: Session, channel: str, external_id: str, language: str) -> Resident:
    resident = session.scalar(
        select(Resident).where(Resident.channel == channel, Resident.external_id == external_id)
    )
    if resident is None:
        resident = Resident(channel=channel, external_id=external_id, language=language)
        session.add(resident)
        session.flush()
    return resident


def known_contact(resident: Resident) -> dict[str, Any]:
    """Contact details from an earlier request, so they are not asked again."""
    if not resident.name:
        return {}
    return {field: getattr(resident, field) for field in CONTACT_FIELDS}


def conversation_for(session: Session, resident: Resident) -> Conversation:
    conversation = session.get(Conversation, resident.id, with_for_update=True)
    if conversation is None:
        conversation = Conversation(resident_id=resident.id, state={})
        session.add(conversation)
        session.flush()
    return conversation


# Telegram redelivers an update within a day; older records only cost space.
PROCESSED_UPDATES_KEPT = timedelta(days=3)


def first_time(session: Session, source: str, update_id: int) -> bool:
    """Record that this step handles update `update_id` of `source`; False if a step
    already did. Inserted first thing in the step's transaction, so a second process with
    the same update waits for the first one's commit and then finds it (ON CONFLICT DO
    NOTHING)."""
    recorded = session.execute(
        _insert(session, ProcessedUpdate)
        .values(source=source, update_id=update_id, processed_at=utc_now())
        .on_conflict_do_nothing()
        .returning(ProcessedUpdate.update_id)
    ).first()
    if update_id % 1000 == 0:  # now and then, forget what can no longer come back
        session.execute(
            delete(ProcessedUpdate).where(
                ProcessedUpdate.processed_at < utc_now() - PROCESSED_UPDATES_KEPT
            )
        )
    return recorded is not None


def beat(session: Session, name: str, detail: str | None = None) -> None:
    """Tell /healthz that `name` (the bot, the delivery worker) is alive. An upsert: several
    processes beat under one name at the same moment."""
    statement = _insert(session, Heartbeat).values(name=name, detail=detail, seen_at=utc_now())
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[Heartbeat.name],
            set_={"detail": statement.excluded.detail, "seen_at": statement.excluded.seen_at},
        )
    )


def _insert(session: Session, table: type[Base]) -> postgresql.Insert | sqlite.Insert:
    """An INSERT that can say what to do on a conflict, in the database's own dialect."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def last_message_in(session: Session, resident: Resident) -> str | None:
    """The text of the resident's previous message, as the transcript has it."""
    return session.scalar(
        select(MessageLog.text)
        .where(MessageLog.resident_id == resident.id, MessageLog.direction == "in")
        .order_by(MessageLog.id.desc())
        .limit(1)
    )


def log_message(
    session: Session,
    resident: Resident,
    direction: str,
    text: str,
    intent: str | None = None,
    confidence: float | None = None,
) -> None:
    session.add(
        MessageLog(
            resident_id=resident.id,
            direction=direction,
            text=text,
            intent=intent,
            confidence=confidence,
        )
    )


def create_request(
    session: Session,
    *,
    resident: Resident,
    needs: Sequence[str],
    answers: dict[str, Any],
    decision: RoutingDecision,
    due: date,
    language: str,
    conversation_started: datetime,
    is_handover: bool = False,
    urgent: bool = False,
) -> Request:
    """Store one consolidated request. Contact details go to the resident, not the request,
    and the conversation's messages become the request's transcript."""
    for field in CONTACT_FIELDS:
        if field in answers:
            setattr(resident, field, answers[field])
    request = Request(
        resident_id=resident.id,
        department_key=decision.department,
        needs=list(needs),
        answers={k: v for k, v in answers.items() if k not in CONTACT_FIELDS},
        initiative=initiative_key(answers.get("initiative_name")),
        language=language,
        is_handover=is_handover,
        urgent=urgent,
        routing_rule=decision.rule,
        due_at=due,
        parts=[RequestPart(need=n, department_key=d) for n, d in decision.part_departments.items()],
    )
    session.add(request)
    session.flush()
    request.reference = f"{REFERENCE_PREFIX}-{request.created_at.year}-{request.id:06d}"
    session.flush()  # the transcript link below must see the request id
    session.execute(
        update(MessageLog)
        .where(
            MessageLog.resident_id == resident.id,
            MessageLog.request_id.is_(None),
            MessageLog.created_at >= conversation_started,
        )
        .values(request_id=request.id)
    )
    return request


def initiative_key(name: object) -> str | None:
    """'Repair Café  Noord' and 'repair café noord' are the same initiative."""
    if not isinstance(name, str) or not name.strip():
        return None
    return " ".join(name.lower().split())[:120]


def open_request(session: Session, request_id: int | None) -> Request | None:
    """The request if it exists and is not closed (a reply can still be added to it)."""
    if request_id is None:
        return None
    request = session.get(Request, request_id)
    if request is None or request.status in workflow.CLOSED:
        return None
    return request


def requests_of(session: Session, resident: Resident) -> list[Request]:
    return list(
        session.scalars(
            select(Request)
            .where(Request.resident_id == resident.id)
            .options(selectinload(Request.parts), selectinload(Request.department))
            .order_by(Request.created_at.desc(), Request.id.desc())
        )
    )


def all_requests(session: Session) -> list[Request]:
    return list(
        session.scalars(
            select(Request)
            .options(selectinload(Request.parts), selectinload(Request.assignee))
            .order_by(Request.created_at, Request.id)
        )
    )


def transcript(session: Session, request: Request) -> list[MessageLog]:
    return list(
        session.scalars(
            select(MessageLog).where(MessageLog.request_id == request.id).order_by(MessageLog.id)
        )
    )


def unlisted_answers(
    session: Session, key: str, listed: Sequence[str], recent: int = 2000
) -> list[tuple[str, int]]:
    """Answers to an open choice question that are not among its choices (a neighbourhood
    typed by residents), most frequent first, from the most recent requests: for an admin
    to add them to the list."""
    rows = session.scalars(select(Request.answers).order_by(Request.id.desc()).limit(recent))
    known = {value.casefold() for value in listed}
    counts = Counter(
        str(answers[key]).strip()
        for answers in rows
        if answers.get(key) and str(answers[key]).casefold() not in known
    )
    return counts.most_common()

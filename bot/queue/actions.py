"""What officials (and the resident's replies) do to a request. Every action appends to the
history, and what the outside world must hear goes to the outbox in the same transaction."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.delivery import outbox
from bot.dialogue.presentation import format_day
from bot.knowledge import Knowledge
from bot.learning import inbox
from bot.queue import workflow
from bot.queue.history import Event
from bot.queue.serialize import request_json
from bot.queue.workflow import Status
from bot.routing.sla import add_working_days, working_days_between
from bot.storage.models import (
    Conversation,
    Department,
    Notification,
    Request,
    RequestEvent,
    User,
    utc_now,
)

MAX_MESSAGE_LENGTH = 4000  # Telegram's limit is 4096 characters per message


class ActionError(ValueError):
    """An action that cannot be done; its text is shown to the official as is."""


def record_created(session: Session, request: Request) -> None:
    """A new request: start its history and tell the departments' systems."""
    _event(session, request, Event.CREATED, None, new_value=request.department_key)
    _tell_departments(session, request, "request.created")


def claim(session: Session, request: Request, official: User) -> None:
    assign(session, request, official, official)


def assign(session: Session, request: Request, actor: User, assignee: User | None) -> None:
    """Give the request to `assignee` (or nobody); a colleague gets a notification."""
    old = request.assignee.username if request.assignee else None
    new = assignee.username if assignee else None
    if old == new:
        return
    if assignee is not None and not can_handle(assignee, request):
        raise ActionError(f"{assignee.full_name} werkt niet bij een afdeling van deze aanvraag.")
    request.assignee = assignee
    _event(session, request, Event.ASSIGNED, actor, old_value=old, new_value=new)
    if assignee is not None and assignee.id != actor.id:
        session.add(
            Notification(
                user_id=assignee.id,
                request_id=request.id,
                text=f"{actor.full_name} heeft {request.reference} aan u toegewezen.",
            )
        )
    _tell_departments(session, request, "request.assigned")


def change_status(
    session: Session,
    knowledge: Knowledge,
    request: Request,
    actor: User,
    new_status: str,
    message: str | None = None,
    today: date | None = None,
) -> bool:
    """Move along the workflow table. The resident gets one message per change that matters
    to them (never one per need), starting from the standard text the official may edit.
    Returns whether the resident is told."""
    tell_resident = workflow.check(request.status, new_status)
    text = (message or "").strip() or knowledge.status_message(new_status, request.language)
    if tell_resident:
        _check_length(text)
    _set_status(session, request, actor, new_status, today or date.today())
    if tell_resident:
        _message_resident(
            session,
            request,
            knowledge.text(
                "status_update",
                request.language,
                reference=request.reference,
                status=knowledge.status_name(new_status, request.language),
                message=text,
            ),
            expect_reply=new_status == Status.WAITING_FOR_RESIDENT,
        )
        _event(session, request, Event.MESSAGE_OUT, actor, text=text)
        _first_response(request)
    _tell_departments(session, request, "request.status_changed")
    return tell_resident


def write_to_resident(
    session: Session, knowledge: Knowledge, request: Request, actor: User, text: str
) -> None:
    text = text.strip()
    if not text:
        raise ActionError("Het bericht is leeg.")
    _check_length(text)
    _message_resident(
        session,
        request,
        knowledge.text(
            "official_message",
            request.language,
            reference=request.reference,
            department=request.department.name,
            message=text,
        ),
        expect_reply=True,
    )
    _event(session, request, Event.MESSAGE_OUT, actor, text=text)
    _first_response(request)
    _tell_departments(session, request, "request.message_sent")


def add_note(session: Session, request: Request, actor: User, text: str) -> None:
    """An internal note: in the history for colleagues, never sent to the resident."""
    text = text.strip()
    if not text:
        raise ActionError("De notitie is leeg.")
    _event(session, request, Event.NOTE, actor, text=text[:10_000])


def reroute(
    session: Session,
    knowledge: Knowledge,
    request: Request,
    actor: User,
    department_key: str,
    reason: str,
    today: date | None = None,
) -> None:
    """Send the request to another department. Thread, history and resident stay; the parts
    the old department held move along, so it drops out of the old queue; the resident gets
    one message and the new department sees why. The resident's first message goes to the
    NLU inbox: the model may have misread it."""
    reason = reason.strip()
    if not reason:
        raise ActionError("Geef een reden op, zodat de nieuwe afdeling weet waarom.")
    target = session.get(Department, department_key)
    if target is None:
        raise ActionError("Die afdeling bestaat niet.")
    old_key = request.department_key
    if target.key == old_key:
        raise ActionError("De aanvraag ligt al bij deze afdeling.")
    old_departments = {old_key, *request.co_departments}
    for part in request.parts:
        if part.department_key == old_key:
            part.department_key = target.key
    request.department_key = target.key
    request.department = target
    request.assignee = None
    new_due = add_working_days(today or date.today(), target.sla_days)
    request.due_at = max(request.due_at, new_due)
    _event(
        session,
        request,
        Event.REROUTED,
        actor,
        old_value=old_key,
        new_value=target.key,
        text=reason,
    )
    inbox.add_rerouted(session, knowledge, request)
    _message_resident(
        session,
        request,
        knowledge.text(
            "rerouted",
            request.language,
            reference=request.reference,
            department=target.name,
            due=format_day(request.due_at, request.language),
        ),
        expect_reply=False,
    )
    _tell_departments(session, request, "request.rerouted", also=old_departments)


def record_resident_reply(session: Session, request: Request, text: str) -> None:
    """The resident answered in the chat: add it to the thread; if the request was waiting
    for them, it is back with the official and the clock runs again."""
    _event(session, request, Event.MESSAGE_IN, None, text=text)
    if request.status == Status.WAITING_FOR_RESIDENT:
        workflow.check(request.status, Status.IN_PROGRESS)
        _set_status(session, request, None, Status.IN_PROGRESS, date.today())
    _tell_departments(session, request, "request.resident_replied")


def can_handle(user: User, request: Request) -> bool:
    """Admins handle everything; officials the requests of their departments, lead or co."""
    if user.is_admin:
        return True
    mine = set(user.department_keys)
    return request.department_key in mine or bool(mine & set(request.co_departments))


def history(session: Session, request: Request) -> list[RequestEvent]:
    return list(
        session.scalars(
            select(RequestEvent)
            .where(RequestEvent.request_id == request.id)
            .order_by(RequestEvent.created_at, RequestEvent.id)
        )
    )


# -- helpers ------------------------------------------------------------------------------


def _set_status(
    session: Session, request: Request, actor: User | None, new_status: str, today: date
) -> None:
    """Waiting for the resident pauses the SLA clock: the due date moves by the working
    days the request waited."""
    old = request.status
    if old == Status.WAITING_FOR_RESIDENT and request.paused_at is not None:
        paused = working_days_between(request.paused_at.date(), today)
        request.due_at = add_working_days(request.due_at, paused)
        request.paused_at = None
    if new_status == Status.WAITING_FOR_RESIDENT:
        request.paused_at = utc_now()
    if new_status in workflow.CLOSED:
        request.closed_at = utc_now()
    elif new_status == Status.REOPENED:
        request.closed_at = None
    request.status = new_status
    _event(session, request, Event.STATUS, actor, old_value=old, new_value=new_status)


def _event(
    session: Session,
    request: Request,
    kind: Event,
    actor: User | None,
    *,
    old_value: str | None = None,
    new_value: str | None = None,
    text: str | None = None,
) -> None:
    session.add(
        RequestEvent(
            request_id=request.id,
            kind=kind,
            actor_id=actor.id if actor else None,
            old_value=old_value,
            new_value=new_value,
            text=text,
        )
    )


def _check_length(text: str) -> None:
    if len(text) > MAX_MESSAGE_LENGTH:
        raise ActionError(f"Het bericht is te lang: hoogstens {MAX_MESSAGE_LENGTH} tekens.")


def _first_response(request: Request) -> None:
    if request.first_response_at is None:
        request.first_response_at = utc_now()


def _message_resident(session: Session, request: Request, text: str, *, expect_reply: bool) -> None:
    """Queue one message for the resident; when a reply is expected, the resident's next free
    text in the chat is added to this request's thread (until the request is closed: the
    conversation service drops a reply_to whose request is no longer open)."""
    resident = request.resident
    outbox.add_resident_message(
        session,
        request_id=request.id,
        resident_id=resident.id,
        channel=resident.channel,
        payload={"chat_id": resident.external_id, "text": text},
    )
    conversation = session.get(Conversation, resident.id) if expect_reply else None
    if conversation is not None:
        conversation.state = {**conversation.state, "reply_to": request.id}


def _tell_departments(
    session: Session, request: Request, event: str, also: set[str] | None = None
) -> None:
    """One webhook call per involved department that has a webhook. The request's row is
    locked first, until the commit: two changes to one request in different transactions
    then commit one after the other, so their events are numbered, and delivered, in the
    order they happened, each with the request as it stood then."""
    session.flush()
    session.refresh(request, with_for_update=True)
    keys = {request.department_key, *request.co_departments, *(also or set())}
    payload = {
        "event": event,
        "occurred_at": utc_now().isoformat(),
        "request": request_json(request),
    }
    for department in session.scalars(select(Department).where(Department.key.in_(keys))):
        if department.webhook_url:
            outbox.add_webhook(
                session, request_id=request.id, department_key=department.key, payload=payload
            )

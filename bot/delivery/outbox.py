"""The outbox: what must be delivered is written in the same transaction as the change it
reports; workers claim rows with SKIP LOCKED, so two processes never send the same row.

A claimed row's lease (`locked_until`) is also its fencing token: every later write by the
worker (renew, release, mark delivered or failed) is an UPDATE that matches the lease value
that worker set, so it misses once another worker has taken the row over.

Rows are delivered in order per stream: a request's events to one department, the messages to
one chat. A row waits while an older row of its stream is undelivered, also while that one
backs off after a failure, so a retry is never overtaken (see claim)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, Update, exists, or_, select, update
from sqlalchemy.orm import Session, aliased

from bot.dialogue.turns import Button, Reply
from bot.storage.models import OutboxMessage, utc_now

# After a failed attempt, wait this long before the next one: soon at first, then less often
# (the way FixMyStreet retries). After the last step the delivery is given up and shown to
# admins, who can send it again by hand.
DEFAULT_RETRY_SECONDS = (60, 300, 900, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 24 * 3600, 24 * 3600)


def resident_stream(channel: str, chat_id: str) -> str:
    """The messages to one chat arrive in the order they were written."""
    return f"resident:{channel}:{chat_id}"


def webhook_stream(request_id: int, department_key: str) -> str:
    """One request's events arrive at one department in the order they happened. The key is
    the department, not its URL: the URL is looked up when sending and may change meanwhile."""
    return f"webhook:{request_id}:{department_key}"


def add_resident_message(
    session: Session, *, request_id: int | None, resident_id: int, channel: str, payload: dict
) -> OutboxMessage:
    message = OutboxMessage(
        kind="resident",
        channel=channel,
        stream=resident_stream(channel, str(payload["chat_id"])),
        idempotency_key=str(uuid.uuid4()),
        request_id=request_id,
        resident_id=resident_id,
        payload=payload,
    )
    session.add(message)
    return message


def add_reply(
    session: Session,
    *,
    resident_id: int,
    channel: str,
    chat_id: str,
    reply: Reply,
    leased_until: datetime | None = None,
) -> OutboxMessage:
    """A bot reply of a conversation step, written in the step's transaction: sent after
    the commit, once, in order with the chat's other messages. With `leased_until` the step
    claims it for sending at once itself; should it die first, a worker sends it once that
    lease has run out."""
    buttons = [[[button.label, button.data] for button in row] for row in reply.buttons]
    payload = {"chat_id": chat_id, "text": reply.text}
    message = add_resident_message(
        session,
        request_id=None,
        resident_id=resident_id,
        channel=channel,
        payload={**payload, "buttons": buttons} if buttons else payload,
    )
    if leased_until is not None:
        message.locked_until, message.attempts = leased_until, 1
    return message


def reply_of(payload: dict[str, Any]) -> Reply:
    """The message a resident's outbox row holds: its text, and a bot reply's buttons."""
    buttons = [[Button(label, data) for label, data in row] for row in payload.get("buttons", [])]
    return Reply(str(payload["text"]), buttons)


def waiting(session: Session, channel: str, chat_id: str, *, replies_only: bool = False) -> bool:
    """Whether messages to this chat still wait to be sent (with `replies_only`, the bot's
    own replies: officials' messages belong to a request)."""
    conditions = [
        OutboxMessage.stream == resident_stream(channel, chat_id),
        OutboxMessage.delivered_at.is_(None),
        OutboxMessage.gave_up_at.is_(None),
    ]
    if replies_only:
        conditions.append(OutboxMessage.request_id.is_(None))
    return bool(session.scalar(select(exists().where(*conditions))))


def add_webhook(
    session: Session, *, request_id: int, department_key: str, payload: dict[str, Any]
) -> OutboxMessage:
    key = str(uuid.uuid4())
    message = OutboxMessage(
        kind="webhook",
        stream=webhook_stream(request_id, department_key),
        idempotency_key=key,
        request_id=request_id,
        department_key=department_key,
        payload={**payload, "idempotency_key": key},
    )
    session.add(message)
    return message


def claim(
    session: Session,
    *,
    channels: Sequence[str],
    lease_seconds: float,
    limit: int = 20,
    now: datetime | None = None,
) -> list[OutboxMessage]:
    """Take up to `limit` due messages this worker can deliver and lease them until `now` plus
    `lease_seconds`. Rows another worker holds are skipped (FOR UPDATE SKIP LOCKED on
    PostgreSQL); a lease that ran out, because its worker died mid-delivery, makes the row due
    again. SQLite's SELECT takes no lock, so each lease is set by an UPDATE that checks again
    that the row is due: of two claims that read the same row, only the first to write gets
    it.

    Only the oldest undelivered row of a stream is due (see _due), so a claim takes at most
    one row per stream and the next one waits until this one is delivered: a worker that
    fails it or dies with it cannot have sent a newer one meanwhile. A row given up no longer
    holds its stream back: the newer rows go, and an admin's resend of it arrives after them.
    "Older" is the lower id: the order the rows were written in, for changes that commit
    one after the other."""
    now = now or utc_now()
    deliverable = OutboxMessage.kind == "webhook"
    if channels:
        deliverable = or_(
            deliverable, (OutboxMessage.kind == "resident") & OutboxMessage.channel.in_(channels)
        )
    candidates = list(
        session.scalars(
            select(OutboxMessage.id)
            .where(deliverable, *_due(now))
            .order_by(OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True, of=OutboxMessage)
        )
    )
    until = now + timedelta(seconds=lease_seconds)
    taken = [
        message_id
        for message_id in candidates
        if _hits(
            session,
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, *_due(now))
            .values(locked_until=until, attempts=OutboxMessage.attempts + 1),
        )
    ]
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.id.in_(taken))
            .order_by(OutboxMessage.id)
            .execution_options(populate_existing=True)
        )
    )


def renew(
    session: Session, message_id: int, leased_until: datetime, lease_seconds: float
) -> datetime | None:
    """Extend this worker's lease just before it sends: a fresh lease for the send, and the
    check that the row is still this worker's. Returns the new lease (the token from now on),
    or None if another worker has taken the row over or it is done."""
    until = utc_now() + timedelta(seconds=lease_seconds)
    renewed = _hits(
        session,
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.locked_until == leased_until,
            OutboxMessage.delivered_at.is_(None),
            OutboxMessage.gave_up_at.is_(None),
        )
        .values(locked_until=until),
    )
    return until if renewed else None


def mark_delivered(session: Session, message_id: int, leased_until: datetime) -> bool:
    """Record the delivery, if the row is still this worker's (False if it is not)."""
    return _hits(
        session,
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.locked_until == leased_until)
        .values(delivered_at=utc_now(), locked_until=None, last_error=None),
    )


def mark_all_delivered(session: Session, message_ids: list[int], leased_until: datetime) -> None:
    """mark_delivered for several rows under one lease (a step's replies), in one statement."""
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(message_ids), OutboxMessage.locked_until == leased_until)
        .values(delivered_at=utc_now(), locked_until=None, last_error=None)
        .execution_options(synchronize_session=False)
    )


def release(session: Session, message_id: int, leased_until: datetime) -> None:
    """Give back a claimed message that was not tried, unless another worker has taken it
    meanwhile (its lease differs): it is due again at once, its attempt not counted."""
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.locked_until == leased_until)
        .values(locked_until=None, attempts=OutboxMessage.attempts - 1)
    )


def mark_failed(
    session: Session,
    message_id: int,
    leased_until: datetime,
    error: str,
    retry_seconds: Sequence[float],
) -> bool:
    """Record why it failed and when to try again, or give up after the last step; only if
    the row is still this worker's (False if it is not)."""
    mine = _hits(
        session,
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.locked_until == leased_until)
        .values(locked_until=None, last_error=error[:2000]),
    )
    message = session.get(OutboxMessage, message_id, populate_existing=True) if mine else None
    if message is None:
        return False
    step = message.attempts - 1
    if step >= len(retry_seconds):
        message.gave_up_at = utc_now()
    else:
        message.next_attempt_at = utc_now() + timedelta(seconds=retry_seconds[step])
    return True


def resend(session: Session, message_id: int) -> None:
    """An admin's 'send again': due now, with a fresh count of attempts."""
    message = session.get(OutboxMessage, message_id)
    if message is None or message.delivered_at is not None:
        return
    message.gave_up_at = None
    message.attempts = 0
    message.next_attempt_at = utc_now()
    message.locked_until = None


def failing(session: Session, limit: int = 200) -> list[OutboxMessage]:
    """Undelivered messages that failed at least once, for the admins' overview."""
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.delivered_at.is_(None), OutboxMessage.last_error.is_not(None))
            .order_by(OutboxMessage.id.desc())
            .limit(limit)
        )
    )


def _due(now: datetime) -> list[ColumnElement[bool]]:
    """A row any worker may take at `now`: not done, its time come, no live lease, and no
    older row of its stream still to deliver (whether that one is due, leased or waiting for
    its retry). Checked in the database, so it holds for every worker on it; FOR UPDATE
    locks only the candidate rows, not the older ones this only reads."""
    older = aliased(OutboxMessage)
    return [
        OutboxMessage.delivered_at.is_(None),
        OutboxMessage.gave_up_at.is_(None),
        OutboxMessage.next_attempt_at <= now,
        or_(OutboxMessage.locked_until.is_(None), OutboxMessage.locked_until <= now),
        ~exists().where(
            older.stream == OutboxMessage.stream,
            older.id < OutboxMessage.id,
            older.delivered_at.is_(None),
            older.gave_up_at.is_(None),
        ),
    ]


def _hits(session: Session, statement: Update) -> bool:
    """Run a one-row UPDATE; did it match the row?"""
    result = session.execute(statement.execution_options(synchronize_session=False))
    return cast(CursorResult[Any], result).rowcount == 1

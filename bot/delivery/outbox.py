"""The outbox: what must be delivered is written in the same transaction as the change it
reports; workers claim rows with SKIP LOCKED, so two processes never send the same row."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from bot.storage.models import OutboxMessage, utc_now

# After a failed attempt, wait this long before the next one: soon at first, then less often
# (the way FixMyStreet retries). After the last step the delivery is given up and shown to
# admins, who can send it again by hand.
DEFAULT_RETRY_SECONDS = (60, 300, 900, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 24 * 3600, 24 * 3600)


def add_resident_message(
    session: Session, *, request_id: int | None, resident_id: int, channel: str, payload: dict
) -> OutboxMessage:
    message = OutboxMessage(
        kind="resident",
        channel=channel,
        idempotency_key=str(uuid.uuid4()),
        request_id=request_id,
        resident_id=resident_id,
        payload=payload,
    )
    session.add(message)
    return message


def add_webhook(
    session: Session, *, request_id: int, department_key: str, payload: dict[str, Any]
) -> OutboxMessage:
    key = str(uuid.uuid4())
    message = OutboxMessage(
        kind="webhook",
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
    """Take up to `limit` due messages this worker can deliver and lease them. Rows another
    worker holds are skipped (FOR UPDATE SKIP LOCKED on PostgreSQL); a lease that ran out,
    because its worker died mid-delivery, makes the row due again."""
    now = now or utc_now()
    deliverable = OutboxMessage.kind == "webhook"
    if channels:
        deliverable = or_(
            deliverable, (OutboxMessage.kind == "resident") & OutboxMessage.channel.in_(channels)
        )
    rows = list(
        session.scalars(
            select(OutboxMessage)
            .where(
                deliverable,
                OutboxMessage.delivered_at.is_(None),
                OutboxMessage.gave_up_at.is_(None),
                OutboxMessage.next_attempt_at <= now,
                or_(OutboxMessage.locked_until.is_(None), OutboxMessage.locked_until <= now),
            )
            .order_by(OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    for row in rows:
        row.locked_until = now + timedelta(seconds=lease_seconds)
        row.attempts += 1
    return rows


def mark_delivered(session: Session, message_id: int) -> None:
    message = session.get(OutboxMessage, message_id)
    if message is not None:
        message.delivered_at = utc_now()
        message.locked_until = None
        message.last_error = None


def release(session: Session, message_id: int, leased_until: datetime) -> None:
    """Give back a claimed message that was not tried, unless another worker has taken it
    meanwhile (its lease differs): it is due again at once, its attempt not counted."""
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.locked_until == leased_until)
        .values(locked_until=None, attempts=OutboxMessage.attempts - 1)
    )


def mark_failed(
    session: Session, message_id: int, error: str, retry_seconds: Sequence[float]
) -> None:
    """Record why it failed and when to try again, or give up after the last step."""
    message = session.get(OutboxMessage, message_id)
    if message is None:
        return
    message.last_error = error[:2000]
    message.locked_until = None
    step = message.attempts - 1
    if step >= len(retry_seconds):
        message.gave_up_at = utc_now()
    else:
        message.next_attempt_at = utc_now() + timedelta(seconds=retry_seconds[step])


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

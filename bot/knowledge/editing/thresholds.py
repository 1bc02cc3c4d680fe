"""Admins' changes to the confidence thresholds (knowledge/dialogue.yml): how sure the model
must be before the conversation acts on it. Audited, so the bot uses a change from the next
message on."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.knowledge import store
from bot.knowledge.editing.common import EditError
from bot.storage.models import DialogueThreshold, User


def thresholds(session: Session) -> list[DialogueThreshold]:
    return list(session.scalars(select(DialogueThreshold).order_by(DialogueThreshold.name)))


def edit_thresholds(session: Session, actor: User, typed: dict[str, str]) -> None:
    """Set thresholds from what the admin typed, by name: each a number from 0 to 1 ("0,8"
    or "0.8"). All are checked before any is saved, so a refusal changes nothing."""
    rows = {row.name: row for row in thresholds(session)}
    values = {}
    for name, text in typed.items():
        if name not in rows:
            raise EditError(f"De drempel '{name}' bestaat niet (meer).")
        values[name] = _value(name, text)
    for name, value in values.items():
        row = rows[name]
        if value != row.value:
            before = {"value": row.value, "usage": row.usage}
            row.value = value
            after = {"value": row.value, "usage": row.usage}
            store.record(session, actor, "threshold", name, before, after)
    session.flush()


def _value(name: str, text: str) -> float:
    try:
        value = Decimal(text.strip().replace(",", "."))
    except InvalidOperation:
        raise EditError(f"{name}: vul een getal in, bijvoorbeeld 0,8.") from None
    if not value.is_finite() or not 0 <= value <= 1:
        raise EditError(f"{name}: een drempel ligt tussen 0 en 1, bijvoorbeeld 0,8.")
    return float(value)

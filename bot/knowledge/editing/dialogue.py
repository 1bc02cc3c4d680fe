"""Admins' changes to the conversation's own knowledge (knowledge/dialogue.yml): the
confidence thresholds, how sure the model must be before the conversation acts on it, and
what the bot answers to each conversation intent. Audited, so the bot uses a change from the
next message on."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.knowledge import ACTED_ON_INTENTS, NEED_BUTTONS, intent_kind, store
from bot.knowledge.editing.common import EditError
from bot.storage.knowledge_tables import BotText, DialogueReply, DialogueThreshold, Intent
from bot.storage.models import User


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


def intent_replies(session: Session) -> list[DialogueReply]:
    return list(session.scalars(select(DialogueReply).order_by(DialogueReply.intent)))


def set_intent_reply(
    session: Session, actor: User, intent: str, text_key: str, need_buttons: str
) -> None:
    """What the bot answers to `intent`: the text `text_key` (group text), with the needs as
    buttons never, when_idle or always. An intent without a reply gets it added."""
    if session.get(Intent, intent) is None or intent_kind(intent) != "conversation":
        raise EditError(f"De gespreksintentie '{intent}' bestaat niet (meer).")
    if intent in ACTED_ON_INTENTS:
        raise EditError(f"Op '{intent}' doet de bot zelf iets; daar hoort geen vast antwoord bij.")
    if session.get(BotText, ("text", text_key)) is None:
        raise EditError(f"Er is geen tekst '{text_key}'; kies een tekst uit de lijst.")
    if need_buttons not in NEED_BUTTONS:
        raise EditError("Kies wanneer de vier behoeften als knoppen meekomen.")
    row = session.get(DialogueReply, intent)
    before = {"text": row.text_key, "need_buttons": row.need_buttons} if row else None
    after = {"text": text_key, "need_buttons": need_buttons}
    if before == after:
        return
    if row is None:
        session.add(DialogueReply(intent=intent, text_key=text_key, need_buttons=need_buttons))
    else:
        row.text_key, row.need_buttons = text_key, need_buttons
    session.flush()
    store.record(session, actor, "intent_reply", intent, before, after)

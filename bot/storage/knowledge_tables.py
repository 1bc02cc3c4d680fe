"""The knowledge admins edit, as tables: the database is the live source, and knowledge/
seeds it on a first start. Also the NLU inbox and the trained models."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models import Base, UTCDateTime, utc_now


class Intent(Base):
    """What the NLU model can recognise. Its kind follows from its name (see
    bot.knowledge.intent_kind); only FAQ intents are added or removed by admins, the others
    are tied to what the dialogue does."""

    __tablename__ = "intents"

    name: Mapped[str] = mapped_column(String(120), primary_key=True)
    # From the last `wegwijs nlu cross-validate`: how well this intent is recognised.
    cv_f1: Mapped[float | None] = mapped_column(Float)
    cv_measured_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class TrainingExample(Base):
    """One sentence the model learns from, entities marked the Rasa way: [40](people)."""

    __tablename__ = "training_examples"

    id: Mapped[int] = mapped_column(primary_key=True)
    intent: Mapped[str] = mapped_column(ForeignKey("intents.name"), index=True)
    language: Mapped[str] = mapped_column(String(5), default="nl")
    text: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(20), default="admin")  # seed, admin, inbox
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class NluResource(Base):
    """Entity helpers in the training data: synonyms, lookup tables and regexes."""

    __tablename__ = "nlu_resources"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # synonym, lookup, regex
    name: Mapped[str] = mapped_column(String(120))
    examples: Mapped[list[str]] = mapped_column(default=list)


class BotText(Base):
    """A sentence the bot says, in Dutch and English. group: text, faq (key = intent),
    status, status_message, error."""

    __tablename__ = "bot_texts"

    group: Mapped[str] = mapped_column(String(20), primary_key=True)
    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    nl: Mapped[str] = mapped_column(Text)
    en: Mapped[str | None] = mapped_column(Text)
    # Where the bot says it, for the admin who edits it.
    usage: Mapped[str | None] = mapped_column(Text)


class DialogueThreshold(Base):
    """How sure the model must be before the conversation acts on it (knowledge/dialogue.yml)."""

    __tablename__ = "dialogue_thresholds"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[float] = mapped_column(Float)
    usage: Mapped[str] = mapped_column(Text, default="")


class DialogueReply(Base):
    """What the bot answers to a conversation intent (knowledge/dialogue.yml)."""

    __tablename__ = "dialogue_replies"
    intent: Mapped[str] = mapped_column(String(120), primary_key=True)
    text_key: Mapped[str] = mapped_column(String(120))
    need_buttons: Mapped[str] = mapped_column(String(20))  # never, when_idle, always


class NeedDefinition(Base):
    """A kind of help a resident can ask for (room, tools, budget, permit)."""

    __tablename__ = "needs"

    key: Mapped[str] = mapped_column(String(20), primary_key=True)
    intent: Mapped[str] = mapped_column(String(120))
    label: Mapped[dict[str, Any]] = mapped_column(default=dict)  # {"nl": ..., "en": ...}
    position: Mapped[int] = mapped_column(Integer, default=0)


class QuestionDefinition(Base):
    """A follow-up question of a need, or of the contact details when need_key is None."""

    __tablename__ = "questions"
    __table_args__ = (UniqueConstraint("need_key", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    need_key: Mapped[str | None] = mapped_column(ForeignKey("needs.key"), index=True)
    key: Mapped[str] = mapped_column(String(60))
    position: Mapped[int] = mapped_column(Integer, default=0)
    label: Mapped[dict[str, Any]] = mapped_column(default=dict)
    prompt: Mapped[dict[str, Any]] = mapped_column(default=dict)
    type: Mapped[str] = mapped_column(String(20))
    optional: Mapped[bool] = mapped_column(Boolean, default=False)
    validation: Mapped[dict[str, Any]] = mapped_column(default=dict)
    choices: Mapped[list[Any]] = mapped_column(JSON, default=list)  # [{value, synonyms}]
    from_entity: Mapped[str | None] = mapped_column(String(40))
    entity_index: Mapped[int] = mapped_column(Integer, default=0)


class AuditEntry(Base):
    """Who changed which piece of knowledge when, with the value before and after.
    Append-only; its highest id is also the knowledge's version (see bot.knowledge.store)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, index=True)
    actor: Mapped[str] = mapped_column(String(120))  # username, or "wegwijs knowledge import"
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    subject: Mapped[str] = mapped_column(String(40), index=True)  # e.g. example, text, rule
    subject_key: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(20))  # created, changed, deleted, ...
    before: Mapped[Any | None] = mapped_column(JSON)
    after: Mapped[Any | None] = mapped_column(JSON)


class InboxEntry(Base):
    """A message the model may have got wrong, for an admin to label. The text is masked
    (names, phone numbers, e-mail and street addresses) before it is stored."""

    __tablename__ = "nlu_inbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, index=True)
    reason: Mapped[str] = mapped_column(String(20))  # unsure, rerouted
    text: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(5), default="nl")
    guessed_intent: Mapped[str | None] = mapped_column(String(120))
    confidence: Mapped[float | None] = mapped_column(Float)
    runner_up: Mapped[str | None] = mapped_column(String(120))
    runner_up_confidence: Mapped[float | None] = mapped_column(Float)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("requests.id"))
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    resolved_intent: Mapped[str | None] = mapped_column(String(120))
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class NluModel(Base):
    """One training run and the model it made. Exactly one model is live; earlier ones are
    kept for a rollback."""

    __tablename__ = "nlu_models"

    id: Mapped[int] = mapped_column(primary_key=True)
    # running, failed, rejected (scored worse), ready (kept, not live), live
    status: Mapped[str] = mapped_column(String(20), index=True)
    # "yes" while training; unique, so a second training cannot start beside it.
    running: Mapped[str | None] = mapped_column(String(3), unique=True)
    phase: Mapped[str] = mapped_column(String(120), default="")
    progress: Mapped[int] = mapped_column(Integer, default=0)  # percent
    file_name: Mapped[str | None] = mapped_column(String(200))
    data_hash: Mapped[str | None] = mapped_column(String(64))
    started_by: Mapped[str] = mapped_column(String(120), default="")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, onupdate=utc_now)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Held-out scores of this model, and of the live model it was compared with.
    intent_f1: Mapped[float | None] = mapped_column(Float)
    entity_f1: Mapped[float | None] = mapped_column(Float)
    baseline_intent_f1: Mapped[float | None] = mapped_column(Float)
    intent_scores: Mapped[dict[str, Any]] = mapped_column(default=dict)  # intent -> F1
    error: Mapped[str | None] = mapped_column(Text)

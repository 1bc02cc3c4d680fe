"""Database tables of residents, conversations, requests, officials and delivery; the tables
of the knowledge admins edit are in bot.storage.knowledge_tables. Personal data (name,
phone, email) lives only on Resident."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    event,
    false,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utc_now() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A moment in UTC, handed back time-zone aware on every database: SQLite stores no
    zone, so without this its values come back naive and every reader would have to guess."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[str]: JSON}


class Department(Base):
    __tablename__ = "departments"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    sla_days: Mapped[int] = mapped_column(Integer)
    contact_email: Mapped[str | None] = mapped_column(String(200))
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    # Where this department's own system wants routed requests and changes POSTed, if anywhere.
    webhook_url: Mapped[str | None] = mapped_column(String(500))
    webhook_secret: Mapped[str | None] = mapped_column(String(200))
    # Takes what no routing rule matches (exactly one department).
    is_fallback: Mapped[bool] = mapped_column(Boolean, default=False)


class RoutingRule(Base):
    __tablename__ = "routing_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(Integer, index=True)
    name: Mapped[str] = mapped_column(String(120))
    conditions: Mapped[dict[str, Any]] = mapped_column(default=dict)
    department_key: Mapped[str] = mapped_column(ForeignKey("departments.key"))


class Resident(Base):
    __tablename__ = "residents"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))  # telegram, terminal
    external_id: Mapped[str] = mapped_column(String(64))  # the Telegram chat id
    language: Mapped[str] = mapped_column(String(5), default="nl")
    name: Mapped[str | None] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)

    conversation: Mapped[Conversation | None] = relationship(back_populates="resident")


class Conversation(Base):
    """The dialogue state between messages, so a restart loses nothing."""

    __tablename__ = "conversations"

    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), primary_key=True)
    state: Mapped[dict[str, Any]] = mapped_column(default=dict)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, onupdate=utc_now)

    resident: Mapped[Resident] = relationship(back_populates="conversation")


class Request(Base):
    """One consolidated request: all needs of one conversation, routed to a lead department."""

    __tablename__ = "requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str | None] = mapped_column(String(20), unique=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), index=True)
    department_key: Mapped[str] = mapped_column(ForeignKey("departments.key"), index=True)
    needs: Mapped[list[str]] = mapped_column(default=list)
    answers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(30), default="nieuw", index=True)
    language: Mapped[str] = mapped_column(String(5), default="nl")
    is_handover: Mapped[bool] = mapped_column(Boolean, default=False)
    # The resident asked for priority: the answer would otherwise come after the activity.
    urgent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    routing_rule: Mapped[str | None] = mapped_column(String(120))
    # Lower-cased name of the initiative, so requests for the same initiative find each other.
    initiative: Mapped[str | None] = mapped_column(String(120), index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    due_at: Mapped[date] = mapped_column(Date, index=True)
    # Set while the request waits for the resident: the SLA clock stands still.
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    resident: Mapped[Resident] = relationship()
    department: Mapped[Department] = relationship()
    assignee: Mapped[User | None] = relationship()
    parts: Mapped[list[RequestPart]] = relationship(
        back_populates="request", cascade="all, delete-orphan", order_by="RequestPart.id"
    )

    @property
    def co_departments(self) -> list[str]:
        """Departments of the parts, other than the lead, in need order."""
        keys: list[str] = []
        for part in self.parts:
            if part.department_key != self.department_key and part.department_key not in keys:
                keys.append(part.department_key)
        return keys


class RequestPart(Base):
    """One need of a request and the department that would handle it on its own."""

    __tablename__ = "request_parts"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), index=True)
    need: Mapped[str] = mapped_column(String(20))
    department_key: Mapped[str] = mapped_column(ForeignKey("departments.key"), index=True)

    request: Mapped[Request] = relationship(back_populates="parts")


class MessageLog(Base):
    """Every message in and out; the transcript of a request is its linked messages."""

    __tablename__ = "message_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), index=True)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("requests.id"), index=True)
    direction: Mapped[str] = mapped_column(String(3))  # in, out
    text: Mapped[str] = mapped_column(Text)
    intent: Mapped[str | None] = mapped_column(String(120))
    confidence: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class User(Base):
    """An official or an admin of the web app."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    full_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(20))  # official, admin
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)

    departments: Mapped[list[UserDepartment]] = relationship(
        cascade="all, delete-orphan", order_by="UserDepartment.department_key"
    )

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def department_keys(self) -> list[str]:
        return [link.department_key for link in self.departments]


class UserDepartment(Base):
    __tablename__ = "user_departments"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    department_key: Mapped[str] = mapped_column(ForeignKey("departments.key"), primary_key=True)


class ApiToken(Base):
    """A token for the JSON API; only its SHA-256 is kept, the token itself is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class LoginAttempt(Base):
    """Failed logins, kept to slow down password guessing across processes."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(60), index=True)
    client: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, index=True)


class RequestEvent(Base):
    """The history of a request: append-only, who did what and when. Messages to and from the
    resident and internal notes are events too, so the thread is part of the history."""

    __tablename__ = "request_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    old_value: Mapped[str | None] = mapped_column(String(120))
    new_value: Mapped[str | None] = mapped_column(String(120))
    text: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, index=True)

    actor: Mapped[User | None] = relationship()


_PENDING = "delivered_at IS NULL AND gave_up_at IS NULL"  # outbox rows still to deliver


class OutboxMessage(Base):
    """Something to deliver outside the database: a message to a resident or a webhook call.
    Written in the same transaction as the change it reports, so nothing is lost."""

    __tablename__ = "outbox"
    # Finds a row's older undelivered rows of its stream cheaply (see outbox.claim).
    __table_args__ = (
        Index(
            "ix_outbox_pending_stream",
            "stream",
            "id",
            postgresql_where=text(_PENDING),
            sqlite_where=text(_PENDING),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)  # resident, webhook
    # For messages to residents: the channel that can deliver them (telegram, terminal).
    channel: Mapped[str | None] = mapped_column(String(20), index=True)
    # What must arrive in order: one request's events to one department, or the messages to
    # one chat. A row is sent only after the older rows of its stream (see outbox.claim).
    stream: Mapped[str | None] = mapped_column(String(160))
    idempotency_key: Mapped[str] = mapped_column(String(36), unique=True)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("requests.id"), index=True)
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id"))
    department_key: Mapped[str | None] = mapped_column(ForeignKey("departments.key"))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, index=True)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    gave_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class Notification(Base):
    """Something an official should see on their next visit, such as a request assigned to
    them by a colleague."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"))
    text: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    request: Mapped[Request] = relationship()


class ProcessedUpdate(Base):
    """An update a channel delivered (Telegram's update_id), recorded in the transaction of
    the conversation step it caused: a redelivered update, after a crash or a webhook retry,
    is recognised and not handled twice. Kept for a few days (Telegram redelivers within one)."""

    __tablename__ = "processed_updates"

    # Whose numbering: "telegram:<the bot's id>" (each bot counts from its own start).
    source: Mapped[str] = mapped_column(String(40), primary_key=True)
    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    processed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, index=True)


class Heartbeat(Base):
    """When a long-running part (the bot, the delivery worker) last said it was alive."""

    __tablename__ = "heartbeats"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    detail: Mapped[str | None] = mapped_column(String(200))
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


@event.listens_for(RequestEvent, "before_update")
@event.listens_for(RequestEvent, "before_delete")
def _history_is_append_only(_mapper: Any, _connection: Any, target: RequestEvent) -> None:
    raise ValueError(f"request history is append-only (event {target.id})")

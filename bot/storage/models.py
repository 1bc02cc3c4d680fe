"""Database tables. Personal data (name, phone, email) lives only on Resident."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utc_now() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[str]: JSON}


class Department(Base):
    __tablename__ = "departments"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    sla_days: Mapped[int] = mapped_column(Integer)
    contact_email: Mapped[str | None] = mapped_column(String(200))
    contact_phone: Mapped[str | None] = mapped_column(String(40))


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
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)

    conversation: Mapped[Conversation | None] = relationship(back_populates="resident")


class Conversation(Base):
    """The dialogue state between messages, so a restart loses nothing."""

    __tablename__ = "conversations"

    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), primary_key=True)
    state: Mapped[dict[str, Any]] = mapped_column(default=dict)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utc_now, onupdate=utc_now
    )

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
    routing_rule: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    due_at: Mapped[date] = mapped_column(Date, index=True)

    resident: Mapped[Resident] = relationship()
    department: Mapped[Department] = relationship()
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
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)

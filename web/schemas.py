"""The shapes of the JSON API, as the OpenAPI document at /api/openapi.json describes them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from bot.knowledge import NEED_ORDER
from bot.queue.actions import MAX_MESSAGE_LENGTH
from bot.queue.queries import QueueFilter
from bot.queue.workflow import Status

MAX_PER_PAGE = 200


class RequestFilters(BaseModel):
    """The query parameters of GET /api/requests; unknown ones are refused, so a typo
    does not silently return everything."""

    model_config = ConfigDict(extra="forbid")

    status: Status | None = Field(
        default=None, description="Only this status (closed statuses included)."
    )
    need: str | None = Field(
        default=None,
        pattern=f"^({'|'.join(NEED_ORDER)})$",
        description="Only requests with this need.",
    )
    neighbourhood: str = Field(default="", max_length=100)
    department: str = Field(
        default="", max_length=40, description="Only requests led by this department."
    )
    overdue: bool = Field(default=False, description="Only open requests past their due date.")
    assigned: Literal["me", "none"] | None = Field(
        default=None, description="`me`: assigned to the token's owner; `none`: unassigned."
    )
    q: str = Field(
        default="",
        max_length=200,
        description="Free text in the reference, the answers or the resident's name.",
    )
    include_closed: bool = Field(
        default=False, description="Also closed requests (afgehandeld, afgewezen)."
    )
    page: int = Field(default=1, ge=1)
    per_page: int = Field(default=50, ge=1, le=MAX_PER_PAGE)

    def queue_filter(self) -> QueueFilter:
        return QueueFilter(
            status=self.status or "",
            need=self.need or "",
            neighbourhood=self.neighbourhood,
            department=self.department,
            search=self.q,
            overdue=self.overdue,
            mine=self.assigned == "me",
            unassigned=self.assigned == "none",
            include_closed=self.include_closed,
        )


class RequestOut(BaseModel):
    """A request as department systems see it (the same fields as the webhooks carry)."""

    id: int
    reference: str = Field(examples=["WW-2026-000042"])
    department: str = Field(description="Key of the lead department.", examples=["vastgoed"])
    co_departments: list[str] = Field(
        description="Departments of the other needs of this request, besides the lead."
    )
    needs: list[str] = Field(examples=[["room", "budget"]])
    status: Status
    answers: dict[str, Any] = Field(
        description="The resident's answers per question key (date, people, amount, …); "
        "contact details are not among them."
    )
    assignee: str | None = Field(description="Username of the official handling it.")
    created_at: datetime
    due_at: date = Field(description="Due date after the department's working days (SLA).")


class RequestPage(BaseModel):
    items: list[RequestOut]
    total: int = Field(description="How many requests match the filters, on all pages.")
    page: int
    per_page: int
    pages: int = Field(description="How many pages there are at this page size.")


class Contact(BaseModel):
    """The resident's contact details, as they gave them in the chat."""

    name: str | None
    phone: str | None
    email: str | None


class HistoryEvent(BaseModel):
    kind: str = Field(
        description="created, assigned, status, message_out, message_in, note or rerouted."
    )
    actor: str | None = Field(
        description="Username of the official; null for the resident or the system."
    )
    time: datetime
    old_value: str | None
    new_value: str | None
    text: str | None = Field(
        description="The message, the internal note or the reason for re-routing."
    )


class RelatedRequest(BaseModel):
    """Another request of the same resident or initiative, possibly of another department:
    only what is needed to act as one municipality, its details stay with its department."""

    reference: str
    department: str
    needs: list[str]
    status: Status


class RequestDetail(RequestOut):
    resident: Contact
    allowed_next: list[Status] = Field(
        description="The statuses this request may move to now (the workflow table)."
    )
    history: list[HistoryEvent] = Field(
        description="Append-only, oldest first: status changes, messages both ways, "
        "internal notes, assignments and re-routings."
    )
    related: list[RelatedRequest]


class StatusChange(BaseModel):
    status: Status
    message: str | None = Field(
        default=None,
        max_length=MAX_MESSAGE_LENGTH,
        description="What the resident is told, if this change is one they hear about; "
        "empty: the standard text for the new status.",
    )


class MessageIn(BaseModel):
    text: str = Field(min_length=1, max_length=MAX_MESSAGE_LENGTH)


class InterpretIn(BaseModel):
    text: str = Field(
        min_length=1,
        description="A resident's message; no longer than the bot accepts "
        "(MAX_MESSAGE_LENGTH, 1000 characters by default).",
    )


class Interpretation(BaseModel):
    intent: str = Field(examples=["request_tools+request_budget"])
    confidence: float
    needs: list[str]
    slots: dict[str, Any] = Field(description="Answers found in the text, validated.")
    language: str = Field(examples=["nl"])


class Problem(BaseModel):
    """An error: `detail` says what went wrong."""

    detail: str


class TransitionRefused(BaseModel):
    detail: str
    current: Status
    allowed: list[Status]


class Check(BaseModel):
    status: Literal["ok", "down"]
    detail: str | None = Field(default=None, description="Why it is down, or what runs.")


class Health(BaseModel):
    status: Literal["ok", "degraded", "down"]
    checks: dict[str, Check] = Field(description="`database`, `rasa`, `bot` and `delivery`.")

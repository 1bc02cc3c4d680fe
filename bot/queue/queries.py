"""Reading the queue: what an official may see, filtered and sorted by due date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, String, cast, exists, false, func, or_, select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.sql.elements import ColumnElement

from bot.queue import workflow
from bot.storage.models import Request, RequestPart, Resident, User


@dataclass
class QueueFilter:
    """The filters on the queue page and on GET /api/requests. Empty means: don't filter."""

    status: str = ""
    need: str = ""
    neighbourhood: str = ""
    department: str = ""
    search: str = ""
    overdue: bool = False
    mine: bool = False
    unassigned: bool = False
    include_closed: bool = False


# Urgent requests first, then the soonest due.
QUEUE_ORDER = (Request.urgent.desc(), Request.due_at, Request.id)


def visible_to(user: User) -> ColumnElement[bool]:
    """Admins see all; officials see their departments' requests, as lead or co-department."""
    if user.is_admin:
        return Request.id.is_not(None)
    keys = user.department_keys
    if not keys:
        return false()
    co = exists().where(RequestPart.request_id == Request.id, RequestPart.department_key.in_(keys))
    return or_(Request.department_key.in_(keys), co)


def can_see(
    session: Session, user: User, request_id: int, *, for_update: bool = False
) -> Request | None:
    """The request, if this user may see it; None both when it doesn't exist and when it is
    another department's, so nobody learns what exists elsewhere. Before a change the row
    is locked, so two changes at once are checked against the workflow one after the other."""
    query = _with_details(select(Request).where(Request.id == request_id, visible_to(user)))
    return session.scalar(query.with_for_update(of=Request) if for_update else query)


def queue(
    session: Session,
    user: User,
    filters: QueueFilter,
    today: date,
    *,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[Request], int]:
    """One page of the queue, urgent first, then soonest due, and the total that matches."""
    query = _filtered(user, filters, today)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(_with_details(query.order_by(*QUEUE_ORDER).offset(offset).limit(limit)))
    return list(rows), total


def all_matching(session: Session, user: User, filters: QueueFilter, today: date) -> list[Request]:
    """Everything that matches, for the CSV export."""
    query = _filtered(user, filters, today).order_by(*QUEUE_ORDER)
    return list(session.scalars(_with_details(query)))


def counts(session: Session, user: User, today: date) -> dict[str, int]:
    """The numbers at the top of the queue: per open status, overdue and unassigned."""
    scope = visible_to(user)
    per_status = dict(
        session.execute(
            select(Request.status, func.count()).where(scope).group_by(Request.status)
        ).all()
    )
    open_statuses = [s.value for s in workflow.OPEN]
    overdue = session.scalar(
        select(func.count()).where(scope, Request.status.in_(open_statuses), Request.due_at < today)
    )
    unassigned = session.scalar(
        select(func.count()).where(
            scope, Request.status.in_(open_statuses), Request.assignee_id.is_(None)
        )
    )
    result = {status.value: per_status.get(status.value, 0) for status in workflow.Status}
    result["open"] = sum(per_status.get(s, 0) for s in open_statuses)
    result["overdue"] = overdue or 0
    result["unassigned"] = unassigned or 0
    return result


def related(session: Session, request: Request) -> list[Request]:
    """Other requests of the same resident or the same initiative, in any department."""
    same = Request.resident_id == request.resident_id
    if request.initiative:
        same = or_(same, Request.initiative == request.initiative)
    return list(
        session.scalars(
            select(Request)
            .where(same, Request.id != request.id)
            .options(selectinload(Request.department), selectinload(Request.parts))
            .order_by(Request.created_at.desc())
            .limit(50)
        )
    )


def _filtered(user: User, filters: QueueFilter, today: date) -> Select[tuple[Request]]:
    query = select(Request).where(visible_to(user))
    if filters.status:
        query = query.where(Request.status == filters.status)
    elif not filters.include_closed:
        query = query.where(Request.status.in_([s.value for s in workflow.OPEN]))
    if filters.need:
        query = query.where(
            exists().where(RequestPart.request_id == Request.id, RequestPart.need == filters.need)
        )
    if filters.department:
        query = query.where(Request.department_key == filters.department)
    if filters.neighbourhood:
        query = query.where(
            func.lower(Request.answers["neighbourhood"].as_string())
            == filters.neighbourhood.lower()
        )
    if filters.overdue:
        query = query.where(
            Request.due_at < today, Request.status.in_([s.value for s in workflow.OPEN])
        )
    if filters.mine:
        query = query.where(Request.assignee_id == user.id)
    if filters.unassigned:
        query = query.where(Request.assignee_id.is_(None))
    if filters.search.strip():
        pattern = f"%{_escape_like(filters.search.strip().lower())}%"
        query = query.where(
            or_(
                func.lower(Request.reference).like(pattern, escape="\\"),
                func.lower(cast(Request.answers, String)).like(pattern, escape="\\"),
                exists().where(
                    Resident.id == Request.resident_id,
                    func.lower(Resident.name).like(pattern, escape="\\"),
                ),
            )
        )
    return query


def _with_details(query: Select[tuple[Request]]) -> Select[tuple[Request]]:
    return query.options(
        selectinload(Request.parts),
        selectinload(Request.department),
        selectinload(Request.assignee),
        selectinload(Request.resident),
    )


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")

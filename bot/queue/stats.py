"""The dashboard's figures, scoped like the queue (an official's departments; admins all).

Counting happens in SQL where it is portable (per department and day, the same on PostgreSQL
and SQLite); weeks, medians and working-day ages are worked out here from those rows."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from statistics import median
from typing import Any

from sqlalchemy import Date, case, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from bot.queue import workflow
from bot.queue.queries import visible_to
from bot.routing.sla import working_days_between
from bot.storage.models import Request, User

PERIOD_WEEKS = 12
# Open requests by age in working days: (label, up to and including this many days).
AGE_BUCKETS: tuple[tuple[str, int | None], ...] = (
    ("0–2 dagen", 2),
    ("3–5 dagen", 5),
    ("6–10 dagen", 10),
    ("meer dan 10 dagen", None),
)


def week_starts(today: date, weeks: int = PERIOD_WEEKS) -> list[date]:
    """The Mondays of the last `weeks` weeks, this week last."""
    this_monday = today - timedelta(days=today.weekday())
    return [this_monday - timedelta(weeks=weeks - 1 - n) for n in range(weeks)]


def period_start(today: date) -> datetime:
    """Where the dashboard's period begins: the Monday of the first week shown."""
    return datetime.combine(week_starts(today)[0], datetime.min.time(), tzinfo=UTC)


def requests_per_week(session: Session, user: User, today: date) -> dict[str, list[int]]:
    """New requests per lead department, one count per week of `week_starts(today)`."""
    starts = week_starts(today)
    day = _day(Request.created_at)
    rows = session.execute(
        select(Request.department_key, day, func.count())
        .where(visible_to(user), Request.created_at >= period_start(today))
        .group_by(Request.department_key, day)
    )
    per_department: dict[str, list[int]] = defaultdict(lambda: [0] * len(starts))
    for key, created, count in rows:
        week = (_as_date(created) - starts[0]).days // 7
        if 0 <= week < len(starts):
            per_department[key][week] += count
    return dict(per_department)


def first_response_hours(session: Session, user: User, today: date) -> dict[str, float]:
    """Median hours from a request coming in to the first word to the resident, per lead
    department, for the requests of the period that got one."""
    rows = session.execute(
        select(Request.department_key, Request.created_at, Request.first_response_at).where(
            visible_to(user),
            Request.first_response_at.is_not(None),
            Request.created_at >= period_start(today),
        )
    )
    hours: dict[str, list[float]] = defaultdict(list)
    for key, created, answered in rows:
        hours[key].append((answered - created).total_seconds() / 3600)
    return {key: median(values) for key, values in hours.items()}


def within_sla(session: Session, user: User, today: date) -> dict[str, tuple[int, int]]:
    """Per lead department: (closed on or before the due date, closed), for the requests of
    the period that are closed."""
    on_time = func.sum(case((_day(Request.closed_at) <= Request.due_at, 1), else_=0))
    rows = session.execute(
        select(Request.department_key, on_time, func.count())
        .where(
            visible_to(user),
            Request.status.in_([s.value for s in workflow.CLOSED]),
            Request.closed_at.is_not(None),
            Request.created_at >= period_start(today),
        )
        .group_by(Request.department_key)
    )
    return {key: (int(in_time or 0), count) for key, in_time, count in rows}


def open_by_age(session: Session, user: User, today: date) -> dict[str, list[int]]:
    """Open requests per lead department, counted in the buckets of AGE_BUCKETS by the
    working days since they came in."""
    day = _day(Request.created_at)
    rows = session.execute(
        select(Request.department_key, day, func.count())
        .where(visible_to(user), Request.status.in_([s.value for s in workflow.OPEN]))
        .group_by(Request.department_key, day)
    )
    per_department: dict[str, list[int]] = defaultdict(lambda: [0] * len(AGE_BUCKETS))
    for key, created, count in rows:
        per_department[key][_bucket(working_days_between(_as_date(created), today))] += count
    return dict(per_department)


def _bucket(age: int) -> int:
    return next(i for i, (_, most) in enumerate(AGE_BUCKETS) if most is None or age <= most)


def _day(column: Any) -> ColumnElement[date]:
    """The calendar day of a timestamp: date() exists on PostgreSQL and SQLite alike."""
    return func.date(column, type_=Date)


def _as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)

"""The numbers behind the pages: the dashboard's figures on PostgreSQL and SQLite (counts per
week, the median time to a first answer, the share closed in time and open requests by age,
each scoped to the official's departments), and the CSV export's cells."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot import accounts
from bot.knowledge import Knowledge
from bot.queue import stats
from bot.storage import repositories as repo
from bot.storage.models import User
from tests.support import TODAYS, store
from web.dashboard import dashboard_figures
from web.queue import csv_cell

TODAY = date(2026, 11, 25)  # a Wednesday; the period starts on Monday 7 September


def noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


@pytest.fixture
def made(sessions: sessionmaker[Session], knowledge: Knowledge) -> None:
    """Five requests: (needs, created, first answer after hours, closed, due, status)."""
    rows = [
        (["room"], date(2026, 11, 23), 2, date(2026, 11, 24), date(2026, 11, 30), "afgehandeld"),
        (["room"], date(2026, 11, 16), 6, date(2026, 11, 24), date(2026, 11, 20), "afgewezen"),
        (["tools"], date(2026, 10, 1), None, None, date(2026, 10, 6), "in_behandeling"),
        (["tools"], date(2026, 11, 24), None, None, date(2026, 11, 27), "nieuw"),
        (["budget"], date(2026, 8, 3), 30, None, date(2026, 8, 17), "wacht_op_bewoner"),
    ]
    with sessions.begin() as session:
        for number, (needs, created, hours, closed, due, status) in enumerate(rows):
            resident = repo.resident_for(session, "telegram", str(number), "nl")
            answers = {"amount": "500.00"} if needs == ["budget"] else {}
            request = store(session, knowledge, resident, needs, answers)
            request.created_at = noon(created)
            if hours is not None:
                request.first_response_at = noon(created) + timedelta(hours=hours)
            request.closed_at = noon(closed) if closed else None
            request.due_at, request.status = due, status
        accounts.create_user(
            session, "vera", "a-long-password", role="official", departments=["vastgoed"]
        )
        accounts.create_user(session, "ada", "a-long-password", role="admin", departments=[])


def user(session: Session, name: str) -> User:
    found = accounts.user_by_name(session, name)
    assert found is not None
    return found


def test_figures_for_an_admin(sessions: sessionmaker[Session], made: None) -> None:
    with sessions() as session:
        admin = user(session, "ada")
        weeks = stats.week_starts(TODAY)
        assert (weeks[0], weeks[-1], len(weeks)) == (date(2026, 9, 7), date(2026, 11, 23), 12)
        per_week = stats.requests_per_week(session, admin, TODAY)
        assert per_week == {
            "vastgoed": [0] * 10 + [1, 1],
            "buitendienst": [0, 0, 0, 1] + [0] * 7 + [1],  # 1 October is in the week of 28-9
        }  # the budget request of August is before the period
        assert stats.first_response_hours(session, admin, TODAY) == {"vastgoed": 4.0}
        assert stats.within_sla(session, admin, TODAY) == {"vastgoed": (1, 2)}
        assert stats.open_by_age(session, admin, TODAY) == {
            "buitendienst": [1, 0, 0, 1],  # 1 working day old, and weeks old
            "wijkbudget": [0, 0, 0, 1],
        }


def test_figures_only_of_the_officials_departments(
    sessions: sessionmaker[Session], made: None
) -> None:
    with sessions() as session:
        vera = user(session, "vera")
        assert set(stats.requests_per_week(session, vera, TODAY)) == {"vastgoed"}
        assert stats.within_sla(session, vera, TODAY) == {"vastgoed": (1, 2)}
        assert stats.open_by_age(session, vera, TODAY) == {}


@pytest.mark.parametrize("today", TODAYS, ids=str)
def test_every_chart_renders_for_a_department_without_requests(
    sessions: sessionmaker[Session], made: None, today: date
) -> None:
    """An official whose department has nothing in the period sees empty charts, not a 500
    (pygal fails on y-labels without a series)."""
    with sessions.begin() as session:
        accounts.create_user(
            session, "evi", "a-long-password", role="official", departments=["vergunningen"]
        )
    with sessions() as session:
        names = {"vergunningen": "Vergunningen"}
        figures = dashboard_figures(session, user(session, "evi"), today, names)
    assert len(stats.week_starts(today)) == stats.PERIOD_WEEKS
    for figure in figures:
        assert "Nog geen gegevens" in figure.svg
        assert figure.rows == []


def test_csv_cells_never_start_a_formula() -> None:
    assert csv_cell('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")'
    assert [csv_cell(v) for v in ("+31", "-1", "@SUM(A1)")] == ["'+31", "'-1", "'@SUM(A1)"]
    assert csv_cell("WW-2026-000001") == "WW-2026-000001"

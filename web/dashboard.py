"""The dashboard: four charts of the last weeks, for what the official may see."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from bot.queue import stats
from bot.storage.models import User
from web import charts
from web.common import department_names, show_page
from web.security import DB, Context, CurrentUser

router = APIRouter(include_in_schema=False)


def dashboard_figures(
    session: Session, user: User, today: date, names: dict[str, str]
) -> list[charts.Figure]:
    """The dashboard's four charts for what `user` may see, as of `today`."""
    return [
        charts.requests_per_week(
            stats.week_starts(today), stats.requests_per_week(session, user, today), names
        ),
        charts.first_response(stats.first_response_hours(session, user, today), names),
        charts.within_sla(stats.within_sla(session, user, today), names),
        charts.open_by_age(stats.open_by_age(session, user, today), names),
    ]


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(request: Request, session: DB, context: Context, user: CurrentUser) -> HTMLResponse:
    today = context.today()
    names = department_names(session)
    figures = dashboard_figures(session, user, today, names)
    scope = (
        "alle afdelingen"
        if user.is_admin
        else ", ".join(names.get(key, key) for key in user.department_keys)
    )
    return show_page(
        request,
        "dashboard.html",
        user,
        figures=figures,
        scope=scope,
        since=stats.week_starts(today)[0],
        weeks=stats.PERIOD_WEEKS,
    )

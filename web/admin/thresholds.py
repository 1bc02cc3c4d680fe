"""Admins' page for the confidence thresholds: how sure the model must be before the
conversation acts on what it read (bot.knowledge.editing.thresholds)."""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from bot.knowledge.editing import thresholds as edit
from bot.storage.models import User
from web.admin.common import attempt, page
from web.security import DB, AdminUser, CsrfChecked

router = APIRouter(include_in_schema=False)


def _thresholds_page(
    request: Request,
    session: DB,
    user: User,
    typed: dict[str, str] | None = None,
    problem: str | None = None,
) -> HTMLResponse:
    rows = edit.thresholds(session)
    return page(
        request,
        "admin/thresholds.html",
        user,
        refusal=problem,
        thresholds=rows,
        typed={row.name: f"{row.value:g}" for row in rows} | (typed or {}),
    )


@router.get("/admin/thresholds", response_class=HTMLResponse)
def thresholds_page(request: Request, session: DB, user: AdminUser) -> HTMLResponse:
    return _thresholds_page(request, session, user)


@router.post("/admin/thresholds", dependencies=[CsrfChecked])
async def save_thresholds(request: Request, session: DB, user: AdminUser) -> Response:
    form = await request.form()
    names = [row.name for row in edit.thresholds(session)]
    typed = {name: str(form[name]) for name in names if name in form}  # the rest stays

    def save() -> tuple[str, str]:
        edit.edit_thresholds(session, user, typed)
        return (
            "/admin/thresholds",
            "De drempels zijn opgeslagen: de bot gebruikt ze vanaf het volgende bericht.",
        )

    return attempt(request, save, partial(_thresholds_page, request, session, user, typed))

"""For admins: the messages the delivery worker gave up on (to residents and departments'
webhooks), and sending one again."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select

from bot.delivery import outbox
from bot.storage import models
from web.common import department_names, flash, show_page
from web.security import DB, AdminUser, Context, CsrfChecked

router = APIRouter(include_in_schema=False)


@router.get("/admin/deliveries", response_class=HTMLResponse)
def deliveries(request: Request, session: DB, user: AdminUser) -> HTMLResponse:
    rows = outbox.failing(session)
    ids = {row.request_id for row in rows if row.request_id is not None}
    references = dict(
        session.execute(
            select(models.Request.id, models.Request.reference).where(models.Request.id.in_(ids))
        ).all()
    )
    return show_page(
        request,
        "deliveries.html",
        user,
        rows=rows,
        references=references,
        names=department_names(session),
    )


@router.post("/admin/deliveries/{message_id}/resend", dependencies=[CsrfChecked])
def resend(
    request: Request, message_id: int, session: DB, context: Context, user: AdminUser
) -> RedirectResponse:
    outbox.resend(session, message_id)
    session.commit()
    context.wake_delivery()
    flash(request, f"Bericht {message_id} wordt opnieuw verstuurd.")
    return RedirectResponse("/admin/deliveries", status_code=303)

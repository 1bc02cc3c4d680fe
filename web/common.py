"""What the officials' pages share: the page with the messages of the last action, the
404 page, and the labels every screen shows.

After a change the browser is sent back (303) with a short message (`flash`), so a reload
never repeats it; the next page shows it once."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from bot.dialogue.presentation import need_label
from bot.knowledge import Knowledge
from bot.queue import workflow
from bot.storage import models
from bot.storage import repositories as repo
from bot.storage.models import User
from web.templating import render

FLASHES = "flashes"
LANGUAGE = "nl"  # the officials' pages are in Dutch, whatever the resident speaks


def show_page(
    request: Request, template: str, user: User, status_code: int = 200, **values: Any
) -> HTMLResponse:
    """A page for a logged-in user, with the messages left by the last action."""
    flashes = request.session.pop(FLASHES, [])
    return render(request, template, status_code, user=user, flashes=flashes, **values)


def flash(request: Request, text: str) -> None:
    """Leave a short message for the next page, which a redirect after a change shows."""
    request.session[FLASHES] = [*request.session.get(FLASHES, []), text]


def not_found(request: Request, user: User) -> HTMLResponse:
    """The same 404 for a request that does not exist and one the user may not see."""
    return show_page(request, "not_found.html", user, status_code=404)


def late(item: models.Request, today: date) -> bool:
    """Open and past its due date: the queue and the request's page mark it."""
    return item.status in workflow.OPEN and item.due_at < today


def department_names(session: Session) -> dict[str, str]:
    """Department key -> name, for showing names where the data keeps keys."""
    return {key: department.name for key, department in repo.departments(session).items()}


def need_labels(knowledge: Knowledge) -> dict[str, str]:
    """Need key -> its Dutch label, as officials read it."""
    return {key: need_label(knowledge, key, LANGUAGE) for key in knowledge.needs}

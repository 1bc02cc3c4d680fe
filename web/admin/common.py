"""What the admins' knowledge pages share: the page with the messages of the last action,
and the two answers to a change.

A form with typed input that is refused shows the page again with the reason and what was
typed (422). A one-click action (delete, move) has nothing typed to keep, so it goes back
to the page (303), which then says what was done or why it was refused."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse

from bot.storage.models import User
from web.pages import flash, show_page

PROBLEMS = "admin_problems"


def page(
    request: Request, template: str, user: User, status_code: int = 200, **values: Any
) -> HTMLResponse:
    """An admin page with the messages the last action left (done and refused)."""
    problems = [*request.session.pop(PROBLEMS, []), *values.pop("problems", [])]
    return show_page(request, template, user, status_code, problems=problems, **values)


def done(request: Request, url: str, message: str) -> RedirectResponse:
    """Back to `url` after a change, which says what was done."""
    flash(request, message)
    return RedirectResponse(url, status_code=status.HTTP_303_SEE_OTHER)


def refused(request: Request, url: str, reason: str) -> RedirectResponse:
    """Back to `url` after a one-click action that was refused, which says why."""
    request.session[PROBLEMS] = [*request.session.get(PROBLEMS, []), reason]
    return RedirectResponse(url, status_code=status.HTTP_303_SEE_OTHER)


def not_found(what: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, f"{what} bestaat niet (meer).")


def number(value: float | None, digits: int = 2) -> str:
    """A figure the Dutch way: 0,82."""
    return "—" if value is None else f"{value:.{digits}f}".replace(".", ",")

"""What the admins' knowledge pages share: the page with the messages of the last action,
the two answers to a change, and `attempt`, the one place a change is run and its refusal
answered.

A form with typed input that is refused shows the page again with the reason and what was
typed (422). A one-click action (delete, move) has nothing typed to keep, so it goes back
to the page (303), which then says what was done or why it was refused."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot.knowledge.editing.common import EditError
from bot.storage.models import User
from web.common import flash, show_page

PROBLEMS = "admin_problems"
LANGUAGE_LABELS = {"nl": "Nederlands", "en": "Engels"}
TextField = Annotated[str, Form()]
# A change: it returns where the browser goes next and the message that page shows.
Change = Callable[[], tuple[str, str]]


def page(
    request: Request,
    template: str,
    user: User,
    status_code: int = 200,
    *,
    refusal: str | None = None,
    **values: Any,
) -> HTMLResponse:
    """An admin page with the messages the last action left (done and refused); with a
    `refusal`, the page shown again after a refused change (422), saying why."""
    problems = [*request.session.pop(PROBLEMS, []), *([refusal] if refusal else [])]
    status_code = status.HTTP_422_UNPROCESSABLE_CONTENT if refusal else status_code
    return show_page(request, template, user, status_code, problems=problems, **values)


def attempt(request: Request, change: Change, again: Callable[[str], Response]) -> Response:
    """Run `change`; done, the browser goes where it says, which shows its message. A
    refused change (EditError) writes nothing, and `again(reason)` answers: the page with
    what was typed (`page(..., refusal=reason)`), or back to the page (`refused`)."""
    try:
        url, message = change()
    except EditError as error:
        return again(str(error))
    return done(request, url, message)


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

"""Logging in and out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from bot import accounts
from web.security import DB, SESSION_USER, check_csrf
from web.templating import render

router = APIRouter(include_in_schema=False)


def _safe_next(target: str) -> str:
    """Only local paths, so the login page can't be used to send people elsewhere."""
    return target if target.startswith("/") and not target.startswith("//") else "/"


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/") -> HTMLResponse:
    return render(request, "login.html", next=_safe_next(next), error=None)


@router.post("/login", dependencies=[Depends(check_csrf)])
def login(
    request: Request,
    session: DB,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/",
):  # type: ignore[no-untyped-def]
    client = request.client.host if request.client else "unknown"
    if accounts.is_throttled(session, username, client):
        return render(
            request,
            "login.html",
            status_code=429,
            next=_safe_next(next),
            error="Te veel mislukte pogingen. Probeer het over een kwartier opnieuw.",
        )
    user = accounts.authenticate(session, username, password, client)
    if user is None:
        return render(
            request,
            "login.html",
            status_code=401,
            next=_safe_next(next),
            error="Gebruikersnaam of wachtwoord klopt niet.",
        )
    request.session.clear()  # a fresh session at login: no fixation
    request.session[SESSION_USER] = user.id
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout", dependencies=[Depends(check_csrf)])
def logout(request: Request) -> RedirectResponse:
    request.session.clear()
    return RedirectResponse("/login", status_code=303)

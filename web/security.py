"""Who is asking: the logged-in official (session cookie, CSRF on every form) or the owner
of an API token (Authorization: Bearer)."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from bot import accounts
from bot.settings import Settings
from bot.storage.models import User
from web.context import AppContext

CSRF_FIELD = "csrf_token"
SESSION_USER = "user_id"


class LoginRequired(Exception):
    """Raised for a page that needs a login; the app answers with a redirect to /login."""


def secret_key(settings: Settings) -> str:
    """SECRET_KEY, or a random key made once and kept beside the SQLite database."""
    if settings.secret_key:
        return settings.secret_key
    path = Path(settings.data_dir) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def context(request: Request) -> AppContext:
    return request.app.state.context


def db(request: Request) -> Iterator[Session]:
    """One transaction per request: committed when the route returns, rolled back on error."""
    with context(request).sessions.begin() as session:
        yield session


# Committed before the response goes out (scope='function'), so a client that got its answer
# reads its own change on the next request, and a failed commit is an error, not a 200.
DB = Annotated[Session, Depends(db, scope="function")]
Context = Annotated[AppContext, Depends(context)]


def csrf_token(request: Request) -> str:
    """The session's CSRF token, made on first use; every form carries it."""
    token = request.session.get(CSRF_FIELD)
    if not token:
        token = secrets.token_urlsafe(32)
        request.session[CSRF_FIELD] = token
    return token


async def check_csrf(request: Request) -> None:
    """Reject a form POST whose token does not match the session's."""
    form = await request.form()
    sent = str(form.get(CSRF_FIELD, ""))
    expected = request.session.get(CSRF_FIELD, "")
    if not expected or not hmac.compare_digest(sent, expected):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "Het formulier is verlopen. Ga terug, ververs de pagina en probeer het opnieuw.",
        )


def current_user(request: Request, session: DB) -> User:
    """The logged-in official; pages without a login redirect to /login."""
    user_id = request.session.get(SESSION_USER)
    user = accounts.user_by_id(session, user_id) if isinstance(user_id, int) else None
    if user is None:
        request.session.pop(SESSION_USER, None)
        raise LoginRequired
    return user


def admin_user(user: Annotated[User, Depends(current_user)]) -> User:
    if not user.is_admin:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Alleen voor beheerders.")
    return user


_bearer = HTTPBearer(auto_error=False, description="Token from `wegwijs token create USER`")


def api_user(
    session: DB,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    """The owner of the Bearer token; 401 without a valid one."""
    user = accounts.user_for_token(session, credentials.credentials) if credentials else None
    if user is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "A valid API token is needed (Authorization: Bearer <token>).",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return user


def admin_api_user(user: Annotated[User, Depends(api_user)]) -> User:
    """The owner of the Bearer token, if an admin; 403 for officials."""
    if not user.is_admin:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Only admins may use this endpoint.")
    return user


CurrentUser = Annotated[User, Depends(current_user)]
AdminUser = Annotated[User, Depends(admin_user)]
ApiUser = Annotated[User, Depends(api_user)]
AdminApiUser = Annotated[User, Depends(admin_api_user)]
CsrfChecked = Depends(check_csrf)

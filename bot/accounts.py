"""Officials and admins: accounts, passwords (argon2), API tokens, login throttling, and
the departments they are members of (an admin's change, audited with the knowledge)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session, selectinload

from bot.knowledge import store
from bot.knowledge.editing.common import EditError
from bot.knowledge.editing.departments import existing_department
from bot.storage.models import ApiToken, Department, LoginAttempt, User, UserDepartment, utc_now

ROLES = ("official", "admin")
MAX_FAILED_LOGINS = 5
THROTTLE_WINDOW = timedelta(minutes=15)

_hasher = PasswordHasher()
# Checked against when the username is unknown, so both cases take the same time.
_DUMMY_HASH = _hasher.hash("wegwijs-no-such-user")


class AccountError(ValueError):
    pass


def create_user(
    session: Session,
    username: str,
    password: str,
    *,
    role: str,
    departments: list[str],
    full_name: str | None = None,
) -> User:
    username = username.strip().lower()
    if role not in ROLES:
        raise AccountError(f"Unknown role {role!r}; choose one of {', '.join(ROLES)}.")
    if not username:
        raise AccountError("A username is needed.")
    if session.scalar(select(User).where(User.username == username)):
        raise AccountError(f"User {username!r} already exists.")
    if role == "official" and not departments:
        raise AccountError("An official needs at least one department (--department KEY).")
    known = set(session.scalars(select(Department.key)))
    unknown = [key for key in departments if key not in known]
    if unknown:
        raise AccountError(
            f"Unknown department {', '.join(unknown)}; known: {', '.join(sorted(known))}."
        )
    if len(password) < 10:
        raise AccountError("A password needs at least 10 characters.")
    user = User(
        username=username,
        full_name=full_name or username,
        role=role,
        password_hash=_hasher.hash(password),
        departments=[UserDepartment(department_key=key) for key in departments],
    )
    session.add(user)
    session.flush()
    return user


def new_password() -> str:
    return secrets.token_urlsafe(12)


def user_by_name(session: Session, username: str) -> User | None:
    return session.scalar(
        select(User)
        .where(User.username == username.strip().lower(), User.active.is_(True))
        .options(selectinload(User.departments))
    )


def user_by_id(session: Session, user_id: int) -> User | None:
    return session.scalar(
        select(User)
        .where(User.id == user_id, User.active.is_(True))
        .options(selectinload(User.departments))
    )


def has_users(session: Session) -> bool:
    return session.scalar(select(User.id).limit(1)) is not None


def colleagues(session: Session, department_keys: list[str]) -> list[User]:
    """Active officials of these departments, and the admins, for 'assign to'."""
    in_department = User.departments.any(UserDepartment.department_key.in_(department_keys))
    return list(
        session.scalars(
            select(User)
            .where(User.active.is_(True), or_(in_department, User.role == "admin"))
            .options(selectinload(User.departments))
            .order_by(User.full_name)
        )
    )


def members(session: Session, key: str) -> list[str]:
    return list(
        session.scalars(
            select(User.username)
            .join(UserDepartment, UserDepartment.user_id == User.id)
            .where(UserDepartment.department_key == key)
            .order_by(User.username)
        )
    )


def _user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username.strip()))
    if user is None:
        raise EditError(f"Er is geen gebruiker '{username.strip()}'.")
    return user


def add_member(session: Session, actor: User, key: str, username: str) -> User:
    """Make a user a member of a department: they see and handle its requests."""
    existing_department(session, key)
    user = _user(session, username)
    before = members(session, key)
    if user.username in before:
        raise EditError(f"{user.full_name} is al lid van deze afdeling.")
    session.add(UserDepartment(user_id=user.id, department_key=key))
    session.flush()
    store.record(
        session, actor, "department", key, {"members": before}, {"members": members(session, key)}
    )
    return user


def remove_member(session: Session, actor: User, key: str, username: str) -> User:
    existing_department(session, key)
    user = _user(session, username)
    link = session.get(UserDepartment, (user.id, key))
    if link is None:
        raise EditError(f"{user.full_name} is geen lid van deze afdeling.")
    before = members(session, key)
    session.delete(link)
    session.flush()
    store.record(
        session, actor, "department", key, {"members": before}, {"members": members(session, key)}
    )
    return user


def is_throttled(session: Session, username: str, client: str) -> bool:
    """Too many failed logins lately, for this username or from this address."""
    since = utc_now() - THROTTLE_WINDOW
    failures = session.scalar(
        select(func.count()).where(
            LoginAttempt.created_at >= since,
            or_(LoginAttempt.username == username.strip().lower(), LoginAttempt.client == client),
        )
    )
    return (failures or 0) >= MAX_FAILED_LOGINS


def authenticate(session: Session, username: str, password: str, client: str) -> User | None:
    """The user if the password is right. A failure is recorded for throttling; a success
    clears this username's failures."""
    user = user_by_name(session, username)
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        user = None
    if user is None:
        session.add(LoginAttempt(username=username.strip().lower()[:60], client=client[:64]))
        return None
    session.execute(delete(LoginAttempt).where(LoginAttempt.username == user.username))
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def create_token(session: Session, user: User) -> str:
    """A new API token for `user`. Only its hash is stored; show the token once."""
    token = "ww_" + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, token_hash=_token_hash(token)))
    return token


def user_for_token(session: Session, token: str) -> User | None:
    row = session.scalar(
        select(ApiToken)
        .where(ApiToken.token_hash == _token_hash(token))
        .options(selectinload(ApiToken.user).selectinload(User.departments))
    )
    if row is None or not row.user.active:
        return None
    row.last_used_at = utc_now()
    return row.user


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()

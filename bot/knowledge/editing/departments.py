"""Changes to the departments: their contact details, webhook and term, and which one is
the fallback. A department goes only when nothing points at it any more."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import phonenumbers
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from bot.contact import InvalidContact, email_address, phone_number
from bot.knowledge import store
from bot.knowledge.editing.common import MAX_LABEL_LENGTH, EditError, _required
from bot.storage.models import (
    Department,
    OutboxMessage,
    Request,
    RequestPart,
    RoutingRule,
    User,
    UserDepartment,
)

DEPARTMENT_KEY = re.compile(r"[a-z][a-z0-9_-]{1,39}")
# A municipality's own number, 14 followed by its area code: libphonenumber does not know
# every one of them.
MUNICIPAL_NUMBER = re.compile(r"14 ?0\d{2,3}")
MAX_SLA_DAYS = 90


@dataclass(frozen=True)
class DepartmentForm:
    """A department as the form sends it. An empty secret keeps the current one."""

    name: str
    sla_days: str
    email: str = ""
    phone: str = ""
    webhook_url: str = ""
    webhook_secret: str = ""
    clear_secret: bool = False
    is_fallback: bool = False


def department_value(department: Department) -> dict[str, Any]:
    """A department's plain form for the audit log: the secret itself is never written."""
    return {
        **store.department_plain(department),
        "webhook_secret": "ingesteld" if department.webhook_secret else None,
        "is_fallback": department.is_fallback,
    }


def existing_department(session: Session, key: str) -> Department:
    """The department, or EditError saying it is gone; membership changes (bot.accounts)
    check with it too."""
    department = session.get(Department, key)
    if department is None:
        raise EditError(f"De afdeling '{key}' bestaat niet (meer).")
    return department


def _email(value: str) -> str | None:
    if not value.strip():
        return None
    try:
        return email_address(value)
    except InvalidContact:
        raise EditError(
            f"'{value.strip()}' is geen geldig e-mailadres; schrijf bijvoorbeeld "
            "vergunningen@gemeente.nl."
        ) from None


def _phone(value: str) -> str | None:
    value = " ".join(value.split())
    if not value:
        return None
    if MUNICIPAL_NUMBER.fullmatch(value):
        return value
    try:
        number = phone_number(value, short_numbers=True)
    except InvalidContact:
        raise EditError(
            f"'{value}' is geen geldig telefoonnummer; schrijf bijvoorbeeld 020 123 4567 of 14 020."
        ) from None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def _webhook_url(value: str) -> str | None:
    value = value.strip()
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(value) > 500:
        raise EditError(
            "Het webhookadres moet beginnen met https:// (of http://) en een servernaam hebben, "
            "bijvoorbeeld https://zaaksysteem.gemeente.nl/wegwijs."
        )
    return value


def _sla_days(value: str) -> int:
    try:
        days = int(value.strip())
    except ValueError:
        days = 0
    if not 1 <= days <= MAX_SLA_DAYS:
        raise EditError(f"De termijn is een heel aantal werkdagen van 1 tot en met {MAX_SLA_DAYS}.")
    return days


def save_department(
    session: Session, actor: User, key: str, form: DepartmentForm, *, create: bool
) -> Department:
    """Create a department (its key is fixed from then on) or change one. Exactly one
    department is the fallback: making another one the fallback takes it from the old."""
    if create:
        key = key.strip()
        if not DEPARTMENT_KEY.fullmatch(key):
            raise EditError(
                "De sleutel is 2 tot 40 kleine letters, cijfers, - of _, en begint met een letter "
                "(bijvoorbeeld evenementen)."
            )
        if session.get(Department, key):
            raise EditError(f"Er is al een afdeling '{key}'.")
        department = Department(key=key, is_fallback=False)
        before = None
    else:
        department = existing_department(session, key)
        before = department_value(department)
    name = _required(form.name, "De naam", MAX_LABEL_LENGTH)
    sla_days = _sla_days(form.sla_days)
    email, phone = _email(form.email), _phone(form.phone)
    webhook_url = _webhook_url(form.webhook_url)
    if len(form.webhook_secret) > 200:
        raise EditError("Het webhookgeheim mag hoogstens 200 tekens hebben.")
    if department.is_fallback and not form.is_fallback:
        raise EditError(
            "Er is altijd precies één terugvalafdeling. Maak eerst een andere afdeling de "
            "terugvalafdeling."
        )
    department.name, department.sla_days = name, sla_days
    department.contact_email, department.contact_phone = email, phone
    department.webhook_url = webhook_url
    secret_replaced = bool(form.webhook_secret.strip()) and bool(department.webhook_secret)
    if form.clear_secret:
        department.webhook_secret = None
    elif form.webhook_secret.strip():
        department.webhook_secret = form.webhook_secret.strip()
    session.add(department)
    if form.is_fallback and not department.is_fallback:
        for other in session.scalars(select(Department).where(Department.is_fallback)):
            old = department_value(other)
            other.is_fallback = False
            session.flush()
            store.record(session, actor, "department", other.key, old, department_value(other))
        department.is_fallback = True
    session.flush()
    after = department_value(department)
    if secret_replaced and not form.clear_secret:
        after["webhook_secret"] = "vervangen"
    if after != before:
        store.record(session, actor, "department", key, before, after)
    return department


def delete_department(session: Session, actor: User, key: str) -> None:
    """Only a department nothing points at can go: no requests, members, rules or
    deliveries, and not the fallback."""
    department = existing_department(session, key)
    if department.is_fallback:
        raise EditError(
            "De terugvalafdeling kan niet weg. Maak eerst een andere afdeling de terugvalafdeling."
        )
    requests = session.scalar(
        select(func.count(func.distinct(Request.id)))
        .select_from(Request)
        .outerjoin(RequestPart, RequestPart.request_id == Request.id)
        .where(or_(Request.department_key == key, RequestPart.department_key == key))
    )
    if requests:
        counted = "is nog 1 aanvraag" if requests == 1 else f"zijn nog {requests} aanvragen"
        raise EditError(f"Er {counted} van deze afdeling; die blijven bij haar.")
    member = select(UserDepartment.user_id).where(UserDepartment.department_key == key)
    if session.scalar(member.limit(1)) is not None:
        raise EditError("Er zijn nog medewerkers lid van deze afdeling; haal ze er eerst af.")
    rules = list(session.scalars(select(RoutingRule.name).where(RoutingRule.department_key == key)))
    if rules:
        raise EditError(
            f"De routeringsregel(s) {', '.join(repr(r) for r in rules)} sturen nog naar deze "
            "afdeling; pas ze eerst aan."
        )
    if session.scalar(select(OutboxMessage.id).where(OutboxMessage.department_key == key).limit(1)):
        raise EditError("Er staan nog webhookberichten voor deze afdeling in de wachtrij.")
    before = department_value(department)
    session.delete(department)
    session.flush()
    store.record(session, actor, "department", key, before, None)

"""Admins' pages for the departments: their contact details, webhook and term, the
fallback, and their members (who sees and handles their requests).

The checks and the audit are in bot.knowledge.editing.departments and, for the members,
bot.accounts; routing reads the departments for every request."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot import accounts
from bot.knowledge.editing import departments as edit
from bot.knowledge.editing.departments import DepartmentForm
from bot.storage import repositories as repo
from bot.storage.models import Department, RoutingRule, User, UserDepartment
from web.admin.common import TextField, attempt, not_found, page, refused
from web.security import DB, AdminUser, CsrfChecked

router = APIRouter(include_in_schema=False)


class DepartmentFields(BaseModel):
    """The department form's fields, for creating and for changing one."""

    department_name: str = ""
    sla_days: str = ""
    email: str = ""
    phone: str = ""
    webhook_url: str = ""
    webhook_secret: str = ""
    clear_secret: str = ""
    is_fallback: str = ""

    def form(self) -> DepartmentForm:
        return DepartmentForm(
            name=self.department_name,
            sla_days=self.sla_days,
            email=self.email,
            phone=self.phone,
            webhook_url=self.webhook_url,
            webhook_secret=self.webhook_secret,
            clear_secret=bool(self.clear_secret),
            is_fallback=bool(self.is_fallback),
        )

    def values(self) -> dict[str, Any]:
        """What the form shows again after a refusal (never the secret)."""
        return {**self.model_dump(), "webhook_secret": ""}


DepartmentFormFields = Annotated[DepartmentFields, Form()]


def _values(department: Department) -> dict[str, Any]:
    return {
        "department_name": department.name,
        "sla_days": str(department.sla_days),
        "email": department.contact_email or "",
        "phone": department.contact_phone or "",
        "webhook_url": department.webhook_url or "",
        "is_fallback": department.is_fallback,
    }


@router.get("/admin/departments", response_class=HTMLResponse)
def departments_page(request: Request, session: DB, user: AdminUser) -> HTMLResponse:
    return _departments_page(request, session, user)


def _departments_page(
    request: Request,
    session: Session,
    user: User,
    values: dict[str, Any] | None = None,
    problem: str | None = None,
) -> HTMLResponse:
    counts = dict(
        session.execute(
            select(UserDepartment.department_key, func.count()).group_by(
                UserDepartment.department_key
            )
        ).all()
    )
    return page(
        request,
        "admin/departments.html",
        user,
        refusal=problem,
        departments=sorted(repo.departments(session).values(), key=lambda d: d.name.lower()),
        members=counts,
        values=values or {"sla_days": "10"},
    )


@router.get("/admin/departments/{department}", response_class=HTMLResponse)
def department_page(
    request: Request, department: str, session: DB, user: AdminUser
) -> HTMLResponse:
    return _department_page(request, session, user, department)


def _department_page(
    request: Request,
    session: Session,
    user: User,
    key: str,
    values: dict[str, Any] | None = None,
    problem: str | None = None,
) -> HTMLResponse:
    department = session.get(Department, key)
    if department is None:
        raise not_found("Deze afdeling")
    member_names = accounts.members(session, key)
    users = list(session.scalars(select(User).where(User.active).order_by(User.full_name)))
    return page(
        request,
        "admin/department.html",
        user,
        refusal=problem,
        department=department,
        values=values or _values(department),
        members=[u for u in users if u.username in member_names],
        candidates=[u for u in users if u.username not in member_names],
        rules=list(
            session.scalars(select(RoutingRule.name).where(RoutingRule.department_key == key))
        ),
    )


@router.post("/admin/departments", dependencies=[CsrfChecked])
def create_department(
    request: Request,
    session: DB,
    user: AdminUser,
    form: DepartmentFormFields,
    department_key: TextField = "",
) -> Response:
    def create() -> tuple[str, str]:
        department = edit.save_department(session, user, department_key, form.form(), create=True)
        return (
            f"/admin/departments/{department.key}",
            f"De afdeling {department.name} is aangemaakt. Voeg medewerkers toe en geef haar "
            "een routeringsregel.",
        )

    values = {**form.values(), "department_key": department_key}
    return attempt(request, create, partial(_departments_page, request, session, user, values))


@router.post("/admin/departments/{department}", dependencies=[CsrfChecked])
def save_department(
    request: Request, department: str, session: DB, user: AdminUser, form: DepartmentFormFields
) -> Response:
    def save() -> tuple[str, str]:
        saved = edit.save_department(session, user, department, form.form(), create=False)
        return f"/admin/departments/{department}", f"{saved.name} is opgeslagen."

    again = partial(_department_page, request, session, user, department, form.values())
    return attempt(request, save, again)


@router.post("/admin/departments/{department}/members", dependencies=[CsrfChecked])
def add_member(
    request: Request, department: str, session: DB, user: AdminUser, member: TextField = ""
) -> Response:
    url = f"/admin/departments/{department}"

    def add() -> tuple[str, str]:
        added = accounts.add_member(session, user, department, member)
        return url, f"{added.full_name} is nu lid van deze afdeling."

    return attempt(request, add, partial(refused, request, url))


@router.post("/admin/departments/{department}/members/remove", dependencies=[CsrfChecked])
def remove_member(
    request: Request, department: str, session: DB, user: AdminUser, member: TextField = ""
) -> Response:
    url = f"/admin/departments/{department}"

    def remove() -> tuple[str, str]:
        removed = accounts.remove_member(session, user, department, member)
        return url, f"{removed.full_name} is geen lid meer van deze afdeling."

    return attempt(request, remove, partial(refused, request, url))


@router.post("/admin/departments/{department}/delete", dependencies=[CsrfChecked])
def delete_department(request: Request, department: str, session: DB, user: AdminUser) -> Response:
    def delete() -> tuple[str, str]:
        edit.delete_department(session, user, department)
        return "/admin/departments", f"De afdeling {department} is verwijderd."

    return attempt(request, delete, partial(refused, request, f"/admin/departments/{department}"))

"""Admins' pages for who handles what: the departments (with their members) and the
ordered routing rules, with a preview of where a request would go.

Routing reads the rules from the database for every request, so a saved rule decides the
very next request; the checks and the audit are in bot.knowledge.editing."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.dialogue.presentation import need_label
from bot.knowledge import NEED_ORDER, Knowledge
from bot.knowledge import editing as edit
from bot.knowledge.editing import ConditionsForm, DepartmentForm, EditError
from bot.routing.rules import RequestFacts, RoutingDecision, route
from bot.storage import models
from bot.storage import repositories as repo
from bot.storage.models import Department, RoutingRule, User, UserDepartment
from web.admin.common import done, not_found, page, refused
from web.security import DB, AdminUser, Context, CsrfChecked

router = APIRouter(include_in_schema=False)
TextField = Annotated[str, Form()]


# -- departments ----------------------------------------------------------------------------


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
        422 if problem else 200,
        departments=sorted(repo.departments(session).values(), key=lambda d: d.name.lower()),
        members=counts,
        values=values or {"sla_days": "10"},
        problems=[problem] if problem else [],
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
    member_names = edit.members(session, key)
    users = list(session.scalars(select(User).where(User.active).order_by(User.full_name)))
    return page(
        request,
        "admin/department.html",
        user,
        422 if problem else 200,
        department=department,
        values=values or _values(department),
        members=[u for u in users if u.username in member_names],
        candidates=[u for u in users if u.username not in member_names],
        rules=list(
            session.scalars(select(RoutingRule.name).where(RoutingRule.department_key == key))
        ),
        problems=[problem] if problem else [],
    )


@router.post("/admin/departments", dependencies=[CsrfChecked])
def create_department(
    request: Request,
    session: DB,
    user: AdminUser,
    form: DepartmentFormFields,
    department_key: TextField = "",
) -> Response:
    try:
        department = edit.save_department(session, user, department_key, form.form(), create=True)
    except EditError as error:
        values = {**form.values(), "department_key": department_key}
        return _departments_page(request, session, user, values, str(error))
    return done(
        request,
        f"/admin/departments/{department.key}",
        f"De afdeling {department.name} is aangemaakt. Voeg medewerkers toe en geef haar een "
        "routeringsregel.",
    )


@router.post("/admin/departments/{department}", dependencies=[CsrfChecked])
def save_department(
    request: Request, department: str, session: DB, user: AdminUser, form: DepartmentFormFields
) -> Response:
    try:
        saved = edit.save_department(session, user, department, form.form(), create=False)
    except EditError as error:
        return _department_page(request, session, user, department, form.values(), str(error))
    return done(request, f"/admin/departments/{department}", f"{saved.name} is opgeslagen.")


@router.post("/admin/departments/{department}/members", dependencies=[CsrfChecked])
def add_member(
    request: Request, department: str, session: DB, user: AdminUser, member: TextField = ""
) -> Response:
    url = f"/admin/departments/{department}"
    try:
        added = edit.add_member(session, user, department, member)
    except EditError as error:
        return refused(request, url, str(error))
    return done(request, url, f"{added.full_name} is nu lid van deze afdeling.")


@router.post("/admin/departments/{department}/members/remove", dependencies=[CsrfChecked])
def remove_member(
    request: Request, department: str, session: DB, user: AdminUser, member: TextField = ""
) -> Response:
    url = f"/admin/departments/{department}"
    try:
        removed = edit.remove_member(session, user, department, member)
    except EditError as error:
        return refused(request, url, str(error))
    return done(request, url, f"{removed.full_name} is geen lid meer van deze afdeling.")


@router.post("/admin/departments/{department}/delete", dependencies=[CsrfChecked])
def delete_department(request: Request, department: str, session: DB, user: AdminUser) -> Response:
    try:
        edit.delete_department(session, user, department)
    except EditError as error:
        return refused(request, f"/admin/departments/{department}", str(error))
    return done(request, "/admin/departments", f"De afdeling {department} is verwijderd.")


# -- routing rules --------------------------------------------------------------------------


class RuleFields(BaseModel):
    """The rule form's fields: name, department and the conditions."""

    rule_name: str = ""
    department: str = ""
    needs: list[str] = []
    min_needs: str = ""
    neighbourhoods: list[str] = []
    amount_min: str = ""
    amount_max: str = ""
    visitors_min: str = ""
    visitors_max: str = ""

    def conditions(self) -> dict[str, Any]:
        return edit.conditions_from_form(
            ConditionsForm(
                needs=self.needs,
                min_needs=self.min_needs,
                neighbourhoods=self.neighbourhoods,
                amount_min=self.amount_min,
                amount_max=self.amount_max,
                visitors_min=self.visitors_min,
                visitors_max=self.visitors_max,
            )
        )


RuleFormFields = Annotated[RuleFields, Form()]


def _rule_values(rule: RoutingRule) -> dict[str, Any]:
    when = rule.conditions
    return {
        "rule_name": rule.name,
        "department": rule.department_key,
        "needs": when.get("needs", []),
        "neighbourhoods": when.get("neighbourhoods", []),
        **{
            key: _shown(when[key])
            for key in ("min_needs", "amount_min", "amount_max", "visitors_min", "visitors_max")
            if key in when
        },
    }


def _shown(value: Any) -> str:
    """5000.01 as an admin types it: 5000,01."""
    return str(value).replace(".", ",")


@dataclass(frozen=True)
class Preview:
    """Where a request would go: the facts it was decided on and the decision."""

    facts: RequestFacts
    decision: RoutingDecision | None
    problem: str | None = None


@router.get("/admin/routing", response_class=HTMLResponse)
def routing_page(
    request: Request,
    session: DB,
    context: Context,
    user: AdminUser,
    reference: str = "",
    needs: Annotated[list[str], Query()] = [],  # noqa: B006 - FastAPI copies defaults
    neighbourhood: str = "",
    amount: str = "",
    visitors: str = "",
) -> HTMLResponse:
    """The rules in order, a form for a new one, and the preview of a request, stored
    (by reference) or made up (needs, neighbourhood, amount, visitors)."""
    asked = {
        "reference": reference.strip(),
        "needs": needs,
        "neighbourhood": neighbourhood,
        "amount": amount,
        "visitors": visitors,
    }
    preview = _preview(session, asked) if reference.strip() or needs else None
    return _routing_page(request, session, context.knowledge, user, preview=preview, asked=asked)


def _routing_page(
    request: Request,
    session: Session,
    knowledge: Knowledge,
    user: User,
    *,
    preview: Preview | None = None,
    asked: dict[str, Any] | None = None,
    values: dict[str, Any] | None = None,
    problem: str | None = None,
) -> HTMLResponse:
    rules = list(
        session.scalars(select(RoutingRule).order_by(RoutingRule.position, RoutingRule.id))
    )
    return page(
        request,
        "admin/routing.html",
        user,
        422 if problem else 200,
        rules=rules,
        describe=lambda rule: describe_conditions(rule.conditions, knowledge),
        **_rule_form_context(session, knowledge),
        values=values or {},
        preview=preview,
        asked=asked or {},
        fallback=repo.fallback_department(session),
        problems=[problem] if problem else [],
    )


def _need_labels(knowledge: Knowledge) -> dict[str, str]:
    return {key: need_label(knowledge, key, "nl") for key in NEED_ORDER if key in knowledge.needs}


def _rule_form_context(session: Session, knowledge: Knowledge) -> dict[str, Any]:
    """What the rule form offers: the departments, needs and neighbourhoods."""
    return {
        "names": {key: d.name for key, d in repo.departments(session).items()},
        "need_labels": _need_labels(knowledge),
        "neighbourhoods": edit.neighbourhoods(session),
        "labels": edit.CONDITION_LABELS,
    }


def describe_conditions(conditions: dict[str, Any], knowledge: Knowledge) -> str:
    """A rule's conditions in words, as the list shows them."""
    labels = _need_labels(knowledge)
    parts = []
    if "needs" in conditions:
        parts.append("precies: " + " + ".join(labels.get(n, n) for n in conditions["needs"]))
    if "min_needs" in conditions:
        parts.append(f"minstens {conditions['min_needs']} behoeften")
    if "neighbourhoods" in conditions:
        parts.append("wijk " + ", ".join(conditions["neighbourhoods"]))
    for key in ("amount_min", "amount_max", "visitors_min", "visitors_max"):
        if key in conditions:
            parts.append(f"{edit.CONDITION_LABELS[key].lower()} {_shown(conditions[key])}")
    return "; ".join(parts) or "altijd"


def _preview(session: Session, asked: dict[str, Any]) -> Preview:
    """Route a stored request again, or the facts typed in, with today's rules."""
    if asked["reference"]:
        stored = session.scalar(
            select(models.Request).where(models.Request.reference == asked["reference"].upper())
        )
        if stored is None:
            facts = RequestFacts(frozenset())
            return Preview(facts, None, f"Er is geen aanvraag {asked['reference']}.")
        facts = RequestFacts.from_answers(stored.needs, stored.answers)
    else:
        try:
            facts = _typed_facts(asked)
        except ValueError as problem:
            return Preview(RequestFacts(frozenset()), None, str(problem))
    decision = route(
        repo.routing_rules(session), facts, repo.fallback_department(session), NEED_ORDER
    )
    return Preview(facts, decision)


def _typed_facts(asked: dict[str, Any]) -> RequestFacts:
    needs = [n for n in asked["needs"] if n in NEED_ORDER]
    if not needs:
        raise ValueError("Kies minstens één behoefte.")
    amount: Decimal | None = None
    if asked["amount"].strip():
        try:
            amount = Decimal(asked["amount"].strip().replace("€", "").replace(",", "."))
        except InvalidOperation:
            raise ValueError("Het bedrag is geen getal.") from None
    visitors: int | None = None
    if asked["visitors"].strip():
        if not asked["visitors"].strip().isdigit():
            raise ValueError("Het aantal bezoekers is geen heel getal.")
        visitors = int(asked["visitors"].strip())
    return RequestFacts(frozenset(needs), asked["neighbourhood"] or None, amount, visitors)


@router.get("/admin/routing/{rule_id}", response_class=HTMLResponse)
def rule_page(
    request: Request, rule_id: int, session: DB, context: Context, user: AdminUser
) -> HTMLResponse:
    return _rule_page(request, session, context.knowledge, user, rule_id)


def _rule_page(
    request: Request,
    session: Session,
    knowledge: Knowledge,
    user: User,
    rule_id: int,
    values: dict[str, Any] | None = None,
    problem: str | None = None,
) -> HTMLResponse:
    rule = session.get(RoutingRule, rule_id)
    if rule is None:
        raise not_found("Deze routeringsregel")
    return page(
        request,
        "admin/rule.html",
        user,
        422 if problem else 200,
        rule=rule,
        values=values or _rule_values(rule),
        **_rule_form_context(session, knowledge),
        problems=[problem] if problem else [],
    )


@router.post("/admin/routing", dependencies=[CsrfChecked])
def create_rule(
    request: Request,
    session: DB,
    context: Context,
    user: AdminUser,
    form: RuleFormFields,
    before_rule: TextField = "",
) -> Response:
    """A new rule, at the end or just above the rule chosen in 'before_rule'."""
    try:
        rule = edit.save_rule(
            session,
            user,
            None,
            name=form.rule_name,
            conditions=form.conditions(),
            department=form.department,
            before_rule=int(before_rule) if before_rule.isdigit() else None,
        )
    except EditError as error:
        values = {**form.model_dump(), "before_rule": before_rule}
        return _routing_page(
            request, session, context.knowledge, user, values=values, problem=str(error)
        )
    return done(request, "/admin/routing", f"De regel '{rule.name}' is toegevoegd.")


@router.post("/admin/routing/{rule_id}", dependencies=[CsrfChecked])
def save_rule(
    request: Request,
    rule_id: int,
    session: DB,
    context: Context,
    user: AdminUser,
    form: RuleFormFields,
) -> Response:
    try:
        rule = edit.save_rule(
            session,
            user,
            rule_id,
            name=form.rule_name,
            conditions=form.conditions(),
            department=form.department,
        )
    except EditError as error:
        return _rule_page(
            request, session, context.knowledge, user, rule_id, form.model_dump(), str(error)
        )
    return done(request, "/admin/routing", f"De regel '{rule.name}' is opgeslagen.")


@router.post("/admin/routing/{rule_id}/move", dependencies=[CsrfChecked])
def move_rule(
    request: Request, rule_id: int, session: DB, user: AdminUser, direction: TextField = ""
) -> Response:
    try:
        edit.move_rule(session, user, rule_id, direction)
    except EditError as error:
        return refused(request, "/admin/routing", str(error))
    return done(request, "/admin/routing", "De volgorde van de regels is aangepast.")


@router.post("/admin/routing/{rule_id}/delete", dependencies=[CsrfChecked])
def delete_rule(request: Request, rule_id: int, session: DB, user: AdminUser) -> Response:
    try:
        edit.delete_rule(session, user, rule_id)
    except EditError as error:
        return refused(request, "/admin/routing", str(error))
    return done(request, "/admin/routing", "De regel is verwijderd.")

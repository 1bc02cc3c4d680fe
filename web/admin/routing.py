"""Admins' pages for the ordered routing rules (the first match decides), with a preview
of where a stored or made-up request would go.

Routing reads the rules from the database for every request, so a saved rule decides the
very next request; the checks and the audit are in bot.knowledge.editing.routing."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.dialogue.presentation import need_label
from bot.knowledge import NEED_ORDER, Knowledge
from bot.knowledge.editing import routing as edit
from bot.knowledge.editing.routing import ConditionsForm
from bot.routing.rules import RequestFacts, RoutingDecision, route
from bot.storage import models
from bot.storage import repositories as repo
from bot.storage.models import RoutingRule, User
from web.admin.common import TextField, attempt, not_found, page, refused
from web.security import DB, AdminUser, Context, CsrfChecked

router = APIRouter(include_in_schema=False)


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
        refusal=problem,
        rules=rules,
        describe=lambda rule: describe_conditions(rule.conditions, knowledge),
        **_rule_form_context(session, knowledge),
        values=values or {},
        preview=preview,
        asked=asked or {},
        fallback=repo.fallback_department(session),
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
        refusal=problem,
        rule=rule,
        values=values or _rule_values(rule),
        **_rule_form_context(session, knowledge),
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

    def create() -> tuple[str, str]:
        rule = edit.save_rule(
            session,
            user,
            None,
            name=form.rule_name,
            conditions=form.conditions(),
            department=form.department,
            before_rule=int(before_rule) if before_rule.isdigit() else None,
        )
        return "/admin/routing", f"De regel '{rule.name}' is toegevoegd."

    values = {**form.model_dump(), "before_rule": before_rule}
    return attempt(
        request,
        create,
        lambda problem: _routing_page(
            request, session, context.knowledge, user, values=values, problem=problem
        ),
    )


@router.post("/admin/routing/{rule_id}", dependencies=[CsrfChecked])
def save_rule(
    request: Request,
    rule_id: int,
    session: DB,
    context: Context,
    user: AdminUser,
    form: RuleFormFields,
) -> Response:
    def save() -> tuple[str, str]:
        rule = edit.save_rule(
            session,
            user,
            rule_id,
            name=form.rule_name,
            conditions=form.conditions(),
            department=form.department,
        )
        return "/admin/routing", f"De regel '{rule.name}' is opgeslagen."

    values = form.model_dump()
    return attempt(
        request,
        save,
        partial(_rule_page, request, session, context.knowledge, user, rule_id, values),
    )


@router.post("/admin/routing/{rule_id}/move", dependencies=[CsrfChecked])
def move_rule(
    request: Request, rule_id: int, session: DB, user: AdminUser, direction: TextField = ""
) -> Response:
    def move() -> tuple[str, str]:
        edit.move_rule(session, user, rule_id, direction)
        return "/admin/routing", "De volgorde van de regels is aangepast."

    return attempt(request, move, partial(refused, request, "/admin/routing"))


@router.post("/admin/routing/{rule_id}/delete", dependencies=[CsrfChecked])
def delete_rule(request: Request, rule_id: int, session: DB, user: AdminUser) -> Response:
    def delete() -> tuple[str, str]:
        edit.delete_rule(session, user, rule_id)
        return "/admin/routing", "De regel is verwijderd."

    return attempt(request, delete, partial(refused, request, "/admin/routing"))

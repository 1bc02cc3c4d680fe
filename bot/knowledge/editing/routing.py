"""Changes to the routing rules and their conditions: a rule is saved only with conditions
route() can evaluate, and the order (the first match decides) is kept without gaps."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.knowledge import NEED_ORDER, store
from bot.knowledge.editing.common import (
    MAX_LABEL_LENGTH,
    EditError,
    _direction,
    _number,
    _required,
)
from bot.routing.rules import CONDITION_KEYS, check_conditions
from bot.storage.knowledge_tables import QuestionDefinition
from bot.storage.models import Department, RoutingRule, User


def rule_value(rule: RoutingRule) -> dict[str, Any]:
    """A rule's plain form, as in knowledge/routing.yml."""
    return {"name": rule.name, "when": dict(rule.conditions), "department": rule.department_key}


def neighbourhoods(session: Session) -> list[str]:
    """The neighbourhoods residents choose from: the choices of the neighbourhood question."""
    found: list[str] = []
    for choices in session.scalars(
        select(QuestionDefinition.choices).where(QuestionDefinition.key == "neighbourhood")
    ):
        found.extend(c["value"] for c in choices if c["value"] not in found)
    return found


@dataclass(frozen=True)
class ConditionsForm:
    """A rule's conditions as the form sends them; empty fields are no condition."""

    needs: Sequence[str] = ()
    min_needs: str = ""
    neighbourhoods: Sequence[str] = ()
    amount_min: str = ""
    amount_max: str = ""
    visitors_min: str = ""
    visitors_max: str = ""


CONDITION_LABELS = {
    "min_needs": "Minimaal aantal behoeften",
    "amount_min": "Bedrag vanaf",
    "amount_max": "Bedrag tot en met",
    "visitors_min": "Bezoekers vanaf",
    "visitors_max": "Bezoekers tot en met",
}


def conditions_from_form(form: ConditionsForm) -> dict[str, Any]:
    conditions: dict[str, Any] = {}
    if form.needs:
        conditions["needs"] = list(form.needs)
    if form.neighbourhoods:
        conditions["neighbourhoods"] = list(form.neighbourhoods)
    for key in ("min_needs", "amount_min", "amount_max", "visitors_min", "visitors_max"):
        value = getattr(form, key)
        if value.strip():
            whole = not key.startswith("amount")
            conditions[key] = _number(value, CONDITION_LABELS[key], whole=whole)
    return conditions


def check_rule_conditions(session: Session, conditions: Mapping[str, Any]) -> dict[str, Any]:
    """The conditions of a rule if route() can evaluate them: known keys, known needs and
    neighbourhoods, numbers of 0 or more, and no minimum above its maximum."""
    try:
        check_conditions(dict(conditions))
    except ValueError:
        unknown = sorted(set(conditions) - CONDITION_KEYS)
        raise EditError(f"Onbekende voorwaarde(n): {', '.join(unknown)}.") from None
    checked: dict[str, Any] = {}
    if "needs" in conditions:
        needs = list(conditions["needs"] or [])
        if not needs or not set(needs) <= set(NEED_ORDER):
            raise EditError(f"Behoeften zijn er uit: {', '.join(NEED_ORDER)}.")
        checked["needs"] = sorted(set(needs), key=NEED_ORDER.index)
    if "neighbourhoods" in conditions:
        chosen = list(conditions["neighbourhoods"] or [])
        known = neighbourhoods(session)
        if not chosen or set(chosen) - set(known):
            raise EditError(f"Wijken zijn er uit: {', '.join(known)}.")
        checked["neighbourhoods"] = [n for n in known if n in chosen]
    for key in ("min_needs", "amount_min", "amount_max", "visitors_min", "visitors_max"):
        if conditions.get(key) is None:
            continue
        value = conditions[key]
        whole = not key.startswith("amount")
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
            raise EditError(f"{CONDITION_LABELS[key]}: vul een getal in.")
        checked[key] = _number(str(value), CONDITION_LABELS[key], whole=whole)
    for low, high in (("amount_min", "amount_max"), ("visitors_min", "visitors_max")):
        if low in checked and high in checked and checked[low] > checked[high]:
            raise EditError(
                f"{CONDITION_LABELS[low]} ({checked[low]}) is groter dan "
                f"{CONDITION_LABELS[high].lower()} ({checked[high]})."
            )
    return checked


def _rules(session: Session) -> list[RoutingRule]:
    return list(session.scalars(select(RoutingRule).order_by(RoutingRule.position, RoutingRule.id)))


def _rule(session: Session, rule_id: int) -> RoutingRule:
    rule = session.get(RoutingRule, rule_id)
    if rule is None:
        raise EditError("Deze routeringsregel bestaat niet (meer).")
    return rule


def _checked_rule(
    session: Session, name: str, conditions: Mapping[str, Any], department: str
) -> dict[str, Any]:
    if session.get(Department, department) is None:
        raise EditError("Kies een afdeling die bestaat.")
    return {
        "name": _required(name, "De naam van de regel", MAX_LABEL_LENGTH),
        "when": check_rule_conditions(session, conditions),
        "department": department,
    }


def _renumber(session: Session, rules: list[RoutingRule]) -> None:
    for position, rule in enumerate(rules):
        rule.position = position
    session.flush()


def save_rule(
    session: Session,
    actor: User,
    rule_id: int | None,
    *,
    name: str,
    conditions: Mapping[str, Any],
    department: str,
    before_rule: int | None = None,
) -> RoutingRule:
    """Create a rule (at the end, or just above rule `before_rule`) or change one. Routing
    reads the rules on every request, so the next request already follows it."""
    value = _checked_rule(session, name, conditions, department)
    rules = _rules(session)
    if rule_id is None:
        rule = RoutingRule(
            name=value["name"], conditions=value["when"], department_key=department, position=0
        )
        session.add(rule)
        index = next((i for i, r in enumerate(rules) if r.id == before_rule), len(rules))
        rules.insert(index, rule)
        _renumber(session, rules)
        store.record(session, actor, "rule", value["name"], None, {**value, "position": index + 1})
        return rule
    rule = _rule(session, rule_id)
    before = rule_value(rule)
    if before == value:
        return rule
    rule.name, rule.conditions, rule.department_key = value["name"], value["when"], department
    session.flush()
    store.record(session, actor, "rule", value["name"], before, value)
    return rule


def delete_rule(session: Session, actor: User, rule_id: int) -> None:
    rule = _rule(session, rule_id)
    before = rule_value(rule)
    session.delete(rule)
    session.flush()
    _renumber(session, _rules(session))
    store.record(session, actor, "rule", before["name"], before, None)


def move_rule(session: Session, actor: User, rule_id: int, direction: str) -> None:
    """One place up or down: the first matching rule decides."""
    step = _direction(direction)
    rules = _rules(session)
    index = next((i for i, r in enumerate(rules) if r.id == rule_id), None)
    if index is None:
        raise EditError("Deze routeringsregel bestaat niet (meer).")
    if not 0 <= index + step < len(rules):
        raise EditError("Deze regel staat al " + ("bovenaan." if step < 0 else "onderaan."))
    before = [r.name for r in rules]
    rules[index], rules[index + step] = rules[index + step], rules[index]
    _renumber(session, rules)
    store.record(
        session, actor, "routing", "volgorde", {"order": before},
        {"order": [r.name for r in rules]}, action="moved",
    )  # fmt: skip


def replace_rules(
    session: Session, actor: User, rules: Sequence[Mapping[str, Any]]
) -> list[RoutingRule]:
    """Replace all rules by this ordered list (name, when, department); all are checked
    before anything changes."""
    values = []
    for number, raw in enumerate(rules, 1):
        try:
            values.append(
                _checked_rule(
                    session, raw.get("name", ""), raw.get("when") or {}, raw.get("department", "")
                )
            )
        except EditError as problem:
            raise EditError(f"Regel {number}: {problem}") from None
    old = _rules(session)
    before = [rule_value(rule) for rule in old]
    if before == values:
        return old
    for rule in old:
        session.delete(rule)
    session.flush()
    new = [
        RoutingRule(
            position=i, name=v["name"], conditions=v["when"], department_key=v["department"]
        )
        for i, v in enumerate(values)
    ]
    session.add_all(new)
    session.flush()
    store.record(session, actor, "routing", "routing", {"rules": before}, {"rules": values})
    return new

"""Routing rules: ordered, first match wins. Pure functions over plain data, so an admin's
rule can be previewed without touching the database."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

CONDITION_KEYS = {
    "needs",
    "min_needs",
    "neighbourhoods",
    "amount_min",
    "amount_max",
    "visitors_min",
    "visitors_max",
}


@dataclass(frozen=True)
class RequestFacts:
    """What rules may look at."""

    needs: frozenset[str]
    neighbourhood: str | None = None
    amount: Decimal | None = None
    visitors: int | None = None

    @classmethod
    def from_answers(cls, needs: Sequence[str], answers: dict[str, Any]) -> RequestFacts:
        amount = answers.get("amount")
        try:
            parsed_amount = Decimal(str(amount)) if amount is not None else None
        except InvalidOperation:
            parsed_amount = None
        visitors = answers.get("visitors")
        return cls(
            needs=frozenset(needs),
            neighbourhood=answers.get("neighbourhood"),
            amount=parsed_amount,
            visitors=int(visitors) if visitors is not None else None,
        )

    def only(self, need: str) -> RequestFacts:
        """The same request as if it asked for just this one need."""
        return RequestFacts(frozenset({need}), self.neighbourhood, self.amount, self.visitors)


@dataclass(frozen=True)
class Rule:
    name: str
    conditions: dict[str, Any]
    department: str


@dataclass(frozen=True)
class RoutingDecision:
    department: str
    co_departments: tuple[str, ...]
    rule: str | None  # None: no rule matched, the fallback department takes it
    part_departments: dict[str, str]  # need -> department that would handle it alone


def check_conditions(conditions: dict[str, Any]) -> None:
    """Refuse a rule with a condition nobody evaluates, instead of silently ignoring it."""
    unknown = set(conditions) - CONDITION_KEYS
    if unknown:
        raise ValueError(f"unknown routing conditions {sorted(unknown)}")


def matches(conditions: dict[str, Any], facts: RequestFacts) -> bool:
    def within(value: Decimal | int | None, low: Any, high: Any) -> bool:
        if low is None and high is None:
            return True
        if value is None:
            return False
        return (low is None or value >= Decimal(str(low))) and (
            high is None or value <= Decimal(str(high))
        )

    if "needs" in conditions and frozenset(conditions["needs"]) != facts.needs:
        return False
    if "min_needs" in conditions and len(facts.needs) < int(conditions["min_needs"]):
        return False
    if "neighbourhoods" in conditions and facts.neighbourhood not in conditions["neighbourhoods"]:
        return False
    if not within(facts.amount, conditions.get("amount_min"), conditions.get("amount_max")):
        return False
    return within(facts.visitors, conditions.get("visitors_min"), conditions.get("visitors_max"))


def first_match(rules: Sequence[Rule], facts: RequestFacts) -> Rule | None:
    return next((rule for rule in rules if matches(rule.conditions, facts)), None)


def route(
    rules: Sequence[Rule], facts: RequestFacts, fallback: str, need_order: Sequence[str]
) -> RoutingDecision:
    """Lead department from the first matching rule; each need's own department as a part."""
    lead = first_match(rules, facts)
    parts: dict[str, str] = {}
    for need in sorted(facts.needs, key=need_order.index):
        own = first_match(rules, facts.only(need))
        parts[need] = own.department if own else fallback
    department = lead.department if lead else fallback
    co = tuple(dict.fromkeys(d for d in parts.values() if d != department))
    return RoutingDecision(department, co, lead.name if lead else None, parts)

"""Routing rules and due dates."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from bot.knowledge import NEED_ORDER
from bot.knowledge.bundle import Bundle
from bot.routing.rules import RequestFacts, Rule, check_conditions, matches, route
from bot.routing.sla import add_working_days, is_working_day, working_days_between
from tests.support import TODAYS


def default_rules(bundle: Bundle) -> list[Rule]:
    return [Rule(r["name"], r["when"], r["department"]) for r in bundle.rules]


def decide(bundle: Bundle, needs: list[str], **answers):
    facts = RequestFacts.from_answers(needs, answers)
    return route(default_rules(bundle), facts, bundle.fallback_department, NEED_ORDER)


@pytest.mark.parametrize(
    ("needs", "answers", "department"),
    [
        (["room"], {}, "vastgoed"),
        (["tools"], {}, "buitendienst"),
        (["budget"], {"amount": "750.00"}, "wijkbudget"),
        (["budget"], {"amount": "5000.00"}, "wijkbudget"),
        (["budget"], {"amount": "5000.01"}, "subsidies"),
        (["permit"], {"visitors": 300}, "vergunningen"),
    ],
)
def test_single_needs(bundle: Bundle, needs, answers, department) -> None:
    decision = decide(bundle, needs, **answers)
    assert decision.department == department
    assert decision.co_departments == ()


def test_several_needs_go_to_the_desk_with_co_departments(bundle: Bundle) -> None:
    decision = decide(bundle, ["budget", "room"], amount="750")
    assert decision.department == "initiatievenloket"
    assert decision.co_departments == ("vastgoed", "wijkbudget")
    assert decision.part_departments == {"room": "vastgoed", "budget": "wijkbudget"}


def test_all_four_needs(bundle: Bundle) -> None:
    decision = decide(bundle, ["room", "tools", "budget", "permit"], amount="9000")
    assert decision.department == "initiatievenloket"
    assert decision.co_departments == ("vastgoed", "buitendienst", "subsidies", "vergunningen")


def test_no_rule_matches_goes_to_fallback() -> None:
    rules = [Rule("zaal", {"needs": ["room"]}, "vastgoed")]
    decision = route(rules, RequestFacts(frozenset({"permit"})), "initiatievenloket", NEED_ORDER)
    assert decision.department == "initiatievenloket"
    assert decision.rule is None


def test_first_match_wins_and_conditions_combine() -> None:
    rules = [
        Rule("groot evenement", {"needs": ["permit"], "visitors_min": 251}, "evenementen"),
        Rule("noord", {"neighbourhoods": ["Noord"]}, "gebiedsteam-noord"),
        Rule("toestemming", {"needs": ["permit"]}, "vergunningen"),
    ]
    big = RequestFacts(frozenset({"permit"}), "Noord", None, 300)
    small = RequestFacts(frozenset({"permit"}), "Noord", None, 250)
    elsewhere = RequestFacts(frozenset({"permit"}), "Zuid", None, 10)
    assert route(rules, big, "x", NEED_ORDER).department == "evenementen"
    assert route(rules, small, "x", NEED_ORDER).department == "gebiedsteam-noord"
    assert route(rules, elsewhere, "x", NEED_ORDER).department == "vergunningen"


def test_a_range_condition_needs_the_value() -> None:
    assert not matches({"amount_max": 5000}, RequestFacts(frozenset({"budget"})))
    assert matches({"amount_max": 5000}, RequestFacts(frozenset({"budget"}), amount=Decimal("10")))


def test_unknown_conditions_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown routing conditions"):
        check_conditions({"needz": ["room"]})


def test_working_days_skip_weekends_and_dutch_holidays() -> None:
    assert add_working_days(date(2026, 11, 23), 5) == date(2026, 11, 30)
    # Christmas: 25 and 26 December, and the weekend
    assert add_working_days(date(2026, 12, 23), 3) == date(2026, 12, 29)
    # Koningsdag 2027 is Tuesday 27 April
    assert add_working_days(date(2027, 4, 26), 1) == date(2027, 4, 28)


@pytest.mark.parametrize("today", TODAYS, ids=str)
@pytest.mark.parametrize("days", [1, 5, 10])
def test_a_due_date_is_a_working_day_that_many_working_days_on(today: date, days: int) -> None:
    due = add_working_days(today, days)
    assert is_working_day(due) and due > today
    assert working_days_between(today, due) == days
    assert working_days_between(today, due - timedelta(days=1)) == days - 1

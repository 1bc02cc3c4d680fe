"""Every answer type: what is accepted, how it is stored, and why the rest is refused."""

import inspect
from dataclasses import replace
from datetime import date

import pytest

from bot.dialogue import form, validators
from bot.dialogue.validators import Invalid, clean_text, still_consistent, validate
from bot.knowledge import Knowledge
from bot.knowledge.validation import VALIDATION_RULES

TODAY = date(2026, 11, 23)


def check(knowledge: Knowledge, key: str, text: str, answers: dict | None = None):
    return validate(knowledge.question(key), text, answers or {}, TODAY)


def refused(knowledge: Knowledge, key: str, text: str, answers: dict | None = None) -> str:
    with pytest.raises(Invalid) as raised:
        check(knowledge, key, text, answers)
    return raised.value.key


def test_dates(knowledge: Knowledge) -> None:
    assert check(knowledge, "date", "zaterdag 12 december") == "2026-12-12"
    assert refused(knowledge, "date", "1 januari 2026") == "date_past"
    assert refused(knowledge, "date", "31 februari") == "date_impossible"
    assert refused(knowledge, "date", "12 december 2028") == "date_too_far"


def test_return_date_rules(knowledge: Knowledge) -> None:
    pickup = {"pickup_date": "2026-12-10"}
    assert check(knowledge, "return_date", "12 december", pickup) == "2026-12-12"
    assert refused(knowledge, "return_date", "9 december", pickup) == "date_before"
    assert refused(knowledge, "return_date", "30 december", pickup) == "date_too_long_after"


def test_end_time_after_start(knowledge: Knowledge) -> None:
    assert check(knowledge, "end_time", "17:00", {"start_time": "14:00"}) == "17:00"
    assert refused(knowledge, "end_time", "13:00", {"start_time": "14:00"}) == "time_not_after"


def test_numbers(knowledge: Knowledge) -> None:
    assert check(knowledge, "people", "ongeveer 40 mensen") == 40
    assert refused(knowledge, "people", "-5") == "integer_too_small"
    assert refused(knowledge, "people", "0") == "integer_too_small"
    assert refused(knowledge, "people", "1000000") == "integer_too_large"
    assert refused(knowledge, "people", "veel") == "integer_unreadable"


def test_amounts(knowledge: Knowledge) -> None:
    assert check(knowledge, "amount", "€ 750") == "750.00"
    assert check(knowledge, "amount", "1.200,50 euro") == "1200.50"
    assert refused(knowledge, "amount", "-50") == "amount_negative"
    assert refused(knowledge, "amount", "€ 0") == "amount_negative"
    assert refused(knowledge, "amount", "een miljoen") == "amount_unreadable"
    assert refused(knowledge, "amount", "€ 250.000") == "amount_too_large"


def test_choices_accept_names_synonyms_and_mentions(knowledge: Knowledge) -> None:
    assert check(knowledge, "neighbourhood", "centrum") == "Centrum"
    assert check(knowledge, "neighbourhood", "in de Vogelwijk") == "Vogelwijk"
    assert check(knowledge, "neighbourhood", "city centre") == "Centrum"
    # naming two options is not an answer
    assert refused(knowledge, "neighbourhood", "Noord of Zuid") == "choice_unknown"


def test_an_open_list_keeps_a_new_name_as_typed(knowledge: Knowledge) -> None:
    neighbourhood = knowledge.question("neighbourhood")
    assert neighbourhood.validation.get("open")
    assert check(knowledge, "neighbourhood", "Kanaleneiland.") == "Kanaleneiland"
    assert refused(knowledge, "neighbourhood", "welke wijken zijn er?") == "choice_unknown"
    assert refused(knowledge, "neighbourhood", "🏠🏠") == "choice_unknown"
    closed = replace(neighbourhood, validation={})
    with pytest.raises(Invalid):
        validate(closed, "Kanaleneiland", {}, TODAY)


def test_contact(knowledge: Knowledge) -> None:
    assert check(knowledge, "phone", "06 12345678") == "+31612345678"
    assert check(knowledge, "phone", "+31 20 123 4567") == "+31201234567"
    assert refused(knowledge, "phone", "12345") == "phone_invalid"
    assert check(knowledge, "email", "Jan@Example.org") == "Jan@example.org"
    assert refused(knowledge, "email", "jan@") == "email_invalid"


def test_text_limits_and_cleaning(knowledge: Knowledge) -> None:
    assert check(knowledge, "purpose", "  repair\u200b café\x00  ") == "repair café"
    assert refused(knowledge, "purpose", "x") == "text_too_short"
    assert refused(knowledge, "purpose", "a" * 501) == "text_too_long"
    html = "<script>alert(1)</script>'; DROP TABLE requests; --"
    assert check(knowledge, "purpose", html) == html  # stored as typed, escaped when shown


def test_clean_text() -> None:
    assert clean_text("a\tb\n c") == "a b c"


def test_consistency_after_a_change(knowledge: Knowledge) -> None:
    end = knowledge.question("end_time")
    assert still_consistent(end, {"start_time": "14:00", "end_time": "17:00"})
    assert not still_consistent(end, {"start_time": "18:00", "end_time": "17:00"})


def test_every_rule_in_the_registry_is_applied_by_the_validators() -> None:
    """The admin page offers the registry's rules; each must mean something to the bot
    (required_without is checked when the question is skipped, in the form)."""
    source = inspect.getsource(validators) + inspect.getsource(form)
    assert [key for key in VALIDATION_RULES if f'"{key}"' not in source] == []

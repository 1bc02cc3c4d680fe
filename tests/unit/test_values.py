"""Dates, times and amounts as residents type them."""

from datetime import date
from decimal import Decimal

import pytest

from bot.nlu.dates import DateProblem, find_date_phrases, parse_date
from bot.nlu.values import parse_amount, parse_integer, parse_time

MONDAY = date(2026, 11, 23)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("morgen", date(2026, 11, 24)),
        ("overmorgen", date(2026, 11, 25)),
        ("volgende week zaterdag", date(2026, 12, 5)),
        ("zaterdag volgende week", date(2026, 12, 5)),
        ("komende vrijdag", date(2026, 11, 27)),
        ("zaterdag", date(2026, 11, 28)),
        ("maandag", date(2026, 11, 30)),  # today is Monday: the next one is meant
        ("over twee weken", date(2026, 12, 7)),
        ("zaterdag 12 december", date(2026, 12, 12)),
        ("op 12 dec. graag", date(2026, 12, 12)),
        ("12-12", date(2026, 12, 12)),
        ("13/1", date(2027, 1, 13)),  # a date earlier in the year is next year
        ("15 januari 2027", date(2027, 1, 15)),
        ("next Saturday", date(2026, 11, 28)),
        ("tomorrow", date(2026, 11, 24)),
        ("in 3 days", date(2026, 11, 26)),
    ],
)
def test_dutch_and_english_dates(text: str, expected: date) -> None:
    assert parse_date(text, MONDAY) == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("31 februari", "date_impossible"),
        ("30-02", "date_impossible"),
        ("31 april", "date_impossible"),
        ("asdfgh", "date_unreadable"),
        ("🎉🎉", "date_unreadable"),
    ],
)
def test_bad_dates_say_why(text: str, problem: str) -> None:
    with pytest.raises(DateProblem) as raised:
        parse_date(text, MONDAY)
    assert raised.value.key == problem


def test_date_phrases_in_a_sentence_keep_weekday_and_date_together() -> None:
    text = "Ik wil zaterdag 12 december een zaal en volgende week zaterdag hekken"
    assert [text[a:b] for a, b in find_date_phrases(text)] == [
        "zaterdag 12 december",
        "volgende week zaterdag",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("14:00", "14:00"), ("19.30", "19:30"), ("14u", "14:00"), ("8 pm", "20:00"), ("14", "14:00")],
)
def test_times(text: str, expected: str) -> None:
    assert parse_time(text).strftime("%H:%M") == expected


def test_time_nonsense_is_none() -> None:
    assert parse_time("straks") is None
    assert parse_time("25:00") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("€750", Decimal("750")),
        ("750 euro", Decimal("750")),
        ("€ 1.200,-", Decimal("1200")),
        ("1.200,50", Decimal("1200.50")),
        ("1,200.50", Decimal("1200.50")),
        ("-50", Decimal("-50")),
        ("min 50 euro", Decimal("-50")),
        ("12,5", Decimal("12.5")),
    ],
)
def test_amounts(text: str, expected: Decimal) -> None:
    assert parse_amount(text) == expected


def test_integers() -> None:
    assert parse_integer("ongeveer 40") == 40
    assert parse_integer("1.000") == 1000
    assert parse_integer("-3") == -3
    assert parse_integer("geen idee") is None

"""Dates, times and amounts as residents type them."""

from datetime import date
from decimal import Decimal

import pytest

from bot.dialogue.validators import Invalid, still_consistent, validate
from bot.knowledge import Knowledge
from bot.nlu.dates import DateProblem, find_date_phrases, parse_date
from bot.nlu.values import find_times, parse_amount, parse_integer, parse_time

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
        # passed this year a few days or weeks ago: next year, or a slip? Asked back.
        ("12 november", "date_year_unclear"),
        ("12-11", "date_year_unclear"),
        ("1 september", "date_year_unclear"),
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
        # Dutch half hours count towards the next hour; 1:00-7:59 without a daypart is
        # read as the afternoon or evening, 8:00-11:59 as the morning (bot/nlu/times.py)
        ("half drie", "14:30"),
        ("half 3", "14:30"),
        ("om 3 uur", "15:00"),
        ("drie uur", "15:00"),
        ("8 uur", "08:00"),
        ("8 uur 's avonds", "20:00"),
        ("half 3 's middags", "14:30"),
        ("half acht", "19:30"),
        ("half acht 's ochtends", "07:30"),
        ("half een", "12:30"),
        ("kwart over acht", "08:15"),
        ("kwart over acht 's avonds", "20:15"),
        ("kwart voor negen 's avonds", "20:45"),
        ("tien over half acht 's avonds", "19:40"),
        ("vijf voor half drie", "14:25"),
        ("10 voor 3", "14:50"),
        ("3 uur 's middags", "15:00"),
        ("12 uur 's middags", "12:00"),
        ("12 uur 's nachts", "00:00"),
        ("11 uur 's nachts", "23:00"),
        ("2 uur 's nachts", "02:00"),
        ("middernacht", "00:00"),
        ("vanavond om 8 uur", "20:00"),
        ("'s avonds om half acht", "19:30"),
        ("tegen achten", "08:00"),
        ("tegen achten 's avonds", "20:00"),
        ("om negenen", "09:00"),
        ("om acht", "08:00"),
        ("om 3", "15:00"),
        ("3", "15:00"),
        ("12", "12:00"),
        ("0", "00:00"),
        ("ongeveer 3 uur", "15:00"),
        # written clock times
        ("19u30", "19:30"),
        ("19h", "19:00"),
        ("19h30", "19:30"),
        ("3:30", "15:30"),  # hour 1-7 without a leading zero: afternoon
        ("07:30", "07:30"),  # a leading zero is the 24-hour clock
        ("10:00", "10:00"),
        ("0:30", "00:30"),
        ("7.30 's avonds", "19:30"),
        # English
        ("11:30 pm", "23:30"),
        ("11.30pm", "23:30"),
        ("7 pm", "19:00"),
        ("7pm", "19:00"),
        ("7 p.m.", "19:00"),
        ("9 am", "09:00"),
        ("12 am", "00:00"),
        ("12 pm", "12:00"),
        ("3 in the afternoon", "15:00"),
        ("half past seven in the evening", "19:30"),
        ("quarter to nine", "08:45"),
        ("ten past eight pm", "20:10"),
        ("twenty-five to six", "17:35"),
        ("seven o'clock", "19:00"),
        ("at seven", "19:00"),
        ("noon", "12:00"),
        ("12 noon", "12:00"),
        ("midnight", "00:00"),
        ("tonight at 8", "20:00"),
    ],
)
def test_times_in_everyday_words(text: str, expected: str) -> None:
    assert parse_time(text).strftime("%H:%M") == expected


@pytest.mark.parametrize(
    "text",
    [
        "een uur",  # an hour long
        "het duurt 2 uur lang",
        "anderhalf uur",
        "een half uur",
        "om 3 kinderen",
        "5 voor 10 euro",
        "€ 12.50",
        "12.50 euro",
        "12.12.2026",
        "over twee weken",
        "we komen met z'n tweeën",
    ],
)
def test_numbers_that_are_no_time(text: str) -> None:
    assert parse_time(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("zaterdag 6 februari van 10:00 tot 16:00", [("10:00", "10:00"), ("16:00", "16:00")]),
        ("van 10.00 tot 16.00 uur", [("10:00", "10.00"), ("16:00", "16.00")]),
        ("van 2 tot 5", [("14:00", "2"), ("17:00", "5")]),
        ("tussen 2 en 5 's middags", [("14:00", "2"), ("17:00", "5 's middags")]),
        ("van 9 tot 5", [("09:00", "9"), ("17:00", "5")]),
        ("van 7 tot 10", [("19:00", "7"), ("22:00", "10")]),
        ("van 10 tot 2 's middags", [("10:00", "10"), ("14:00", "2 's middags")]),
        # a daypart at the end of a range counts for both ends
        ("van 8 tot 11 's avonds", [("20:00", "8"), ("23:00", "11 's avonds")]),
        ("'s avonds van 8 tot 11", [("20:00", "'s avonds van 8"), ("23:00", "11")]),
        # the end of a range is read after its start, past midnight if need be
        ("van 14:00 tot 8 uur", [("14:00", "14:00"), ("20:00", "8 uur")]),
        ("van 21:00 tot 2 uur", [("21:00", "21:00"), ("02:00", "2 uur")]),
        ("from 7pm until midnight", [("19:00", "7pm"), ("00:00", "midnight")]),
        ("14-17 uur", [("14:00", "14"), ("17:00", "17 uur")]),
        (
            "We beginnen om half acht en stoppen om kwart over tien",
            [("19:30", "half acht"), ("10:15", "kwart over tien")],  # the end question reads 22:15
        ),
        ("van 3 tot 5 december", []),
        ("we zijn met 4 en 5 kinderen", []),
        ("Zaal voor 50 personen om 8 uur", [("08:00", "8 uur")]),
        ("om 8, daarna de markt opbouwen", [("08:00", "8")]),
        ("Lindelaan 1 tot 12", []),  # a house number range, not a time
    ],
)
def test_times_in_a_sentence(text: str, expected: list[tuple[str, str]]) -> None:
    found = [(value.strftime("%H:%M"), text[a:b]) for value, (a, b) in find_times(text)]
    assert found == expected


def end_time(knowledge: Knowledge, text: str, start: str) -> str:
    return validate(knowledge.question("end_time"), text, {"start_time": start}, MONDAY)


@pytest.mark.parametrize(
    ("text", "start", "expected"),
    [
        ("17:00", "14:00", "17:00"),
        ("01:00", "22:00", "01:00"),  # ends after midnight
        ("2 uur", "21:00", "02:00"),
        ("middernacht", "20:00", "00:00"),
        ("half zes 's ochtends", "23:00", "05:30"),
        ("8 uur", "14:00", "20:00"),  # the evening: the morning would be before the start
        ("tegen achten", "14:00", "20:00"),
        ("10 uur", "08:00", "10:00"),
        ("12 uur", "10:00", "12:00"),
        ("12 uur", "19:00", "00:00"),
        ("half 5", "14:00", "16:30"),
        ("kwart over tien", "19:30", "22:15"),
    ],
)
def test_end_times_after_the_start(knowledge: Knowledge, text: str, start: str, expected: str):
    assert end_time(knowledge, text, start) == expected


@pytest.mark.parametrize(
    ("text", "start"),
    [
        ("14:00", "14:00"),  # the same time
        ("10:00", "14:00"),  # a written clock time says what it says
        ("13:00", "14:00"),
        ("07:00", "22:00"),  # not in the early morning: no event runs that long
        ("03:00", "04:00"),  # the start is in the early morning itself
    ],
)
def test_end_times_that_are_refused(knowledge: Knowledge, text: str, start: str) -> None:
    with pytest.raises(Invalid) as raised:
        end_time(knowledge, text, start)
    assert raised.value.key == "time_not_after"


@pytest.mark.parametrize(
    ("start", "end", "consistent"),
    [
        ("14:00", "17:00", True),
        ("22:00", "01:00", True),  # as `_time` accepts it: the next day
        ("21:00", "00:00", True),
        ("18:00", "17:00", False),
        ("14:00", "14:00", False),
        ("14:00", "10:00", False),
        ("04:00", "03:00", False),
    ],
)
def test_consistency_agrees_with_the_end_time_rule(
    knowledge: Knowledge, start: str, end: str, consistent: bool
) -> None:
    question = knowledge.question("end_time")
    assert still_consistent(question, {"start_time": start, "end_time": end}) is consistent
    accepted = True
    try:
        end_time(knowledge, end, start)
    except Invalid:
        accepted = False
    assert accepted is consistent


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


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("een man of 15", 15),
        ("een man of vijftien", 15),
        ("zo'n twintig", 20),
        ("rond de vijftig mensen", 50),
        ("ongeveer honderdtwintig", 120),
        ("tweeëntwintig", 22),
        ("een stuk of dertig", 30),
        ("about thirty", 30),
        ("around forty-five people", 45),
        ("een paar", None),  # no number: asked again, not guessed
    ],
)
def test_numbers_in_words(text: str, expected: int | None) -> None:
    assert parse_integer(text) == expected

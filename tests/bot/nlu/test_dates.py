"""Dates in everyday words, relative to a fixed today: holidays, weeks ahead, weekdays that
must fit the date, and the periods and recurring dates the bot asks about instead."""

from datetime import date, timedelta

import pytest

from bot.nlu.dates import DateProblem, find_date_phrases, parse_date
from tests.support import TODAYS

TUESDAY = date(2026, 12, 1)
NEW_YEARS_EVE = date(2026, 12, 31)
BOXING_DAY = date(2026, 12, 26)
EARLY_2025 = date(2025, 1, 10)  # 27 April 2025 is a Sunday


@pytest.mark.parametrize(
    ("text", "today", "expected"),
    [
        # weeks ahead: the weekday of the week that many weeks from now
        ("over twee weken op woensdag", TUESDAY, date(2026, 12, 16)),
        ("woensdag over twee weken", TUESDAY, date(2026, 12, 16)),
        ("over 2 weken op maandag", TUESDAY, date(2026, 12, 14)),
        ("over een week op vrijdag", TUESDAY, date(2026, 12, 11)),
        ("in two weeks on Wednesday", TUESDAY, date(2026, 12, 16)),
        ("over twee weken op woensdag", NEW_YEARS_EVE, date(2027, 1, 13)),
        ("volgende week zaterdag", NEW_YEARS_EVE, date(2027, 1, 9)),
        ("over twee weken", TUESDAY, date(2026, 12, 15)),
        # holidays: the next one on or after today (the `holidays` package's NL calendar)
        ("Koningsdag", TUESDAY, date(2027, 4, 27)),
        ("King's Day", TUESDAY, date(2027, 4, 27)),
        ("Koningsdag", EARLY_2025, date(2025, 4, 26)),
        ("tweede paasdag", TUESDAY, date(2027, 3, 29)),
        ("Pasen", TUESDAY, date(2027, 3, 28)),
        ("Hemelvaartsdag", TUESDAY, date(2027, 5, 6)),
        ("Pinksteren", TUESDAY, date(2027, 5, 16)),
        ("tweede pinksterdag", TUESDAY, date(2027, 5, 17)),
        ("eerste kerstdag", TUESDAY, date(2026, 12, 25)),
        ("eerste kerstdag", BOXING_DAY, date(2027, 12, 25)),
        ("tweede kerstdag", BOXING_DAY, date(2026, 12, 26)),
        ("Christmas Day", TUESDAY, date(2026, 12, 25)),
        ("oudejaarsavond", TUESDAY, date(2026, 12, 31)),
        ("oudejaarsavond", NEW_YEARS_EVE, date(2026, 12, 31)),
        ("New Year's Eve", TUESDAY, date(2026, 12, 31)),
        ("nieuwjaarsdag", NEW_YEARS_EVE, date(2027, 1, 1)),
        ("Sinterklaas", TUESDAY, date(2026, 12, 5)),
        ("Sinterklaas", BOXING_DAY, date(2027, 12, 5)),
        ("op Koningsdag in het park", TUESDAY, date(2027, 4, 27)),
        ("dinsdag Koningsdag", TUESDAY, date(2027, 4, 27)),
        # a day before or after another date
        ("de dag voor Koningsdag", TUESDAY, date(2027, 4, 26)),
        ("de dag voor Koningsdag", EARLY_2025, date(2025, 4, 25)),
        ("de dag na Pinksteren", TUESDAY, date(2027, 5, 17)),
        ("twee dagen na Koningsdag", TUESDAY, date(2027, 4, 29)),
        ("the day after Christmas", TUESDAY, date(2026, 12, 26)),
        ("de dag na 12 december", TUESDAY, date(2026, 12, 13)),
        ("de dag voor oudejaarsavond", TUESDAY, date(2026, 12, 30)),
        ("de dag na de markt, 12 december", TUESDAY, date(2026, 12, 12)),
        # a weekday with a date that fits it
        ("maandag 7 juni", TUESDAY, date(2027, 6, 7)),
        ("zaterdag 6 februari", TUESDAY, date(2027, 2, 6)),
        ("zaterdag, 6 februari", TUESDAY, date(2027, 2, 6)),
        ("zaterdag de 6e februari", TUESDAY, date(2027, 2, 6)),
        ("za 6 feb", TUESDAY, date(2027, 2, 6)),
        ("zaterdag 6-2", TUESDAY, date(2027, 2, 6)),
        ("Saturday, February 6th", TUESDAY, date(2027, 2, 6)),
        ("June 7", TUESDAY, date(2027, 6, 7)),
        ("7th of June", TUESDAY, date(2027, 6, 7)),
        ("zaterdag 2 januari", NEW_YEARS_EVE, date(2027, 1, 2)),
        ("zaterdag 6 februari van 10:00 tot 16:00", TUESDAY, date(2027, 2, 6)),
        ("zaterdag van 10.00 tot 16.00", TUESDAY, date(2026, 12, 5)),  # no date in "10.00"
        ("zaterdag dit weekend", TUESDAY, date(2026, 12, 5)),
        # what dateparser read before stays as it was
        ("morgen", NEW_YEARS_EVE, date(2027, 1, 1)),
        ("13/1", NEW_YEARS_EVE, date(2027, 1, 13)),
        ("28-5", TUESDAY, date(2027, 5, 28)),  # May: its only Dutch name is short
        ("ons jaarlijks feest op 12 juni", TUESDAY, date(2027, 6, 12)),
        ("het dagelijks bestuur komt 12 juni", TUESDAY, date(2027, 6, 12)),
        ("kerstmarkt op 12 december", TUESDAY, date(2026, 12, 12)),
    ],
)
def test_dates_in_everyday_words(text: str, today: date, expected: date) -> None:
    assert parse_date(text, today) == expected


@pytest.mark.parametrize(
    ("text", "today", "key", "params"),
    [
        # a weekday that does not fit: say so rather than move the date to another year
        (
            "zondag 7 juni",
            TUESDAY,
            "date_weekday_mismatch",
            {"date": "7 juni 2027", "weekday": "maandag", "given": "zondag"},
        ),
        (
            "Sunday 7 June",
            TUESDAY,
            "date_weekday_mismatch",
            {"date": "7 June 2027", "weekday": "Monday", "given": "Sunday"},
        ),
        (
            "Sunday, June 7",
            TUESDAY,
            "date_weekday_mismatch",
            {"date": "7 June 2027", "weekday": "Monday", "given": "Sunday"},
        ),
        (
            "vrijdag 12 december 2026",
            TUESDAY,
            "date_weekday_mismatch",
            {"date": "12 december 2026", "weekday": "zaterdag", "given": "vrijdag"},
        ),
        (
            "za 3-1",
            NEW_YEARS_EVE,
            "date_weekday_mismatch",
            {"date": "3 januari 2027", "weekday": "zondag", "given": "zaterdag"},
        ),
        (
            "zaterdag Koningsdag",
            TUESDAY,
            "date_weekday_mismatch",
            {"date": "27 april 2027", "weekday": "dinsdag", "given": "zaterdag"},
        ),
        # periods: ask for the day
        ("next month", TUESDAY, "date_vague", {}),
        ("volgende maand", TUESDAY, "date_vague", {}),
        ("volgende maand", NEW_YEARS_EVE, "date_vague", {}),
        ("eind januari", TUESDAY, "date_vague", {}),
        ("begin maart", TUESDAY, "date_vague", {}),
        ("half maart", TUESDAY, "date_vague", {}),
        ("end of January", TUESDAY, "date_vague", {}),
        ("in maart", TUESDAY, "date_vague", {}),
        ("zaterdag eind januari", TUESDAY, "date_vague", {}),
        ("volgende week", TUESDAY, "date_vague", {}),
        ("dit weekend", TUESDAY, "date_vague", {}),
        ("rond Pasen", TUESDAY, "date_vague", {}),
        ("binnenkort", TUESDAY, "date_vague", {}),
        # a number alone names no month (and is often a quantity the model took for a date)
        ("5", TUESDAY, "date_unreadable", {}),
        ("12", TUESDAY, "date_unreadable", {}),
        ("5e", TUESDAY, "date_unreadable", {}),
        ("2027", TUESDAY, "date_unreadable", {}),
    ],
)
def test_what_is_not_one_date_says_why(
    text: str, today: date, key: str, params: dict[str, str]
) -> None:
    with pytest.raises(DateProblem) as raised:
        parse_date(text, today)
    assert (raised.value.key, raised.value.params) == (key, params)


@pytest.mark.parametrize(
    ("text", "phrases"),
    [
        (
            "Wij organiseren zaterdag 6 februari een buurtfeest van 10:00 tot 16:00",
            ["zaterdag 6 februari"],
        ),
        ("Op zaterdag, 6 februari van 10.00 tot 16.00 uur", ["zaterdag, 6 februari"]),
        ("zaterdag de 6e februari in het buurthuis", ["zaterdag de 6e februari"]),
        ("Een feest op Koningsdag in het park", ["Koningsdag"]),
        ("Opbouwen de dag voor Koningsdag", ["de dag voor Koningsdag"]),
        ("De vergadering is woensdag over twee weken", ["woensdag over twee weken"]),
        ("We komen over twee weken op woensdag", ["over twee weken op woensdag"]),
        ("Een cursus elke dinsdag vanaf januari", ["elke dinsdag vanaf januari"]),
        ("Een feest in maart", ["in maart"]),
        ("Ergens in maart, op zaterdag 13 maart", ["zaterdag 13 maart"]),  # the exact one
        ("Rond Pasen een paasontbijt", ["Rond Pasen"]),
        ("12 december, zondag 13 december", ["12 december", "zondag 13 december"]),
        ("Een kerstmarkt op 12-12 van 10.00 tot 16.00", ["12-12"]),
    ],
)
def test_date_phrases_in_a_sentence_keep_their_whole_span(text: str, phrases: list[str]) -> None:
    assert [text[a:b] for a, b in find_date_phrases(text)] == phrases


@pytest.mark.parametrize(
    ("text", "today"),
    [
        ("zaterdag 6 februari", TUESDAY),
        ("de dag voor Koningsdag", TUESDAY),
        ("woensdag over twee weken", NEW_YEARS_EVE),
        ("Koningsdag", EARLY_2025),
    ],
)
def test_a_found_phrase_reads_as_the_whole_text_does(text: str, today: date) -> None:
    sentence = f"Wij willen {text} een buurtfeest"
    ((start, end),) = find_date_phrases(sentence)
    assert parse_date(sentence[start:end], today) == parse_date(text, today)


@pytest.mark.parametrize(
    "text",
    [
        "elke dinsdag vanaf januari",
        "iedere eerste zaterdag van de maand",
        "every Tuesday",
        "wekelijks op woensdag",
        "op dinsdagen",
        "om de week",
    ],
)
def test_a_recurring_date_is_kept_as_the_recurrence(text: str) -> None:
    """Not one date: the bot keeps how it recurs with the request and asks the first."""
    with pytest.raises(DateProblem) as raised:
        parse_date(text, TUESDAY)
    assert (raised.value.key, raised.value.params) == ("date_recurring", {"recurrence": text})


@pytest.mark.parametrize("today", TODAYS, ids=str)
def test_relative_days_across_month_and_year_ends(today: date) -> None:
    assert parse_date("morgen", today) == today + timedelta(days=1)
    assert parse_date("overmorgen", today) == today + timedelta(days=2)
    saturday = parse_date("zaterdag", today)
    assert saturday.weekday() == 5 and 0 < (saturday - today).days <= 7
    assert parse_date("next Saturday", today).weekday() == 5
    # A day without a year is the next one to come.
    in_a_month = today + timedelta(days=31)
    assert parse_date(f"{in_a_month.day}-{in_a_month.month}", today) == in_a_month

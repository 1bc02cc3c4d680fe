"""Dutch (and English) dates as residents write them.

dateparser does the general work; this module adds the phrases it misses ("volgende week
zaterdag", "komende vrijdag", "over twee weken") and tells an impossible date ("31 februari")
apart from an unreadable one, so the bot can say what is wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import dateparser

MONTHS = {
    "januari": 1, "jan": 1, "january": 1,
    "februari": 2, "feb": 2, "february": 2,
    "maart": 3, "mrt": 3, "march": 3, "mar": 3,
    "april": 4, "apr": 4,
    "mei": 5, "may": 5,
    "juni": 6, "jun": 6, "june": 6,
    "juli": 7, "jul": 7, "july": 7,
    "augustus": 8, "aug": 8, "august": 8,
    "september": 9, "sep": 9, "sept": 9,
    "oktober": 10, "okt": 10, "october": 10, "oct": 10,
    "november": 11, "nov": 11,
    "december": 12, "dec": 12,
}  # fmt: skip
WEEKDAYS = {
    "maandag": 0, "monday": 0, "dinsdag": 1, "tuesday": 1, "woensdag": 2, "wednesday": 2,
    "donderdag": 3, "thursday": 3, "vrijdag": 4, "friday": 4, "zaterdag": 5, "saturday": 5,
    "zondag": 6, "sunday": 6,
}  # fmt: skip
NUMBER_WORDS = {
    "een": 1, "één": 1, "a": 1, "one": 1, "twee": 2, "two": 2, "drie": 3, "three": 3,
    "vier": 4, "four": 4, "vijf": 5, "five": 5, "zes": 6, "six": 6,
}  # fmt: skip

_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
_WEEKDAY = "|".join(WEEKDAYS)
_NAMED_DATE = re.compile(
    rf"\b(\d{{1,2}})(?:e|ste|de|st|nd|rd|th)?\s+({_MONTH})\b\.?(?:\s+(\d{{4}}))?"
)
_NUMERIC_DATE = re.compile(r"(?<![\d:.])(\d{1,2})[-/.](\d{1,2})(?:[-/.](\d{4}|\d{2}))?(?![\d:])")
_NEXT_WEEK_DAY = re.compile(
    rf"\b(?:volgende week|next week)\s+({_WEEKDAY})\b"
    rf"|\b({_WEEKDAY})\s+(?:volgende week|next week)\b"
)
_WEEKDAY_PHRASE = re.compile(
    rf"\b(?:(?:komende|aanstaande|deze|this|coming|next)\s+)?({_WEEKDAY})\b"
)
_IN_PERIOD = re.compile(r"\b(?:over|in)\s+(\d+|\w+)\s+(dag|dagen|day|days|week|weken|weeks)\b")
_SIMPLE = {
    "vandaag": 0, "today": 0, "morgen": 1, "tomorrow": 1, "overmorgen": 2,
    "day after tomorrow": 2,
}  # fmt: skip
_SIMPLE_PATTERN = re.compile(r"\b(" + "|".join(sorted(_SIMPLE, key=len, reverse=True)) + r")\b")


@dataclass(frozen=True)
class DateProblem(Exception):
    """Why a text is not a usable date; `key` names the explanation in knowledge/texts.yml."""

    key: str
    params: dict[str, str]


def _from_day_month(day: int, month: int, year: int | None, today: date, month_name: str) -> date:
    if not 1 <= month <= 12:
        raise DateProblem("date_unreadable", {})
    for candidate_year in [year] if year else [today.year, today.year + 1]:
        try:
            found = date(candidate_year, month, day)
        except ValueError:
            raise DateProblem("date_impossible", {"day": str(day), "month": month_name}) from None
        if year or found >= today:
            return found
    return found


def _month_name(month: int) -> str:
    return next(name for name, number in MONTHS.items() if number == month and len(name) > 4)


def parse_date(text: str, today: date) -> date:
    """The first date in `text`, relative to `today`; raises DateProblem when there is none."""
    lowered = " ".join(text.lower().split())
    if match := _NAMED_DATE.search(lowered):
        day, month_word, year = match.groups()
        return _from_day_month(
            int(day), MONTHS[month_word], int(year) if year else None, today, month_word
        )
    if match := _NUMERIC_DATE.search(lowered):
        day, month, year = match.groups()
        full_year = int(year) + 2000 if year and len(year) == 2 else int(year) if year else None
        month_word = _month_name(int(month)) if 1 <= int(month) <= 12 else month
        return _from_day_month(int(day), int(month), full_year, today, month_word)
    if match := _NEXT_WEEK_DAY.search(lowered):
        weekday = WEEKDAYS[match.group(1) or match.group(2)]
        next_monday = today + timedelta(days=7 - today.weekday())
        return next_monday + timedelta(days=weekday)
    if match := _SIMPLE_PATTERN.search(lowered):
        return today + timedelta(days=_SIMPLE[match.group(1)])
    if match := _IN_PERIOD.search(lowered):
        amount_word, unit = match.groups()
        amount = int(amount_word) if amount_word.isdigit() else NUMBER_WORDS.get(amount_word)
        if amount is not None:
            return today + timedelta(days=amount * (7 if unit.startswith("we") else 1))
    if match := _WEEKDAY_PHRASE.search(lowered):
        ahead = (WEEKDAYS[match.group(1)] - today.weekday()) % 7 or 7
        return today + timedelta(days=ahead)
    parsed = dateparser.parse(
        lowered,
        languages=["nl", "en"],
        settings={
            "PREFER_DATES_FROM": "future",
            "RELATIVE_BASE": datetime.combine(today, datetime.min.time()),
            "DATE_ORDER": "DMY",
        },
    )
    if parsed is None:
        raise DateProblem("date_unreadable", {})
    return parsed.date()


def find_date_phrases(text: str) -> list[tuple[int, int]]:
    """Spans of the date phrases in a longer text, in order; used as a backup for the model."""
    lowered = text.lower()
    patterns = (_NAMED_DATE, _NUMERIC_DATE, _NEXT_WEEK_DAY, _SIMPLE_PATTERN, _IN_PERIOD)
    spans: list[tuple[int, int]] = []
    for pattern in (*patterns, _WEEKDAY_PHRASE):
        for match in pattern.finditer(lowered):
            if not any(start <= match.start() < end for start, end in spans):
                spans.append(match.span())
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and not lowered[merged[-1][1] : start].strip():
            merged[-1] = (merged[-1][0], end)  # "zaterdag" + "12 december" is one date
        else:
            merged.append((start, end))
    return merged

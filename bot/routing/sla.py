"""When an answer is due: working days after the request, skipping weekends and Dutch
public holidays (from the `holidays` package, so Koningsdag and Pasen move correctly)."""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays


@lru_cache(maxsize=8)
def _dutch_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("NL", years=[year, year + 1])


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _dutch_holidays(day.year)


def add_working_days(start: date, days: int) -> date:
    """The date `days` working days after `start` (the start day itself does not count)."""
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if is_working_day(current):
            remaining -= 1
    return current


def working_days_between(start: date, end: date) -> int:
    """How many working days lie after `start` up to and including `end` (0 if end <= start)."""
    days, current = 0, start
    while current < end:
        current += timedelta(days=1)
        if is_working_day(current):
            days += 1
    return days

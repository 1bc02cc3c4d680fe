"""Dutch (and English) dates as residents write them.

dateparser does the general work; this module adds the phrases it misses ("volgende week
zaterdag", "komende vrijdag", "over twee weken", "woensdag over twee weken", "Koningsdag",
"de dag na Pinksteren") and tells an impossible date ("31 februari") apart from an
unreadable one, so the bot can say what is wrong. It also refuses, with a reason, what is
not one date: a weekday that does not fit the date ("zondag 7 juni" when that is a
Monday), a period ("volgende maand", "eind januari", "in maart", "dit weekend") and a
recurring date ("elke dinsdag vanaf januari").

Holidays that move (Koningsdag, Pasen, Hemelvaart, Pinksteren) come from the `holidays`
package's Dutch calendar, as in bot/routing/sla.py: the next one on or after today.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache

import dateparser
import holidays

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
# Short weekdays, only read just before a date ("za 6 feb", "Sun 7 June").
WEEKDAY_ABBREVIATIONS = {
    "ma": 0, "mon": 0, "di": 1, "tue": 1, "tues": 1, "wo": 2, "wed": 2, "do": 3, "thu": 3,
    "thur": 3, "thurs": 3, "vr": 4, "vrij": 4, "fri": 4, "za": 5, "zat": 5, "sat": 5,
    "zo": 6, "zon": 6, "sun": 6,
}  # fmt: skip
NUMBER_WORDS = {
    "een": 1, "één": 1, "a": 1, "one": 1, "twee": 2, "two": 2, "drie": 3, "three": 3,
    "vier": 4, "four": 4, "vijf": 5, "five": 5, "zes": 6, "six": 6, "zeven": 7, "seven": 7,
    "acht": 8, "eight": 8, "negen": 9, "nine": 9, "tien": 10, "ten": 10,
}  # fmt: skip
# The names the bot uses when it tells the resident about a date, in the resident's words.
DAY_NAMES = {
    "nl": ["maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"],
    "en": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
}
MONTH_NAMES = {
    "nl": ["januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
           "september", "oktober", "november", "december"],
    "en": ["January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"],
}  # fmt: skip
# Holidays residents name: the English name in the `holidays` package's Dutch calendar, or
# a fixed (month, day) for days that are not public holidays there.
HOLIDAYS: dict[str, str | tuple[int, int]] = {
    "koningsdag": "King's Day", "king's day": "King's Day", "kings day": "King's Day",
    "king’s day": "King's Day",
    "eerste paasdag": "Easter Sunday", "paaszondag": "Easter Sunday", "pasen": "Easter Sunday",
    "easter sunday": "Easter Sunday", "easter": "Easter Sunday",
    "tweede paasdag": "Easter Monday", "paasmaandag": "Easter Monday",
    "easter monday": "Easter Monday",
    "goede vrijdag": "Good Friday", "good friday": "Good Friday",
    "hemelvaartsdag": "Ascension Day", "hemelvaart": "Ascension Day",
    "ascension day": "Ascension Day",
    "eerste pinksterdag": "Pentecost", "pinksterzondag": "Pentecost", "pinksteren": "Pentecost",
    "pentecost": "Pentecost", "whit sunday": "Pentecost",
    "tweede pinksterdag": "Pentecost Monday", "pinkstermaandag": "Pentecost Monday",
    "whit monday": "Pentecost Monday", "pentecost monday": "Pentecost Monday",
    "eerste kerstdag": "Christmas Day", "kerstmis": "Christmas Day", "kerst": "Christmas Day",
    "christmas day": "Christmas Day", "christmas": "Christmas Day",
    "tweede kerstdag": "Second Day of Christmas", "boxing day": "Second Day of Christmas",
    "nieuwjaarsdag": "New Year's Day", "nieuwjaar": "New Year's Day",
    "new year's day": "New Year's Day",
    "oudejaarsavond": (12, 31), "oudejaarsdag": (12, 31), "oudjaar": (12, 31),
    "oud en nieuw": (12, 31), "new year's eve": (12, 31),
    "kerstavond": (12, 24), "christmas eve": (12, 24),
    "sinterklaas": (12, 5), "sinterklaasavond": (12, 5), "pakjesavond": (12, 5),
    "bevrijdingsdag": (5, 5), "liberation day": (5, 5),
    "valentijnsdag": (2, 14), "valentine's day": (2, 14), "halloween": (10, 31),
}  # fmt: skip


def _alternatives(words: Iterable[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_MONTH = _alternatives(MONTHS)
_FULL_MONTH = _alternatives(
    {name for name in MONTHS if len(name) > 3} | {"mei", "in may", "of may"}
)
_MONTH_FIRST = _alternatives(set(MONTHS) - {"jan"})  # "Jan 5" is more often a name
_WEEKDAY = "|".join(WEEKDAYS)
_ANY_WEEKDAY = _alternatives({*WEEKDAYS, *WEEKDAY_ABBREVIATIONS})
_NUMBER = rf"\d+|{_alternatives(NUMBER_WORDS)}"
_LEADING_WEEKDAY = rf"(?:\b(?P<weekday>{_ANY_WEEKDAY})\b\.?,?\s+(?:(?:de|the)\s+)?)?"
_LEADING_FULL_WEEKDAY = rf"(?:\b(?P<weekday>{_WEEKDAY})\b,?\s+)?"
_TRAILING_WEEKDAY = (
    rf"(?:,?\s+\(?(?:(?:een|a)\s+)?(?P<weekday_after>{_WEEKDAY})\b\)?(?!\s*(?:de\s+)?\d))?"
)
_NAMED_DATE = re.compile(
    rf"{_LEADING_WEEKDAY}\b(?P<day>\d{{1,2}})(?:e|ste|de|st|nd|rd|th)?\s+(?:of\s+)?"
    rf"(?P<month>{_MONTH})\b\.?(?:,?\s+(?P<year>\d{{4}}))?{_TRAILING_WEEKDAY}"
)
_MONTH_DAY = re.compile(  # "June 7", "Sunday, June 7th, 2027"
    rf"{_LEADING_WEEKDAY}\b(?P<month>{_MONTH_FIRST})\.?\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\b"
    rf"(?!\s*(?:uur|u\b|h\b|[:.]\d))(?:,?\s+(?P<year>\d{{4}}))?"
)
_NUMERIC_DATE = re.compile(
    rf"{_LEADING_WEEKDAY}(?<![\d:.])(?P<day>\d{{1,2}})[-/.](?P<month>\d{{1,2}})"
    rf"(?:[-/.](?P<year>\d{{4}}|\d{{2}}))?(?![\d:]){_TRAILING_WEEKDAY}"
)
_HOLIDAY = re.compile(
    rf"{_LEADING_FULL_WEEKDAY}\b(?P<holiday>{_alternatives(HOLIDAYS)})(?![\w’'])"
    r"(?!\s+(?:market|party|dinner|fair|tree|lights|concert|markt|borrel|diner|feest|viering"
    r"|boom|pakket|vakantie|holiday|holidays|break|egg|eggs))"
)
_NEXT_WEEK_DAY = re.compile(
    rf"\b(?:volgende week|next week)\s+(?:op\s+|on\s+)?({_WEEKDAY})\b"
    rf"|\b({_WEEKDAY})\s+(?:volgende week|next week)\b"
)
_WEEKS_DAY = re.compile(  # "over twee weken op woensdag", "woensdag over twee weken"
    rf"\b(?:over|in)\s+(?P<amount>{_NUMBER})\s+(?:weken|week|weeks)\s+(?:op\s+|on\s+)?"
    rf"(?P<weekday>{_WEEKDAY})\b"
    rf"|\b(?P<weekday2>{_WEEKDAY})\s+(?:over|in)\s+(?P<amount2>{_NUMBER})\s+(?:weken|week|weeks)\b"
)
_WEEKDAY_PHRASE = re.compile(
    rf"\b(?:(?:komende|aanstaande|deze|this|coming|next)\s+)?({_WEEKDAY})\b"
)
_IN_PERIOD = re.compile(rf"\b(?:over|in)\s+({_NUMBER})\s+(dag|dagen|day|days|week|weken|weeks)\b")
_SIMPLE = {
    "vandaag": 0, "today": 0, "morgen": 1, "tomorrow": 1, "overmorgen": 2,
    "day after tomorrow": 2,
}  # fmt: skip
_BARE_NUMBER = re.compile(r"\d{1,4}(?:e|ste|de|st|nd|rd|th)?\.?")
_SIMPLE_PATTERN = re.compile(r"\b(" + "|".join(sorted(_SIMPLE, key=len, reverse=True)) + r")\b")
# "de dag voor Koningsdag", "twee dagen na Pasen", "the day after Christmas"
_ENGLISH_WEEKDAYS = {
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "mon", "tue",
    "tues", "wed", "thu", "thur", "thurs", "fri", "sat", "sun",
}  # fmt: skip
_DAYS_AROUND = re.compile(
    rf"\b(?:(?:de|the)\s+)?(?:(?P<amount>{_NUMBER})\s+)?(?P<unit>dag|dagen|day|days)\s+"
    r"(?P<direction>voor|vóór|na|before|after)\s+"
)
_RECURRING = re.compile(  # a yearly event is still one date this year, so not "jaarlijks"
    rf"\b(?:elke|elk|iedere|ieder|every|each)\s+(?:(?:\w+\s+)?(?:{_WEEKDAY})|(?:(?:andere"
    rf"|other|tweede|second|twee|two|\d+)\s+)?(?:week|weken|weeks|maand|maanden|month|months"
    rf"|dag|day|weekend))\b"
    r"|\b(?:wekelijks|tweewekelijks|maandelijks|dagelijks|weekly|fortnightly|biweekly"
    r"|monthly|daily)\b(?!\s+bestuur)"
    r"|\bom\s+de\s+(?:\w+\s+)?(?:week|weken|maand)\b"
    rf"|\b(?:op\s+|on\s+)?(?:(?:{_WEEKDAY})(?:en|s))\b"
    rf"|['’]s\s?(?:{_WEEKDAY})s\b"
)
_RECURRING_TAIL = re.compile(  # "... vanaf januari", "... from 12 January"
    rf"\s+(?:vanaf|from|starting(?:\s+(?:in|on|from))?|beginnend(?:\s+(?:in|op))?|tot|until)"
    rf"(?:\s+(?:de|the|begin|eind|\d{{1,2}}(?:e|ste|de|st|nd|rd|th)?|{_MONTH}|\d{{4}})\b\.?)+"
)
# Periods, not days: the resident is asked for the day.
_VAGUE_PERIOD = re.compile(
    r"\b(?:volgende|komende|deze|next|this|coming)\s+(?:maand|month|jaar|year|zomer|winter"
    r"|lente|herfst|voorjaar|najaar|summer|spring|autumn|fall)\b"
    r"|\b(?:(?:aan\s+het\s+|in\s+het\s+)?(?:begin|eind|einde|half|medio|midden|halverwege)"
    r"|(?:in\s+)?(?:the\s+)?(?:early|late|mid|end\s+of|beginning\s+of|middle\s+of))"
    rf"[\s-]+(?:(?:van|of)\s+)?(?:de\s+maand|the\s+month|volgende\s+maand|next\s+month|{_MONTH})\b"
    rf"|\b(?:(?:in|ergens\s+in|sometime\s+in)\s+)?(?:de\s+maand\s+)?(?:{_FULL_MONTH})\b"
    r"(?:\s+\d{4})?"
    r"|\b(?:volgende|komende|deze|next|this|coming)\s+week\b"
)
_VAGUE_SOON = re.compile(r"\b(?:binnenkort|zo\s+snel\s+mogelijk|asap|soon)\b")
_VAGUE_WEEKEND = re.compile(
    r"\b(?:dit|deze|volgend|volgende|komend|komende|het|this|next|coming|the)\s+weekend\b"
)
# "rond Pasen", "na de kerst": around a holiday is not a day
_AROUND_HOLIDAY = re.compile(
    r"\b(?:rond|rondom|omstreeks|voor|vóór|na|before|after|around)\s+(?:de\s+|the\s+)?$"
)


@dataclass(frozen=True)
class DateProblem(Exception):
    """Why a text is not a usable date; `key` names the explanation in knowledge/texts.yml."""

    key: str
    params: dict[str, str]


_ENGLISH_MONTHS = {name.lower() for name in MONTH_NAMES["en"]}
# A day and month without a year that passed this few days ago is asked back.
RECENTLY_PASSED_DAYS = 90


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
        if (today - found).days <= RECENTLY_PASSED_DAYS:
            # "12 november" on 23 November: a slip, or next year? Ask, don't guess.
            language = "en" if month_name.lower() in _ENGLISH_MONTHS else "nl"
            raise DateProblem(
                "date_year_unclear",
                {"date": f"{day} {MONTH_NAMES[language][month - 1]} {today.year + 1}"},
            )
    return found


@cache
def _dutch_holidays(year: int) -> dict[date, str]:
    return dict(holidays.country_holidays("NL", years=[year, year + 1], language="en_US"))


def holiday_date(name: str, today: date) -> date:
    """The next day on or after `today` that the holiday `name` (a key of HOLIDAYS) falls."""
    meant = HOLIDAYS[name]
    if isinstance(meant, tuple):
        this_year = date(today.year, *meant)
        return this_year if this_year >= today else date(today.year + 1, *meant)
    days = [day for day, title in _dutch_holidays(today.year).items() if title == meant]
    if not (coming := [day for day in days if day >= today]):
        raise DateProblem("date_unreadable", {})
    return min(coming)


def _check_weekday(match: re.Match[str], found: date) -> date:
    """`found`, unless the text names another weekday with it ("zondag 7 juni")."""
    groups = match.groupdict()
    word = groups.get("weekday") or groups.get("weekday_after")
    if not word:
        return found
    weekday = WEEKDAYS.get(word, WEEKDAY_ABBREVIATIONS.get(word))
    if weekday is None or weekday == found.weekday():
        return found
    language = "en" if word in _ENGLISH_WEEKDAYS else "nl"
    shown = f"{found.day} {MONTH_NAMES[language][found.month - 1]} {found.year}"
    raise DateProblem(
        "date_weekday_mismatch",
        {
            "date": shown,
            "weekday": DAY_NAMES[language][found.weekday()],
            "given": DAY_NAMES[language][weekday],
        },
    )


def _anchor(match: re.Match[str], lowered: str, today: date) -> date | None:
    """The date in "de dag na <...>", or None when what follows is no date ("de markt")."""
    rest = lowered[match.end() :]
    phrases = find_date_phrases(rest)
    if not phrases or phrases[0][0] != 0:
        return None
    try:
        return parse_date(rest[: phrases[0][1]], today)
    except DateProblem as problem:
        if problem.key == "date_unreadable":
            return None
        raise


def _amount(word: str) -> int | None:
    return int(word) if word.isdigit() else NUMBER_WORDS.get(word)


def _week_of(today: date, weeks: int, weekday: int) -> date:
    """The `weekday` of the week `weeks` weeks after this one (weeks start on Monday)."""
    return today - timedelta(days=today.weekday()) + timedelta(days=7 * weeks + weekday)


def parse_date(text: str, today: date) -> date:
    """The first date in `text`, relative to `today`; raises DateProblem when there is none,
    or when the text names a period or a recurring date rather than one day."""
    lowered = " ".join(text.lower().split())
    if _BARE_NUMBER.fullmatch(lowered):
        # "5" alone says no month: dateparser makes it the 5th of this month, and a number
        # the model took for a date ("5 tafels") would become a pick-up date.
        raise DateProblem("date_unreadable", {})
    if _RECURRING.search(lowered):
        raise DateProblem("date_recurring", {"recurrence": " ".join(text.split())})
    if (match := _DAYS_AROUND.search(lowered)) and (anchor := _anchor(match, lowered, today)):
        amount = _amount(match.group("amount") or "1") or 1
        forward = match.group("direction") in ("na", "after")
        return anchor + timedelta(days=amount if forward else -amount)
    if match := _NAMED_DATE.search(lowered):
        day, month_word, year = match.group("day", "month", "year")
        found = _from_day_month(
            int(day), MONTHS[month_word], int(year) if year else None, today, month_word
        )
        return _check_weekday(match, found)
    if match := _MONTH_DAY.search(lowered):
        day, month_word, year = match.group("day", "month", "year")
        found = _from_day_month(
            int(day), MONTHS[month_word], int(year) if year else None, today, month_word
        )
        return _check_weekday(match, found)
    numeric = (m for m in _NUMERIC_DATE.finditer(lowered) if _is_numeric_date(m, lowered))
    if match := next(numeric, None):
        day, month, year = match.group("day", "month", "year")
        full_year = int(year) + 2000 if year and len(year) == 2 else int(year) if year else None
        month_word = MONTH_NAMES["nl"][int(month) - 1] if 1 <= int(month) <= 12 else month
        found = _from_day_month(int(day), int(month), full_year, today, month_word)
        return _check_weekday(match, found)
    if match := _HOLIDAY.search(lowered):
        if _AROUND_HOLIDAY.search(lowered, 0, match.start()):
            raise DateProblem("date_vague", {})
        return _check_weekday(match, holiday_date(match.group("holiday"), today))
    if match := _WEEKS_DAY.search(lowered):
        amount = _amount(match.group("amount") or match.group("amount2"))
        if amount is not None:
            weekday = WEEKDAYS[match.group("weekday") or match.group("weekday2")]
            return _week_of(today, amount, weekday)
    if match := _NEXT_WEEK_DAY.search(lowered):
        return _week_of(today, 1, WEEKDAYS[match.group(1) or match.group(2)])
    if match := _SIMPLE_PATTERN.search(lowered):
        return today + timedelta(days=_SIMPLE[match.group(1)])
    if match := _IN_PERIOD.search(lowered):
        amount_word, unit = match.groups()
        amount = _amount(amount_word)
        if amount is not None:
            return today + timedelta(days=amount * (7 if unit.startswith("we") else 1))
    if _VAGUE_PERIOD.search(lowered) or _VAGUE_SOON.search(lowered):
        raise DateProblem("date_vague", {})
    if match := _WEEKDAY_PHRASE.search(lowered):
        ahead = (WEEKDAYS[match.group(1)] - today.weekday()) % 7 or 7
        return today + timedelta(days=ahead)
    if _VAGUE_WEEKEND.search(lowered):
        raise DateProblem("date_vague", {})
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


def _is_numeric_date(match: re.Match[str], lowered: str) -> bool:
    """A numeric match that can be a date, not a clock time ("10.00", "10.15 uur")."""
    day, month = int(match.group("day")), int(match.group("month"))
    return 1 <= day <= 31 and 1 <= month <= 12 and not _CLOCK_AFTER.match(lowered, match.end())


_CLOCK_AFTER = re.compile(r"\s*(?:uur|u\b|h\b)")
_EXACT = (_WEEKS_DAY, _NAMED_DATE, _MONTH_DAY, _NUMERIC_DATE, _HOLIDAY, _NEXT_WEEK_DAY)
_PHRASES = (
    _RECURRING,
    *_EXACT,
    _SIMPLE_PATTERN,
    _IN_PERIOD,
    _VAGUE_PERIOD,
    _VAGUE_WEEKEND,
    _WEEKDAY_PHRASE,
)
_BEFORE_A_DAY = re.compile(rf"{_DAYS_AROUND.pattern}$")


def is_holiday_name(phrase: str) -> bool:
    """Whether the phrase is a holiday's name alone ("Kerst", "Koningsdag"): in the name
    of an activity ("kerstsamenzang") it says what, not when."""
    return _HOLIDAY.fullmatch(phrase.lower().strip()) is not None


def find_date_phrases(text: str) -> list[tuple[int, int]]:
    """Spans of the date phrases in a longer text, in order; used as a backup for the model.
    A phrase keeps what belongs to it ("zaterdag 6 februari", "de dag na Koningsdag",
    "elke dinsdag vanaf januari"), so the date read from it is the one meant. A period
    ("in maart") counts only when the text has no exact date as well."""
    lowered = text.lower()
    spans: list[tuple[int, int]] = []
    vague: list[tuple[int, int]] = []
    exact = False
    for pattern in _PHRASES:
        for match in pattern.finditer(lowered):
            start, end = match.span()
            if pattern is _NUMERIC_DATE and not _is_numeric_date(match, lowered):
                continue
            if pattern is _RECURRING and (tail := _RECURRING_TAIL.match(lowered, end)):
                end = tail.end()
            if before := _BEFORE_A_DAY.search(lowered, 0, start):
                start = before.start()
            elif pattern is _HOLIDAY and (around := _AROUND_HOLIDAY.search(lowered, 0, start)):
                start = around.start()  # "rond Pasen" stays a period
            if any(start < other_end and other_start < end for other_start, other_end in spans):
                continue
            spans.append((start, end))
            exact = exact or pattern in _EXACT
            if pattern in (_VAGUE_PERIOD, _VAGUE_WEEKEND):
                vague.append((start, end))
    if exact:
        spans = [span for span in spans if span not in vague]
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and not lowered[merged[-1][1] : start].strip():
            merged[-1] = (merged[-1][0], end)  # "zaterdag" + "12 december" is one date
        else:
            merged.append((start, end))
    return merged

"""Times, whole numbers and euro amounts as residents type them ("19.30", "€ 1.200,-")."""

from __future__ import annotations

import re
from datetime import time
from decimal import Decimal

from babel.numbers import NumberFormatError, parse_decimal
from text_to_num import alpha2digit

from bot.nlu.times import find_readings, time_candidates

_INTEGER = re.compile(r"(?<![\d.,])(-?\s?\d{1,3}(?:\.\d{3})+|-?\s?\d+)(?![\d,]|\.\d)")
_AMOUNT = re.compile(
    r"(?P<neg>-|min(?:us)?\s)?\s*(?:€|eur(?:o)?\b)?\s*(?P<neg2>-)?\s*"
    r"(?P<number>\d[\d.,]*)(?:,-)?\s*(?:€|euro|eur)?",
    re.IGNORECASE,
)
_PEOPLE = re.compile(
    r"(\d+)\s*(?:mensen|personen|man|deelnemers|bezoekers|gasten|kinderen|buren|"
    r"people|persons|guests|visitors|participants)\b",
    re.IGNORECASE,
)
_EURO_MARKED = re.compile(
    r"(?:€\s?-?\s?\d[\d.,]*(?:,-)?)|(?:-?\d[\d.,]*(?:,-)?\s?(?:euro|eur)\b)", re.IGNORECASE
)


def find_times(text: str) -> list[tuple[time, tuple[int, int]]]:
    """Every clock time in `text` with its span, in order of appearance: "19.30", "half
    drie", "kwart voor negen 's avonds", "11:30 pm" (how a time is read: bot/nlu/times.py)."""
    return [(reading.value, reading.span) for reading in find_readings(text)]


def parse_time(text: str) -> time | None:
    """The first clock time in `text`; a bare hour ("14", "om acht") counts as that hour."""
    return candidates[0] if (candidates := time_candidates(text)) else None


# Languages whose number words are read ("zo'n twintig", "about thirty").
NUMBER_WORD_LANGUAGES = ("nl", "en")


def parse_integer(text: str) -> int | None:
    """The first whole number in `text` ("ongeveer 40", "1.000", "een man of vijftien"), or
    None. Number words are read by text2num; small ones ("twee", "een") stay words, as the
    article "een" must."""
    match = _INTEGER.search(text)
    for language in NUMBER_WORD_LANGUAGES:
        if match:
            break
        match = _INTEGER.search(alpha2digit(text, language))
    if not match:
        return None
    return int(match.group(1).replace(".", "").replace(" ", ""))


def parse_amount(text: str) -> Decimal | None:
    """The first euro amount in `text`, Dutch or English notation; negative stays negative."""
    for match in _AMOUNT.finditer(text):
        number = match.group("number").rstrip(".,")
        if not number:
            continue
        value = _decimal(number)
        if value is None:
            continue
        negative = bool(match.group("neg") or match.group("neg2"))
        return -value if negative else value
    return None


def _decimal(number: str) -> Decimal | None:
    """Read "1.200,50" (Dutch) and "1,200.50" (English); a lone separator before 3 digits
    groups thousands, before 1 or 2 digits it is the decimal mark."""
    if "," in number and "." in number:
        locale = "nl" if number.rfind(",") > number.rfind(".") else "en"
    elif "," in number:
        locale = "en" if re.fullmatch(r"\d{1,3}(,\d{3})+", number) else "nl"
    elif "." in number:
        locale = "nl" if re.fullmatch(r"\d{1,3}(\.\d{3})+", number) else "en"
    else:
        locale = "nl"
    try:
        return Decimal(parse_decimal(number, locale=locale, strict=True))
    except NumberFormatError:
        return None


def find_people(text: str) -> list[tuple[str, tuple[int, int]]]:
    """Numbers of people ("40 mensen") with the span of the number."""
    return [(m.group(1), m.span(1)) for m in _PEOPLE.finditer(text)]


def find_amounts(text: str) -> list[tuple[str, tuple[int, int]]]:
    """Amounts marked with a euro sign or word ("€750", "750 euro")."""
    return [(m.group(0).strip(), m.span()) for m in _EURO_MARKED.finditer(text)]

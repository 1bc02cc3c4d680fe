"""Checks one answer against its question and turns it into a stored value.

Stored values are JSON-friendly: dates as ISO strings, times as "HH:MM", amounts as decimal
strings, phone numbers in E.164. An answer that fails raises Invalid with the key of the
explanation in knowledge/texts.yml, so the resident is told exactly what is wrong.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, time
from decimal import Decimal
from typing import Any

import phonenumbers

from bot.contact import InvalidContact, email_address, phone_number
from bot.knowledge import Question
from bot.nlu.dates import DateProblem, parse_date
from bot.nlu.times import ends_after, pick_end, time_candidates
from bot.nlu.values import parse_amount, parse_integer

_TIME = re.compile(r"\d\d:\d\d")
# A name typed for an open list ("Kanaleneiland", "de Zuilense Ring"): at most this long.
MAX_NAME_LENGTH = 60
MAX_NAME_WORDS = 5


@dataclass(frozen=True)
class Invalid(Exception):
    key: str
    params: dict[str, str] = field(default_factory=dict)


def clean_text(text: str) -> str:
    """Drop control characters and fold white space; keep everything a person can read."""
    printable = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    return " ".join(printable.split())


def validate(question: Question, text: str, answers: dict[str, Any], today: date) -> Any:
    """The stored value for `text` as an answer to `question`, or Invalid."""
    text = clean_text(text)
    rules = question.validation
    match question.type:
        case "date":
            return _date(text, rules, answers, today)
        case "time":
            return _time(text, rules, answers)
        case "integer":
            return _integer(text, rules)
        case "amount":
            return _amount(text, rules)
        case "choice":
            return _choice(question, text, rules)
        case "email":
            try:
                return email_address(text)
            except InvalidContact:
                raise Invalid("email_invalid") from None
        case "phone":
            return _phone(text)
        case _:
            return _text(text, rules)


def still_consistent(question: Question, answers: dict[str, Any]) -> bool:
    """Whether a stored answer still agrees with the answers it is checked against."""
    value, rules = answers.get(question.key), question.validation
    if value is None:
        return True
    if (other := answers.get(rules.get("after") or "")) and not _is_after(value, other):
        return False
    if (other := answers.get(rules.get("not_before") or "")) and value < other:
        return False  # ISO dates compare like the dates they are
    if (limit := rules.get("max_days_after")) and (other := answers.get(limit["key"])):
        gap = date.fromisoformat(value) - date.fromisoformat(other)
        return gap.days <= int(limit["days"])
    return True


def _date(text: str, rules: dict[str, Any], answers: dict[str, Any], today: date) -> str:
    try:
        value = parse_date(text, today)
    except DateProblem as problem:
        raise Invalid(problem.key, problem.params) from None
    shown = value.strftime("%d-%m-%Y")
    if rules.get("not_past") and value < today:
        raise Invalid("date_past", {"date": shown})
    if "max_days_ahead" in rules and (value - today).days > int(rules["max_days_ahead"]):
        raise Invalid("date_too_far")
    if (other_key := rules.get("not_before")) and answers.get(other_key):
        other = date.fromisoformat(answers[other_key])
        if value < other:
            raise Invalid("date_before", {"other": other.strftime("%d-%m-%Y")})
    if (limit := rules.get("max_days_after")) and answers.get(limit["key"]):
        other = date.fromisoformat(answers[limit["key"]])
        if (value - other).days > int(limit["days"]):
            raise Invalid(
                "date_too_long_after",
                {"days": str(limit["days"]), "other": other.strftime("%d-%m-%Y")},
            )
    return value.isoformat()


def _is_after(value: str, other: str) -> bool:
    """Whether one stored answer lies after another: "HH:MM" times as `_time` accepts them
    (an end before 06:00 ends the next day), other values (ISO dates) as they compare."""
    if _TIME.fullmatch(value) and _TIME.fullmatch(other):
        return ends_after(time.fromisoformat(value), time.fromisoformat(other))
    return value > other


def _time(text: str, rules: dict[str, Any], answers: dict[str, Any]) -> str:
    """A time as "HH:MM". After a start time an open reading ("8 uur") takes the half of
    the day that ends soonest after it, and an end before 06:00 ends the next day
    ("van 22:00 tot 2 uur"); see bot/nlu/times.py."""
    candidates = time_candidates(text)
    if not candidates:
        raise Invalid("time_unreadable")
    if not ((other_key := rules.get("after")) and answers.get(other_key)):
        return candidates[0].strftime("%H:%M")
    other = time.fromisoformat(answers[other_key])
    if (value := pick_end(candidates, other)) is None:
        raise Invalid("time_not_after", {"other": other.strftime("%H:%M")})
    return value.strftime("%H:%M")


def _integer(text: str, rules: dict[str, Any]) -> int:
    value = parse_integer(text)
    if value is None:
        raise Invalid("integer_unreadable")
    if "min" in rules and value < int(rules["min"]):
        raise Invalid("integer_too_small", {"min": str(rules["min"])})
    if "max" in rules and value > int(rules["max"]):
        raise Invalid("integer_too_large", {"max": str(rules["max"])})
    return value


def _amount(text: str, rules: dict[str, Any]) -> str:
    value = parse_amount(text)
    if value is None:
        raise Invalid("amount_unreadable")
    if value <= 0:
        raise Invalid("amount_negative")
    if "min" in rules and value < Decimal(str(rules["min"])):
        raise Invalid("amount_too_small", {"min": f"€ {rules['min']}"})
    if "max" in rules and value > Decimal(str(rules["max"])):
        raise Invalid("amount_too_large", {"max": f"€ {rules['max']:,}".replace(",", ".")})
    return str(value.quantize(Decimal("0.01")))


def match_choice(question: Question, text: str) -> str | None:
    """The option `text` is, or else the one option it names as a whole word."""
    lowered = text.lower()
    names = {c.value: [c.value.lower(), *(s.lower() for s in c.synonyms)] for c in question.choices}
    for value, options in names.items():
        if lowered in options:
            return value
    named = [
        value
        for value, options in names.items()
        if any(re.search(rf"\b{re.escape(option)}\b", lowered) for option in options)
    ]
    return named[0] if len(named) == 1 else None


def _choice(question: Question, text: str, rules: dict[str, Any]) -> str:
    """One of the choices; for an open list (a neighbourhood) also a name not on it, as
    typed, when it looks like a name: a few words with letters, no question."""
    if (value := match_choice(question, text)) is not None:
        return value
    if rules.get("open") and _looks_like_a_name(text) and not _mentions_a_choice(question, text):
        return text.strip(" .!")
    raise Invalid("choice_unknown")


def _mentions_a_choice(question: Question, text: str) -> bool:
    """ "Noord of Zuid" names choices without being one: no name of a new place."""
    lowered = text.lower()
    return any(
        re.search(rf"\b{re.escape(option.lower())}\b", lowered)
        for choice in question.choices
        for option in (choice.value, *choice.synonyms)
    )


def _looks_like_a_name(text: str) -> bool:
    return (
        any(c.isalpha() for c in text)
        and "?" not in text
        and len(text) <= MAX_NAME_LENGTH
        and len(text.split()) <= MAX_NAME_WORDS
    )


def _phone(text: str) -> str:
    try:
        number = phone_number(text)
    except InvalidContact:
        raise Invalid("phone_invalid") from None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _text(text: str, rules: dict[str, Any]) -> str:
    if len(text) < int(rules.get("min_length", 1)):
        raise Invalid("text_too_short")
    if "max_length" in rules and len(text) > int(rules["max_length"]):
        raise Invalid("text_too_long", {"max": str(rules["max_length"])})
    return text

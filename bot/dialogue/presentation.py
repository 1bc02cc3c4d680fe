"""How stored answers read in a message: "zaterdag 12 december 2026", "€ 750,00"."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import phonenumbers
from babel.dates import format_date
from babel.numbers import format_currency

from bot.knowledge import Knowledge, Question

_LOCALES = {"nl": "nl_NL", "en": "en_GB"}


def format_day(value: date, language: str) -> str:
    return format_date(value, format="EEEE d MMMM y", locale=_LOCALES.get(language, "nl_NL"))


def format_value(question: Question, value: Any, language: str, knowledge: Knowledge) -> str:
    if value is None:
        return knowledge.text("skipped_value", language)
    match question.type:
        case "date":
            return format_day(date.fromisoformat(value), language)
        case "amount":
            return format_currency(Decimal(value), "EUR", locale=_LOCALES.get(language, "nl_NL"))
        case "phone":
            return phonenumbers.format_number(
                phonenumbers.parse(value), phonenumbers.PhoneNumberFormat.NATIONAL
            )
        case _:
            return str(value)


def need_label(knowledge: Knowledge, need: str, language: str) -> str:
    label = knowledge.needs[need].label
    return label.get(language) or label["nl"]


def need_list(knowledge: Knowledge, needs: list[str], language: str) -> str:
    """Needs as words inside a sentence: "een ruimte, budget"."""
    return ", ".join(need_label(knowledge, need, language).lower() for need in needs)

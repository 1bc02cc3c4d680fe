"""What every kind of change shares: the refusal, the limits and the checks of a single
typed value, so each resource's module words its refusals the same way."""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation

LANGUAGE_NAMES = {"nl": "Nederlandse", "en": "Engelse"}
MAX_TEXT_LENGTH = 4000  # Telegram refuses messages over 4096 characters
MAX_LABEL_LENGTH = 120


class EditError(ValueError):
    """A refused change; the message (Dutch) says why and what to do instead."""


def slug(text: str) -> str:
    """'Parkeren bij het café' -> 'parkeren_bij_het_cafe': lowercase a-z, 0-9 and _."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "_", plain).strip("_")


def _required(value: str, what: str, max_length: int) -> str:
    value = value.strip()
    if not value:
        raise EditError(f"{what} is verplicht.")
    if len(value) > max_length:
        raise EditError(f"{what} mag hoogstens {max_length} tekens hebben.")
    return value


def _lines(text: str) -> str:
    """A browser sends a text area's line breaks as CR LF; the bot sends LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _direction(direction: str) -> int:
    if direction not in ("up", "down"):
        raise EditError("Kies omhoog of omlaag.")
    return -1 if direction == "up" else 1


def _count(value: str, label: str) -> int:
    try:
        number = int(value.strip())
    except ValueError:
        raise EditError(f"{label}: vul een heel getal in.") from None
    if number < 0:
        raise EditError(f"{label}: het getal mag niet negatief zijn.")
    return number


def _number(value: str, label: str, whole: bool) -> int | float:
    """A number >= 0 from a form: a whole one, or (for amounts) with decimals."""
    if whole:
        return _count(value, label)
    try:
        number = Decimal(value.strip().replace(",", "."))
    except InvalidOperation:
        raise EditError(f"{label}: vul een getal in, bijvoorbeeld 5000 of 5000,01.") from None
    if not number.is_finite() or number < 0:
        raise EditError(f"{label}: vul een getal van 0 of meer in.")
    return int(number) if number == number.to_integral_value() else float(number)

"""Changes to what the bot says: a text keeps the placeholders the bot fills in, and its
translations are checked the same way wherever a text is typed (answers, labels, prompts)."""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping

from sqlalchemy.orm import Session

from bot.knowledge import store
from bot.knowledge.editing.common import (
    LANGUAGE_NAMES,
    MAX_TEXT_LENGTH,
    EditError,
    _lines,
)
from bot.storage.knowledge_tables import BotText
from bot.storage.models import User

# The groups whose {placeholders} the bot fills in; the others it says exactly as written.
FORMATTED_GROUPS = frozenset({"text", "error"})
# Example values for placeholders, for the check that a text can be filled in and for the
# preview: per language, with a few overrides where one name means different things.
EXAMPLE_VALUES: dict[str, dict[str, str]] = {
    "nl": {
        "reference": "WW-2026-000123",
        "department": "Vergunningen",
        "co_departments": "Vastgoed, Wijkbudget",
        "due": "vrijdag 4 december",
        "needs": "een ruimte en budget",
        "need": "budget",
        "facts": "datum zaterdag 12 december, aantal personen 40",
        "error": "Die datum is al voorbij.",
        "prompt": "Op welke datum is de activiteit?",
        "status": "in behandeling",
        "message": "We hebben uw aanvraag bekeken en hebben nog een vraag.",
        "length": "1200",
        "max": "1000",
        "min": "1",
        "date": "12-12-2025",
        "day": "31",
        "month": "februari",
        "other": "14-11-2026",
        "days": "14",
        "weekday": "maandag",
        "given": "zondag",
    },
    "en": {
        "department": "Permits",
        "co_departments": "Property, Neighbourhood budget",
        "due": "Friday 4 December",
        "needs": "a room and a budget",
        "facts": "date Saturday 12 December, number of people 40",
        "error": "That date has already passed.",
        "prompt": "On which date is the activity?",
        "status": "being handled",
        "message": "We have looked at your request and have one more question.",
        "month": "February",
        "weekday": "Monday",
        "given": "Sunday",
    },
}
EXAMPLE_OVERRIDES = {
    "time_not_after": {"other": "14:00"},
    "date_weekday_mismatch": {"date": "7 juni 2027"},
}


class _Examples(dict[str, str]):
    """Example values; a placeholder nobody planned for shows as ‹name›."""

    def __missing__(self, name: str) -> str:
        return f"‹{name}›"


def example_values(language: str, key: str = "") -> dict[str, str]:
    return _Examples(
        {
            **EXAMPLE_VALUES["nl"],
            **EXAMPLE_VALUES.get(language, {}),
            **EXAMPLE_OVERRIDES.get(key, {}),
        }
    )


def text_value(row: BotText) -> dict[str, str]:
    """A text's plain form, as store.read gives it."""
    values = {"nl": row.nl, "en": row.en, "usage": row.usage}
    return {k: v for k, v in values.items() if v}


def placeholders(text: str, where: str = "tekst") -> set[str]:
    """The {names} the text uses; EditError when its braces do not pair up."""
    try:
        fields = [field for _, field, _, _ in string.Formatter().parse(text) if field is not None]
    except ValueError:
        raise EditError(
            f"De accolades in de {where} kloppen niet. Een invulplek staat tussen {{ en }}, "
            "zoals {reference}; een losse accolade schrijft u dubbel: {{ of }}."
        ) from None
    names = set()
    for field in fields:
        name = re.split(r"[.\[]", field, maxsplit=1)[0]
        if not name or name.isdigit():
            raise EditError(
                f"De {where} heeft een invulplek zonder naam: schrijf bijvoorbeeld {{reference}}."
            )
        names.add(name)
    return names


def fill_in(text: str, language: str, formatted: bool, key: str = "") -> str:
    """The text as a resident would read it, placeholders filled with example values."""
    if not formatted:
        return text
    try:
        return text.format_map(example_values(language, key))
    except (ValueError, KeyError, IndexError, AttributeError):
        return text


def _braces(names: Iterable[str]) -> str:
    return ", ".join(f"{{{name}}}" for name in sorted(names))


def _translations(
    nl: str,
    en: str,
    *,
    what: str,
    formatted: bool,
    before: Mapping[str, str | None] | None,
    key: str,
    max_length: int = MAX_TEXT_LENGTH,
) -> dict[str, str]:
    """{"nl": ..., "en": ...} (en left out when empty); `what` names the text in messages.
    A text the bot fills in keeps exactly the placeholders it had, and must fill in with
    example values."""
    texts = {"nl": _lines(nl), "en": _lines(en)}
    of = f" van {what}" if what else ""
    if not texts["nl"].strip():
        raise EditError(f"De Nederlandse tekst{of} is verplicht.")
    for language, text in texts.items():
        if len(text) > max_length:
            raise EditError(
                f"De {LANGUAGE_NAMES[language]} tekst{of} mag hoogstens {max_length} tekens "
                f"hebben; deze heeft er {len(text)}."
            )
    if formatted and before is not None:
        wanted = placeholders(before.get("nl") or "") | placeholders(before.get("en") or "")
        for language, text in texts.items():
            if not text.strip():
                continue
            where = f"{LANGUAGE_NAMES[language]} tekst"
            found = placeholders(text, where)
            if missing := wanted - found:
                raise EditError(
                    f"In de {where} ontbreekt {_braces(missing)}. Op die plek vult de bot iets "
                    "in, dus die moet blijven staan."
                )
            if extra := found - wanted:
                allowed = _braces(wanted) or "niets"
                raise EditError(
                    f"De {where} gebruikt {_braces(extra)}, maar de bot vult hier alleen "
                    f"{allowed} in. Een losse accolade schrijft u dubbel: {{{{ of }}}}."
                )
            try:
                text.format(**example_values(language, key))
            except (ValueError, KeyError, IndexError, AttributeError) as error:
                raise EditError(
                    f"De {where} kan niet worden ingevuld ({error}). Schrijf een invulplek "
                    "als {naam}, zonder iets erachter."
                ) from None
    return {language: text for language, text in texts.items() if text.strip()}


def edit_text(session: Session, actor: User, group: str, key: str, *, nl: str, en: str) -> None:
    """Change what the bot says (group text, faq, status, status_message or error)."""
    row = session.get(BotText, (group, key))
    if row is None:
        raise EditError("Deze tekst bestaat niet (meer).")
    before = text_value(row)
    texts = _translations(
        nl, en, what="", formatted=group in FORMATTED_GROUPS, before=before, key=key
    )
    if (texts["nl"], texts.get("en")) == (row.nl, row.en):
        return
    row.nl, row.en = texts["nl"], texts.get("en")
    session.flush()
    store.record(session, actor, "text", f"{group}.{key}", before, text_value(row))

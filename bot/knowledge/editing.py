"""Admins' changes to the knowledge, one function per change.

Each function checks its change as strictly as the bot needs it, writes it and records it
with `store.record` (who, what, the value before and after). That audit entry also raises
the knowledge's version, so the bot and the web app use the change from their next message
or page on, without a restart. A refused change raises EditError with a Dutch message the
page shows as it is; every function checks everything before it writes anything, so after
an EditError the caller's transaction is as it was and the page can render from it.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from bot.knowledge import (
    ANSWER_TYPES,
    LANGUAGES,
    NEED_ORDER,
    VALIDATION_KEYS,
    KnowledgeError,
    check_shared_keys,
    intent_kind,
    question_from_dict,
    question_to_dict,
    store,
)
from bot.knowledge.bundle import APP_ENTITIES, ENTITIES, Bundle, example_key
from bot.routing.rules import CONDITION_KEYS, check_conditions
from bot.storage.models import (
    BotText,
    Department,
    Intent,
    NeedDefinition,
    OutboxMessage,
    QuestionDefinition,
    Request,
    RequestPart,
    RoutingRule,
    TrainingExample,
    User,
    UserDepartment,
)

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


# -- intents and training examples --------------------------------------------------------

MAX_EXAMPLE_LENGTH = 300
MIN_EXAMPLES = 2  # fewer, and Rasa never predicts the intent
FAQ_PREFIX = "faq_"
ENTITY_MARKUP = re.compile(r"\[([^\[\]]+)\]\(([^()\[\]]*)\)")


@dataclass(frozen=True)
class IntentSummary:
    """An intent as the overview shows it: its kind, its examples per language and how
    well the last cross-validation recognised it."""

    name: str
    kind: str
    examples: dict[str, int]
    cv_f1: float | None
    cv_measured_at: datetime | None

    @property
    def total(self) -> int:
        return sum(self.examples.values())


def intent_summaries(session: Session) -> list[IntentSummary]:
    counts: dict[str, dict[str, int]] = {}
    for intent, language, count in session.execute(
        select(TrainingExample.intent, TrainingExample.language, func.count()).group_by(
            TrainingExample.intent, TrainingExample.language
        )
    ):
        counts.setdefault(intent, {})[language] = count
    return [
        IntentSummary(
            intent.name,
            intent_kind(intent.name),
            counts.get(intent.name, {}),
            intent.cv_f1,
            intent.cv_measured_at,
        )
        for intent in session.scalars(select(Intent).order_by(Intent.name))
    ]


def example_value(example: TrainingExample) -> dict[str, str]:
    return {"intent": example.intent, "language": example.language, "text": example.text}


def known_entities(session: Session) -> set[str]:
    """The entities an example may mark: the model's own and those examples already use."""
    marked = session.scalars(
        select(TrainingExample.text).where(TrainingExample.text.contains("]("))
    )
    return {*ENTITIES, *(name for text in marked for _, name in ENTITY_MARKUP.findall(text))}


def _plain(text: str) -> str:
    """An example without its markup, as the model compares it: case and spaces ignored."""
    return " ".join(ENTITY_MARKUP.sub(r"\1", text).split()).casefold()


class _ExampleCheck:
    """Checks new or changed examples against the known entities and every example already
    there, in any intent (and against the others in the same list)."""

    def __init__(self, session: Session, ignore_id: int | None = None) -> None:
        self.entities = known_entities(session)
        rows = session.execute(
            select(TrainingExample.id, TrainingExample.intent, TrainingExample.text)
        )
        self.taken = {_plain(text): intent for id_, intent, text in rows if id_ != ignore_id}
        self.listed: set[str] = set()

    def __call__(self, text: str) -> str:
        """The example as it is stored (spaces folded), or EditError."""
        if "\n" in text.strip() or "\r" in text.strip():
            raise EditError("Een voorbeeld is één regel; zet elk voorbeeld op een eigen regel.")
        text = " ".join(text.split())
        if not text:
            raise EditError("Een voorbeeld mag niet leeg zijn.")
        if len(text) > MAX_EXAMPLE_LENGTH:
            raise EditError(
                f"Een voorbeeld mag hoogstens {MAX_EXAMPLE_LENGTH} tekens hebben; "
                f"dit heeft er {len(text)}."
            )
        rest = ENTITY_MARKUP.sub("", text)
        if "[" in rest or "]" in rest:
            raise EditError(
                f"De opmaak van een entiteit klopt niet in '{text}'. Schrijf [tekst](entiteit), "
                "bijvoorbeeld 'een zaal voor [40](people) mensen'."
            )
        unknown = sorted({name for _, name in ENTITY_MARKUP.findall(text)} - self.entities)
        if unknown:
            raise EditError(
                f"Onbekende entiteit {', '.join(repr(n) for n in unknown)} in '{text}'. "
                f"Bekend zijn: {', '.join(sorted(self.entities))}."
            )
        plain = _plain(text)
        if plain in self.taken:
            raise EditError(f"'{text}' staat al als voorbeeld bij {self.taken[plain]}.")
        if plain in self.listed:
            raise EditError(f"'{text}' staat twee keer in uw lijst.")
        self.listed.add(plain)
        return text


def _checked_lines(check: _ExampleCheck, texts: Sequence[str]) -> list[str]:
    """Every non-empty line checked; all problems at once, by line number."""
    numbered = [(number, text) for number, text in enumerate(texts, 1) if text.strip()]
    checked, problems = [], []
    for number, text in numbered:
        try:
            checked.append(check(text))
        except EditError as problem:
            problems.append(f"Regel {number}: {problem}" if len(numbered) > 1 else str(problem))
    if problems:
        raise EditError("\n".join(problems))
    return checked


def _intent(session: Session, name: str) -> Intent:
    intent = session.get(Intent, name)
    if intent is None:
        raise EditError(f"De intentie '{name}' bestaat niet (meer).")
    return intent


def _language(language: str) -> str:
    if language not in LANGUAGES:
        raise EditError("Kies Nederlands of Engels als taal.")
    return language


def count_examples(session: Session, intent: str) -> int:
    return session.scalar(select(func.count()).where(TrainingExample.intent == intent)) or 0


def _keep_enough(session: Session, intent: str) -> None:
    """Refuse taking an example away from an intent that would then have too few."""
    left = count_examples(session, intent) - 1
    if left < MIN_EXAMPLES:
        raise EditError(
            f"{intent} houdt dan {left} voorbeeld over; het model heeft er minstens "
            f"{MIN_EXAMPLES} nodig. Voeg eerst een ander voorbeeld toe."
        )


def _add_examples(
    session: Session, actor: User, intent: str, language: str, texts: Iterable[str]
) -> None:
    for text in texts:
        value = {"intent": intent, "language": language, "text": text}
        session.add(TrainingExample(source="admin", **value))
        store.record(session, actor, "example", example_key(value), None, value)
    session.flush()


def add_examples(
    session: Session, actor: User, intent: str, language: str, texts: Sequence[str]
) -> list[str]:
    """Add examples (one per line; empty lines skipped) to an intent; returns them as stored.
    The model learns them at the next training."""
    _intent(session, intent)
    _language(language)
    if not any(text.strip() for text in texts):
        raise EditError("Geef minstens één voorbeeldzin, één per regel.")
    checked = _checked_lines(_ExampleCheck(session), texts)
    _add_examples(session, actor, intent, language, checked)
    return checked


def _example(session: Session, example_id: int) -> TrainingExample:
    example = session.get(TrainingExample, example_id)
    if example is None:
        raise EditError("Dit voorbeeld bestaat niet meer.")
    return example


def edit_example(
    session: Session, actor: User, example_id: int, *, text: str, language: str, intent: str
) -> TrainingExample:
    """Change an example's text or language, or move it to another intent."""
    example = _example(session, example_id)
    _language(language)
    _intent(session, intent)
    checked = _ExampleCheck(session, ignore_id=example.id)(text)
    before = example_value(example)
    after = {"intent": intent, "language": language, "text": checked}
    if after == before:
        return example
    moved = intent != example.intent
    if moved:
        _keep_enough(session, example.intent)
    example.intent, example.language, example.text = intent, language, checked
    session.flush()
    store.record(
        session,
        actor,
        "example",
        example_key(after),
        before,
        after,
        action="moved" if moved else None,
    )
    return example


def delete_example(session: Session, actor: User, example_id: int) -> str:
    """Remove an example; returns its intent."""
    example = _example(session, example_id)
    _keep_enough(session, example.intent)
    before = example_value(example)
    session.delete(example)
    session.flush()
    store.record(session, actor, "example", example_key(before), before, None)
    return before["intent"]


def create_faq_intent(
    session: Session,
    actor: User,
    name: str,
    *,
    answer_nl: str,
    answer_en: str,
    examples: Sequence[str],
    language: str,
) -> str:
    """A new frequently asked question: its intent `faq_<slug>`, its answer and its first
    examples. Returns the intent's name. The bot answers it once the model is retrained."""
    base = slug(name).removeprefix(FAQ_PREFIX)
    if not base:
        raise EditError("Geef de vraag een naam van letters of cijfers, bijvoorbeeld 'parkeren'.")
    intent = FAQ_PREFIX + base
    if len(intent) > MAX_LABEL_LENGTH:
        raise EditError(
            f"De naam mag hoogstens {MAX_LABEL_LENGTH - len(FAQ_PREFIX)} tekens hebben."
        )
    if session.get(Intent, intent) or session.get(BotText, ("faq", intent)):
        raise EditError(f"Er is al een intentie {intent}; kies een andere naam.")
    answer = _translations(
        answer_nl, answer_en, what="het antwoord", formatted=False, before=None, key=intent
    )
    _language(language)
    if sum(1 for text in examples if text.strip()) < MIN_EXAMPLES:
        raise EditError(
            f"Geef minstens {MIN_EXAMPLES} voorbeeldzinnen, één per regel, zodat het model de "
            "vraag kan leren herkennen."
        )
    checked = _checked_lines(_ExampleCheck(session), examples)
    session.add(Intent(name=intent))
    session.add(BotText(group="faq", key=intent, nl=answer["nl"], en=answer.get("en")))
    session.flush()
    store.record(session, actor, "intent", intent, None, {"intent": intent})
    store.record(session, actor, "text", f"faq.{intent}", None, answer)
    _add_examples(session, actor, intent, language, checked)
    return intent


def delete_faq_intent(session: Session, actor: User, name: str) -> None:
    """Remove a FAQ intent with its examples, its answer and its button label."""
    intent = _intent(session, name)
    if intent_kind(name) != "faq":
        raise EditError(
            "Alleen veelgestelde vragen (faq_…) kunnen weg; de andere intenties horen bij wat "
            "de bot doet."
        )
    for example in session.scalars(
        select(TrainingExample).where(TrainingExample.intent == name).order_by(TrainingExample.id)
    ):
        before = example_value(example)
        session.delete(example)
        store.record(session, actor, "example", example_key(before), before, None)
    texts = session.scalars(
        select(BotText).where(
            or_(
                (BotText.group == "faq") & (BotText.key == name),
                (BotText.group == "text") & (BotText.key == f"label_{name}"),
            )
        )
    )
    for text in texts:
        store.record(session, actor, "text", f"{text.group}.{text.key}", text_value(text), None)
        session.delete(text)
    session.flush()
    session.delete(intent)
    session.flush()
    store.record(session, actor, "intent", name, {"intent": name}, None)


# -- texts ----------------------------------------------------------------------------------

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


# -- needs and their questions --------------------------------------------------------------

CONTACT = "contact"  # what the pages and the audit log call the contact questions' "need"
QUESTION_KEY = re.compile(r"[a-z][a-z0-9_]{0,59}")
# Questions the app itself relies on, which can change but not go.
ESSENTIAL = {
    "neighbourhood": "de werkvoorraad filtert op wijk en de routering kijkt ernaar",
    "name": "de contactgegevens worden bij de bewoner bewaard",
    "phone": "de contactgegevens worden bij de bewoner bewaard",
    "email": "de contactgegevens worden bij de bewoner bewaard",
}
# How each validation key is entered: flag (yes/no), count (whole number >= 0), number
# (>= 0; whole for integers), question (another question's key), question_days (key + days).
VALIDATION_INPUTS = {
    "not_past": "flag",
    "max_days_ahead": "count",
    "not_before": "question",
    "max_days_after": "question_days",
    "after": "question",
    "min": "number",
    "max": "number",
    "min_length": "count",
    "max_length": "count",
    "required_without": "question",
    "open": "flag",
}
VALIDATION_LABELS = {
    "not_past": "Niet in het verleden",
    "max_days_ahead": "Hoogstens zoveel dagen vooruit",
    "not_before": "Niet vóór het antwoord op vraag",
    "max_days_after": "Hoogstens zoveel dagen na het antwoord op vraag",
    "after": "Later dan het antwoord op vraag",
    "min": "Minimaal",
    "max": "Maximaal",
    "min_length": "Minimaal aantal tekens",
    "max_length": "Maximaal aantal tekens",
    "required_without": "Verplicht als deze vraag geen antwoord heeft",
    "open": "Ook een antwoord dat niet in de lijst staat (bewaard zoals getypt)",
}
# The answer type another question must have to be compared with.
REFERENCE_TYPES = {"not_before": "date", "max_days_after": "date", "after": "time"}


@dataclass(frozen=True)
class QuestionForm:
    """A question as the form sends it: texts as typed, validation per key as typed
    (max_days_after as `max_days_after_key` and `max_days_after_days`)."""

    label_nl: str
    label_en: str
    prompt_nl: str
    prompt_en: str
    answer_type: str
    optional: bool = False
    from_entity: str = ""
    choices: str = ""
    validation: Mapping[str, str] | None = None


def _need_questions(bundle: Bundle, need: str) -> list[dict[str, Any]]:
    if need == CONTACT:
        return bundle.contact
    if need not in bundle.needs:
        raise EditError(f"De behoefte '{need}' bestaat niet.")
    return bundle.needs[need]["questions"]


def _question_index(questions: list[dict[str, Any]], need: str, key: str) -> int:
    for index, question in enumerate(questions):
        if question["key"] == key:
            return index
    raise EditError(f"De vraag '{key}' bestaat niet (meer) bij {need}.")


def question_row(session: Session, need: str, key: str) -> QuestionDefinition:
    need_key = None if need == CONTACT else need
    row = session.scalar(
        select(QuestionDefinition).where(
            QuestionDefinition.need_key.is_(None)
            if need_key is None
            else QuestionDefinition.need_key == need_key,
            QuestionDefinition.key == key,
        )
    )
    if row is None:
        raise EditError(f"De vraag '{key}' bestaat niet (meer) bij {need}.")
    return row


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


def _validation(answer_type: str, raw: Mapping[str, str]) -> dict[str, Any]:
    """The validation of a question from its form fields, typed the way the validators
    read it; empty fields are left out."""
    rules: dict[str, Any] = {}
    for key in sorted(VALIDATION_KEYS[answer_type]):
        label = VALIDATION_LABELS[key]
        match VALIDATION_INPUTS[key]:
            case "flag":
                if raw.get(key) in ("1", "on", "true"):
                    rules[key] = True
            case "count" if raw.get(key, "").strip():
                rules[key] = _count(raw[key], label)
            case "number" if raw.get(key, "").strip():
                rules[key] = _number(raw[key], label, whole=answer_type != "amount")
            case "question" if raw.get(key, "").strip():
                rules[key] = raw[key].strip()
            case "question_days":
                other, days = raw.get(f"{key}_key", "").strip(), raw.get(f"{key}_days", "")
                if other or days.strip():
                    if not other or not days.strip():
                        raise EditError(f"{label}: vul zowel de vraag als het aantal dagen in.")
                    rules[key] = {"key": other, "days": _count(days, label)}
    for low, high in (("min", "max"), ("min_length", "max_length")):
        if low in rules and high in rules and rules[low] > rules[high]:
            raise EditError(
                f"Het minimum ({rules[low]}) is groter dan het maximum ({rules[high]})."
            )
    return rules


def _choices(text: str) -> list[dict[str, Any]]:
    """'Centrum: centrum-oost, binnenstad' per line -> [{value, synonyms}]."""
    choices: list[dict[str, Any]] = []
    seen: set[str] = set()
    for line in _lines(text).split("\n"):
        if not line.strip():
            continue
        value, _, synonyms = line.partition(":")
        value = value.strip()
        if not value:
            raise EditError(f"Keuze '{line.strip()}': zet de keuze zelf vóór de dubbele punt.")
        if value.casefold() in seen:
            raise EditError(f"De keuze '{value}' staat er twee keer in.")
        seen.add(value.casefold())
        words = [word.strip() for word in synonyms.split(",") if word.strip()]
        choices.append({"value": value, **({"synonyms": words} if words else {})})
    return choices


def question_from_form(key: str, form: QuestionForm, entity_index: int = 0) -> dict[str, Any]:
    """A question's plain form from what the admin typed, or EditError."""
    if not QUESTION_KEY.fullmatch(key):
        raise EditError(
            "De sleutel bestaat uit kleine letters, cijfers en _, en begint met een letter "
            "(bijvoorbeeld aantal_tafels)."
        )
    if form.answer_type not in ANSWER_TYPES:
        raise EditError("Kies een soort antwoord.")
    if form.from_entity and form.from_entity not in (*ENTITIES, *APP_ENTITIES):
        raise EditError(f"Onbekende entiteit '{form.from_entity}'.")
    label = _translations(
        form.label_nl,
        form.label_en,
        what="het label",
        formatted=False,
        before=None,
        key=key,
        max_length=MAX_LABEL_LENGTH,
    )
    prompt = _translations(
        form.prompt_nl, form.prompt_en, what="de vraag", formatted=False, before=None, key=key
    )
    plain: dict[str, Any] = {
        "key": key,
        "label": label,
        "prompt": prompt,
        "type": form.answer_type,
        "optional": form.optional,
        "validation": _validation(form.answer_type, form.validation or {}),
        "from_entity": form.from_entity or None,
        "entity_index": entity_index if form.from_entity else 0,
    }
    if form.answer_type == "choice":
        plain["choices"] = _choices(form.choices)
        if len(plain["choices"]) < 2:
            raise EditError("Een keuzevraag heeft minstens twee keuzes, één per regel.")
    try:
        return question_to_dict(question_from_dict(plain, key))
    except KnowledgeError as error:
        raise EditError(f"De bot kan deze vraag niet gebruiken: {error}") from None


def _all_questions(bundle: Bundle) -> list[tuple[str, dict[str, Any]]]:
    return [
        *((need, q) for need, data in bundle.needs.items() for q in data["questions"]),
        *((CONTACT, q) for q in bundle.contact),
    ]


def _check_bundle(bundle: Bundle) -> None:
    """Nothing is saved that the bot could not run on: a question compares with a question
    asked with it (of its own need or the contact questions) of the right type, shared keys
    agree, and the whole knowledge builds."""
    questions = _all_questions(bundle)
    contact = {q["key"]: q["type"] for q in bundle.contact}
    for need, question in questions:
        types = {**{q["key"]: q["type"] for q in _need_questions(bundle, need)}, **contact}
        for rule, value in (question.get("validation") or {}).items():
            other = value["key"] if isinstance(value, dict) else value
            if rule not in REFERENCE_TYPES and rule != "required_without":
                continue
            if other not in types:
                raise EditError(
                    f"Vraag '{question['key']}' ({need}) vergelijkt met vraag '{other}', maar die "
                    "wordt bij deze behoefte niet gesteld."
                )
            wanted = REFERENCE_TYPES.get(rule)
            if wanted and types[other] != wanted:
                raise EditError(
                    f"Vraag '{question['key']}' ({need}) vergelijkt met vraag '{other}', maar dat "
                    f"is geen vraag van het type {wanted}."
                )
    try:
        check_shared_keys([question_from_dict(q, need) for need, q in questions])
    except KnowledgeError:
        raise EditError(
            "Een vraag met dezelfde sleutel staat ook bij een andere behoefte, met een ander "
            "soort antwoord. Een gedeelde vraag wordt maar één keer gesteld, dus het soort "
            "antwoord moet overal hetzelfde zijn."
        ) from None
    try:
        bundle.knowledge()
    except KnowledgeError as error:
        raise EditError(f"De bot kan hier niet mee werken: {error}") from None


def _write_question(row: QuestionDefinition, plain: Mapping[str, Any]) -> None:
    fresh = store.question_row(row.need_key, row.position, dict(plain))
    for field in (
        "label",
        "prompt",
        "type",
        "optional",
        "validation",
        "choices",
        "from_entity",
        "entity_index",
    ):
        setattr(row, field, getattr(fresh, field))


def save_question(
    session: Session, actor: User, need: str, key: str | None, plain: dict[str, Any]
) -> None:
    """Add a question to a need (key None; `plain["key"]` is the new key) or change one.
    A choice question's choices apply to every need that asks the same key."""
    bundle = store.read(session, training_data=False)
    questions = _need_questions(bundle, need)
    if key is None:
        key = plain["key"]
        if any(q["key"] == key for q in questions):
            raise EditError(f"Er is bij {need} al een vraag '{key}'.")
        before = None
        questions.append(plain)
    else:
        index = _question_index(questions, need, key)
        before = questions[index]
        plain = {**plain, "key": key}
        questions[index] = plain
    shared = [
        (other_need, question)
        for other_need, question in _all_questions(bundle)
        if question["key"] == key and other_need != need and plain["type"] == "choice"
    ]
    for _, question in shared:
        if question["type"] == "choice":
            question["choices"] = plain["choices"]
    _check_bundle(bundle)
    if plain == before:
        return
    if before is None:
        rows = session.scalars(select(QuestionDefinition.position).where(_of_need(need))).all()
        session.add(
            store.question_row(None if need == CONTACT else need, max(rows, default=-1) + 1, plain)
        )
    else:
        _write_question(question_row(session, need, key), plain)
    session.flush()
    store.record(session, actor, "question", f"{need}.{key}", before, plain)
    for other_need, question in shared:
        row = question_row(session, other_need, key)
        if row.choices != question.get("choices"):
            old = {"choices": row.choices}
            row.choices = list(question["choices"])
            session.flush()
            store.record(
                session, actor, "question", f"{other_need}.{key}", old, {"choices": row.choices}
            )


def _of_need(need: str) -> Any:
    if need == CONTACT:
        return QuestionDefinition.need_key.is_(None)
    return QuestionDefinition.need_key == need


def edit_prompt(session: Session, actor: User, need: str, key: str, *, nl: str, en: str) -> None:
    """Change only the wording of a question (the texts page)."""
    bundle = store.read(session, training_data=False)
    questions = _need_questions(bundle, need)
    question = dict(questions[_question_index(questions, need, key)])
    question["prompt"] = _translations(
        nl, en, what="de vraag", formatted=False, before=None, key=key
    )
    save_question(session, actor, need, key, question)


def delete_question(session: Session, actor: User, need: str, key: str) -> None:
    bundle = store.read(session, training_data=False)
    questions = _need_questions(bundle, need)
    before = questions.pop(_question_index(questions, need, key))
    if key in ESSENTIAL and not any(q["key"] == key for _, q in _all_questions(bundle)):
        raise EditError(f"De vraag '{key}' kan niet weg: {ESSENTIAL[key]}. Pas hem aan.")
    _check_bundle(bundle)
    session.delete(question_row(session, need, key))
    session.flush()
    store.record(session, actor, "question", f"{need}.{key}", before, None)


def move_question(session: Session, actor: User, need: str, key: str, direction: str) -> None:
    """One place up or down in the order the bot asks."""
    step = _direction(direction)
    rows = list(
        session.scalars(
            select(QuestionDefinition)
            .where(_of_need(need))
            .order_by(QuestionDefinition.position, QuestionDefinition.id)
        )
    )
    keys = [row.key for row in rows]
    if key not in keys:
        raise EditError(f"De vraag '{key}' bestaat niet (meer) bij {need}.")
    index = keys.index(key)
    if not 0 <= index + step < len(rows):
        raise EditError("Deze vraag staat al " + ("bovenaan." if step < 0 else "onderaan."))
    rows[index], rows[index + step] = rows[index + step], rows[index]
    for position, row in enumerate(rows):
        row.position = position
    session.flush()
    after = [row.key for row in rows]
    store.record(session, actor, "need", need, {"order": keys}, {"order": after}, action="moved")


def edit_need_label(session: Session, actor: User, need: str, *, nl: str, en: str) -> None:
    definition = session.get(NeedDefinition, need)
    if definition is None:
        raise EditError(f"De behoefte '{need}' bestaat niet.")
    label = _translations(
        nl, en, what="het label", formatted=False, before=None, key=need,
        max_length=MAX_LABEL_LENGTH,
    )  # fmt: skip
    before = {"label": dict(definition.label)}
    if before["label"] == label:
        return
    definition.label = label
    session.flush()
    store.record(session, actor, "need", need, before, {"label": label})


# -- departments ----------------------------------------------------------------------------

DEPARTMENT_KEY = re.compile(r"[a-z][a-z0-9_-]{1,39}")
# A municipality's own number, 14 followed by its area code: libphonenumber does not know
# every one of them.
MUNICIPAL_NUMBER = re.compile(r"14 ?0\d{2,3}")
MAX_SLA_DAYS = 90


@dataclass(frozen=True)
class DepartmentForm:
    """A department as the form sends it. An empty secret keeps the current one."""

    name: str
    sla_days: str
    email: str = ""
    phone: str = ""
    webhook_url: str = ""
    webhook_secret: str = ""
    clear_secret: bool = False
    is_fallback: bool = False


def department_value(department: Department) -> dict[str, Any]:
    """A department's plain form for the audit log: the secret itself is never written."""
    return {
        **store.department_plain(department),
        "webhook_secret": "ingesteld" if department.webhook_secret else None,
        "is_fallback": department.is_fallback,
    }


def _department(session: Session, key: str) -> Department:
    department = session.get(Department, key)
    if department is None:
        raise EditError(f"De afdeling '{key}' bestaat niet (meer).")
    return department


def _email(value: str) -> str | None:
    if not value.strip():
        return None
    try:
        return validate_email(value.strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        raise EditError(
            f"'{value.strip()}' is geen geldig e-mailadres; schrijf bijvoorbeeld "
            "vergunningen@gemeente.nl."
        ) from None


def _phone(value: str) -> str | None:
    value = " ".join(value.split())
    if not value:
        return None
    if MUNICIPAL_NUMBER.fullmatch(value):
        return value
    try:
        number = phonenumbers.parse(value, "NL")
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not (
        phonenumbers.is_valid_number(number)
        or phonenumbers.is_valid_short_number_for_region(number, "NL")
    ):
        raise EditError(
            f"'{value}' is geen geldig telefoonnummer; schrijf bijvoorbeeld 020 123 4567 of 14 020."
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def _webhook_url(value: str) -> str | None:
    value = value.strip()
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(value) > 500:
        raise EditError(
            "Het webhookadres moet beginnen met https:// (of http://) en een servernaam hebben, "
            "bijvoorbeeld https://zaaksysteem.gemeente.nl/wegwijs."
        )
    return value


def _sla_days(value: str) -> int:
    try:
        days = int(value.strip())
    except ValueError:
        days = 0
    if not 1 <= days <= MAX_SLA_DAYS:
        raise EditError(f"De termijn is een heel aantal werkdagen van 1 tot en met {MAX_SLA_DAYS}.")
    return days


def save_department(
    session: Session, actor: User, key: str, form: DepartmentForm, *, create: bool
) -> Department:
    """Create a department (its key is fixed from then on) or change one. Exactly one
    department is the fallback: making another one the fallback takes it from the old."""
    if create:
        key = key.strip()
        if not DEPARTMENT_KEY.fullmatch(key):
            raise EditError(
                "De sleutel is 2 tot 40 kleine letters, cijfers, - of _, en begint met een letter "
                "(bijvoorbeeld evenementen)."
            )
        if session.get(Department, key):
            raise EditError(f"Er is al een afdeling '{key}'.")
        department = Department(key=key, is_fallback=False)
        before = None
    else:
        department = _department(session, key)
        before = department_value(department)
    name = _required(form.name, "De naam", MAX_LABEL_LENGTH)
    sla_days = _sla_days(form.sla_days)
    email, phone = _email(form.email), _phone(form.phone)
    webhook_url = _webhook_url(form.webhook_url)
    if len(form.webhook_secret) > 200:
        raise EditError("Het webhookgeheim mag hoogstens 200 tekens hebben.")
    if department.is_fallback and not form.is_fallback:
        raise EditError(
            "Er is altijd precies één terugvalafdeling. Maak eerst een andere afdeling de "
            "terugvalafdeling."
        )
    department.name, department.sla_days = name, sla_days
    department.contact_email, department.contact_phone = email, phone
    department.webhook_url = webhook_url
    secret_replaced = bool(form.webhook_secret.strip()) and bool(department.webhook_secret)
    if form.clear_secret:
        department.webhook_secret = None
    elif form.webhook_secret.strip():
        department.webhook_secret = form.webhook_secret.strip()
    session.add(department)
    if form.is_fallback and not department.is_fallback:
        for other in session.scalars(select(Department).where(Department.is_fallback)):
            old = department_value(other)
            other.is_fallback = False
            session.flush()
            store.record(session, actor, "department", other.key, old, department_value(other))
        department.is_fallback = True
    session.flush()
    after = department_value(department)
    if secret_replaced and not form.clear_secret:
        after["webhook_secret"] = "vervangen"
    if after != before:
        store.record(session, actor, "department", key, before, after)
    return department


def members(session: Session, key: str) -> list[str]:
    return list(
        session.scalars(
            select(User.username)
            .join(UserDepartment, UserDepartment.user_id == User.id)
            .where(UserDepartment.department_key == key)
            .order_by(User.username)
        )
    )


def _user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username.strip()))
    if user is None:
        raise EditError(f"Er is geen gebruiker '{username.strip()}'.")
    return user


def add_member(session: Session, actor: User, key: str, username: str) -> User:
    """Make a user a member of a department: they see and handle its requests."""
    _department(session, key)
    user = _user(session, username)
    before = members(session, key)
    if user.username in before:
        raise EditError(f"{user.full_name} is al lid van deze afdeling.")
    session.add(UserDepartment(user_id=user.id, department_key=key))
    session.flush()
    store.record(
        session, actor, "department", key, {"members": before}, {"members": members(session, key)}
    )
    return user


def remove_member(session: Session, actor: User, key: str, username: str) -> User:
    _department(session, key)
    user = _user(session, username)
    link = session.get(UserDepartment, (user.id, key))
    if link is None:
        raise EditError(f"{user.full_name} is geen lid van deze afdeling.")
    before = members(session, key)
    session.delete(link)
    session.flush()
    store.record(
        session, actor, "department", key, {"members": before}, {"members": members(session, key)}
    )
    return user


def delete_department(session: Session, actor: User, key: str) -> None:
    """Only a department nothing points at can go: no requests, members, rules or
    deliveries, and not the fallback."""
    department = _department(session, key)
    if department.is_fallback:
        raise EditError(
            "De terugvalafdeling kan niet weg. Maak eerst een andere afdeling de terugvalafdeling."
        )
    requests = session.scalar(
        select(func.count(func.distinct(Request.id)))
        .select_from(Request)
        .outerjoin(RequestPart, RequestPart.request_id == Request.id)
        .where(or_(Request.department_key == key, RequestPart.department_key == key))
    )
    if requests:
        counted = "is nog 1 aanvraag" if requests == 1 else f"zijn nog {requests} aanvragen"
        raise EditError(f"Er {counted} van deze afdeling; die blijven bij haar.")
    if members(session, key):
        raise EditError("Er zijn nog medewerkers lid van deze afdeling; haal ze er eerst af.")
    rules = list(session.scalars(select(RoutingRule.name).where(RoutingRule.department_key == key)))
    if rules:
        raise EditError(
            f"De routeringsregel(s) {', '.join(repr(r) for r in rules)} sturen nog naar deze "
            "afdeling; pas ze eerst aan."
        )
    if session.scalar(select(OutboxMessage.id).where(OutboxMessage.department_key == key).limit(1)):
        raise EditError("Er staan nog webhookberichten voor deze afdeling in de wachtrij.")
    before = department_value(department)
    session.delete(department)
    session.flush()
    store.record(session, actor, "department", key, before, None)


# -- routing rules --------------------------------------------------------------------------


def rule_value(rule: RoutingRule) -> dict[str, Any]:
    """A rule's plain form, as in knowledge/routing.yml."""
    return {"name": rule.name, "when": dict(rule.conditions), "department": rule.department_key}


def neighbourhoods(session: Session) -> list[str]:
    """The neighbourhoods residents choose from: the choices of the neighbourhood question."""
    found: list[str] = []
    for choices in session.scalars(
        select(QuestionDefinition.choices).where(QuestionDefinition.key == "neighbourhood")
    ):
        found.extend(c["value"] for c in choices if c["value"] not in found)
    return found


@dataclass(frozen=True)
class ConditionsForm:
    """A rule's conditions as the form sends them; empty fields are no condition."""

    needs: Sequence[str] = ()
    min_needs: str = ""
    neighbourhoods: Sequence[str] = ()
    amount_min: str = ""
    amount_max: str = ""
    visitors_min: str = ""
    visitors_max: str = ""


CONDITION_LABELS = {
    "min_needs": "Minimaal aantal behoeften",
    "amount_min": "Bedrag vanaf",
    "amount_max": "Bedrag tot en met",
    "visitors_min": "Bezoekers vanaf",
    "visitors_max": "Bezoekers tot en met",
}


def conditions_from_form(form: ConditionsForm) -> dict[str, Any]:
    conditions: dict[str, Any] = {}
    if form.needs:
        conditions["needs"] = list(form.needs)
    if form.neighbourhoods:
        conditions["neighbourhoods"] = list(form.neighbourhoods)
    for key in ("min_needs", "amount_min", "amount_max", "visitors_min", "visitors_max"):
        value = getattr(form, key)
        if value.strip():
            whole = not key.startswith("amount")
            conditions[key] = _number(value, CONDITION_LABELS[key], whole=whole)
    return conditions


def check_rule_conditions(session: Session, conditions: Mapping[str, Any]) -> dict[str, Any]:
    """The conditions of a rule if route() can evaluate them: known keys, known needs and
    neighbourhoods, numbers of 0 or more, and no minimum above its maximum."""
    try:
        check_conditions(dict(conditions))
    except ValueError:
        unknown = sorted(set(conditions) - CONDITION_KEYS)
        raise EditError(f"Onbekende voorwaarde(n): {', '.join(unknown)}.") from None
    checked: dict[str, Any] = {}
    if "needs" in conditions:
        needs = list(conditions["needs"] or [])
        if not needs or not set(needs) <= set(NEED_ORDER):
            raise EditError(f"Behoeften zijn er uit: {', '.join(NEED_ORDER)}.")
        checked["needs"] = sorted(set(needs), key=NEED_ORDER.index)
    if "neighbourhoods" in conditions:
        chosen = list(conditions["neighbourhoods"] or [])
        known = neighbourhoods(session)
        if not chosen or set(chosen) - set(known):
            raise EditError(f"Wijken zijn er uit: {', '.join(known)}.")
        checked["neighbourhoods"] = [n for n in known if n in chosen]
    for key in ("min_needs", "amount_min", "amount_max", "visitors_min", "visitors_max"):
        if conditions.get(key) is None:
            continue
        value = conditions[key]
        whole = not key.startswith("amount")
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
            raise EditError(f"{CONDITION_LABELS[key]}: vul een getal in.")
        checked[key] = _number(str(value), CONDITION_LABELS[key], whole=whole)
    for low, high in (("amount_min", "amount_max"), ("visitors_min", "visitors_max")):
        if low in checked and high in checked and checked[low] > checked[high]:
            raise EditError(
                f"{CONDITION_LABELS[low]} ({checked[low]}) is groter dan "
                f"{CONDITION_LABELS[high].lower()} ({checked[high]})."
            )
    return checked


def _rules(session: Session) -> list[RoutingRule]:
    return list(session.scalars(select(RoutingRule).order_by(RoutingRule.position, RoutingRule.id)))


def _rule(session: Session, rule_id: int) -> RoutingRule:
    rule = session.get(RoutingRule, rule_id)
    if rule is None:
        raise EditError("Deze routeringsregel bestaat niet (meer).")
    return rule


def _checked_rule(
    session: Session, name: str, conditions: Mapping[str, Any], department: str
) -> dict[str, Any]:
    if session.get(Department, department) is None:
        raise EditError("Kies een afdeling die bestaat.")
    return {
        "name": _required(name, "De naam van de regel", MAX_LABEL_LENGTH),
        "when": check_rule_conditions(session, conditions),
        "department": department,
    }


def _renumber(session: Session, rules: list[RoutingRule]) -> None:
    for position, rule in enumerate(rules):
        rule.position = position
    session.flush()


def save_rule(
    session: Session,
    actor: User,
    rule_id: int | None,
    *,
    name: str,
    conditions: Mapping[str, Any],
    department: str,
    before_rule: int | None = None,
) -> RoutingRule:
    """Create a rule (at the end, or just above rule `before_rule`) or change one. Routing
    reads the rules on every request, so the next request already follows it."""
    value = _checked_rule(session, name, conditions, department)
    rules = _rules(session)
    if rule_id is None:
        rule = RoutingRule(
            name=value["name"], conditions=value["when"], department_key=department, position=0
        )
        session.add(rule)
        index = next((i for i, r in enumerate(rules) if r.id == before_rule), len(rules))
        rules.insert(index, rule)
        _renumber(session, rules)
        store.record(session, actor, "rule", value["name"], None, {**value, "position": index + 1})
        return rule
    rule = _rule(session, rule_id)
    before = rule_value(rule)
    if before == value:
        return rule
    rule.name, rule.conditions, rule.department_key = value["name"], value["when"], department
    session.flush()
    store.record(session, actor, "rule", value["name"], before, value)
    return rule


def delete_rule(session: Session, actor: User, rule_id: int) -> None:
    rule = _rule(session, rule_id)
    before = rule_value(rule)
    session.delete(rule)
    session.flush()
    _renumber(session, _rules(session))
    store.record(session, actor, "rule", before["name"], before, None)


def move_rule(session: Session, actor: User, rule_id: int, direction: str) -> None:
    """One place up or down: the first matching rule decides."""
    step = _direction(direction)
    rules = _rules(session)
    index = next((i for i, r in enumerate(rules) if r.id == rule_id), None)
    if index is None:
        raise EditError("Deze routeringsregel bestaat niet (meer).")
    if not 0 <= index + step < len(rules):
        raise EditError("Deze regel staat al " + ("bovenaan." if step < 0 else "onderaan."))
    before = [r.name for r in rules]
    rules[index], rules[index + step] = rules[index + step], rules[index]
    _renumber(session, rules)
    store.record(
        session, actor, "routing", "volgorde", {"order": before},
        {"order": [r.name for r in rules]}, action="moved",
    )  # fmt: skip


def replace_rules(
    session: Session, actor: User, rules: Sequence[Mapping[str, Any]]
) -> list[RoutingRule]:
    """Replace all rules by this ordered list (name, when, department); all are checked
    before anything changes."""
    values = []
    for number, raw in enumerate(rules, 1):
        try:
            values.append(
                _checked_rule(
                    session, raw.get("name", ""), raw.get("when") or {}, raw.get("department", "")
                )
            )
        except EditError as problem:
            raise EditError(f"Regel {number}: {problem}") from None
    old = _rules(session)
    before = [rule_value(rule) for rule in old]
    if before == values:
        return old
    for rule in old:
        session.delete(rule)
    session.flush()
    new = [
        RoutingRule(
            position=i, name=v["name"], conditions=v["when"], department_key=v["department"]
        )
        for i, v in enumerate(values)
    ]
    session.add_all(new)
    session.flush()
    store.record(session, actor, "routing", "routing", {"rules": before}, {"rules": values})
    return new

"""Changes to the needs' follow-up questions and their labels: a question is checked
against the whole knowledge before it is saved, so the bot can always ask it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.contact import CONTACT_FIELDS
from bot.knowledge import (
    ANSWER_TYPES,
    KnowledgeError,
    check_shared_keys,
    question_from_dict,
    question_to_dict,
    store,
)
from bot.knowledge.bundle import APP_ENTITIES, ENTITIES, Bundle
from bot.knowledge.editing.common import (
    MAX_LABEL_LENGTH,
    EditError,
    _count,
    _direction,
    _lines,
    _number,
)
from bot.knowledge.editing.texts import _translations
from bot.knowledge.validation import VALIDATION_RULES, rules_for
from bot.storage.knowledge_tables import NeedDefinition, QuestionDefinition
from bot.storage.models import User

CONTACT = "contact"  # what the pages and the audit log call the contact questions' "need"
QUESTION_KEY = re.compile(r"[a-z][a-z0-9_]{0,59}")
# Questions the app itself relies on, which can change but not go.
ESSENTIAL = {
    "neighbourhood": "de werkvoorraad filtert op wijk en de routering kijkt ernaar",
    **{field: "de contactgegevens worden bij de bewoner bewaard" for field in CONTACT_FIELDS},
}


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


def _validation(answer_type: str, raw: Mapping[str, str]) -> dict[str, Any]:
    """The validation of a question from its form fields, typed the way the validators
    read it; empty fields are left out."""
    rules: dict[str, Any] = {}
    for rule in rules_for(answer_type):
        key, label = rule.key, rule.label
        match rule.entered_as:
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
        for name, value in (question.get("validation") or {}).items():
            other = value["key"] if isinstance(value, dict) else value
            rule = VALIDATION_RULES.get(name)
            if rule is None or not rule.refers_to_question:
                continue
            if other not in types:
                raise EditError(
                    f"Vraag '{question['key']}' ({need}) vergelijkt met vraag '{other}', maar die "
                    "wordt bij deze behoefte niet gesteld."
                )
            wanted = rule.reference_type
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

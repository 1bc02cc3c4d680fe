"""Fills questions in advance from the details in a message, so nothing is asked twice."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from bot.dialogue.validators import Invalid, match_choice, validate
from bot.knowledge import Question
from bot.nlu.interpretation import Entity


def _items_text(entities: list[Entity]) -> str | None:
    """ "20 dranghekken, 4 tafels": each item with the quantity typed just before it."""
    parts: list[str] = []
    last_quantity: Entity | None = None
    for entity in entities:
        if entity.name == "quantity":
            last_quantity = entity
        elif entity.name == "item":
            quantity = last_quantity.text if last_quantity else None
            parts.append(f"{quantity} {entity.value}" if quantity else entity.value)
            last_quantity = None
    return ", ".join(parts) or None


def fill_from_entities(
    questions: list[Question],
    entities: list[Entity],
    answers: dict[str, Any],
    today: date,
    text: str | None = None,
) -> tuple[dict[str, Any], dict[str, Invalid]]:
    """Values for the still-open questions that the entities answer, and the problems with
    entities that looked like an answer but were not valid (such as a date in the past).
    A choice question is also answered when `text` names one of its options."""
    by_name: dict[str, list[Entity]] = defaultdict(list)
    for entity in entities:
        by_name[entity.name].append(entity)
    filled: dict[str, Any] = {}
    problems: dict[str, Invalid] = {}
    for question in questions:
        if question.key in answers or question.key in filled:
            continue
        if question.type == "choice" and text and not by_name.get(question.from_entity or ""):
            if (choice := match_choice(question, text)) is not None:
                filled[question.key] = choice
            continue
        if not question.from_entity:
            continue
        if question.from_entity == "item":
            raw = _items_text(entities)
        else:
            found = by_name.get(question.from_entity, [])
            raw = found[question.entity_index].value if question.entity_index < len(found) else None
        if raw is None:
            continue
        try:
            filled[question.key] = validate(question, raw, {**answers, **filled}, today)
        except Invalid as problem:
            problems[question.key] = problem
    return filled, problems

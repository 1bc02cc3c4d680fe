"""Details that fixed patterns find reliably (clock times, euro amounts, "40 mensen", dates).

They back up the model: the bot keeps understanding these when Rasa is down, and they fill
in an entity type the model missed. Where the model found an entity type, its spans win.
"""

from __future__ import annotations

from bot.nlu.dates import find_date_phrases
from bot.nlu.interpretation import Entity
from bot.nlu.values import find_amounts, find_people, find_times


def pattern_entities(text: str) -> list[Entity]:
    found: list[Entity] = []
    for value, (start, end) in find_times(text):
        # The value as read in context: in "van 8 tot 11 's avonds" the 8 is 20:00, which
        # the span "8" on its own would no longer say.
        found.append(Entity("time", value.strftime("%H:%M"), text[start:end], start, end))
    for value, (start, end) in find_amounts(text):
        found.append(Entity("amount", value, text[start:end], start, end))
    for value, (start, end) in find_people(text):
        found.append(Entity("people", value, value, start, end))
    for start, end in find_date_phrases(text):
        found.append(Entity("date", text[start:end], text[start:end], start, end))
    return found


def merge_entities(model: tuple[Entity, ...] | list[Entity], text: str) -> list[Entity]:
    """The model's entities plus pattern entities of the types the model did not find."""
    model_types = {entity.name for entity in model}
    extra = [e for e in pattern_entities(text) if e.name not in model_types]
    return sorted([*model, *extra], key=lambda entity: entity.start)

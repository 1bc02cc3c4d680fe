"""Settling which needs a message really asks for.

The model reads combinations too eagerly: a plain request to borrow something mentions a
street party, and comes back as tools+permit. A combination therefore keeps only the needs
the text gives evidence for: a word of the need's vocabulary (the lookup table named after
the need) or an entity that only that need asks for (an item for tools, an amount for a
budget). A single need, or a combination where every need has evidence, stays as it is.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from bot.nlu.cues import mentions
from bot.nlu.interpretation import MULTI_INTENT_SEPARATOR, Interpretation

if TYPE_CHECKING:
    from bot.knowledge import Knowledge


def settle_needs(interpretation: Interpretation, knowledge: Knowledge) -> Interpretation:
    """The interpretation with only the evidenced needs of a combination (the model's own
    reading kept in `model_intent`)."""
    intent_of = {need.key: need.intent for need in knowledge.needs.values()}
    need_of = {intent: key for key, intent in intent_of.items()}
    parts = interpretation.intents
    needs = [need_of[part] for part in parts if part in need_of]
    if len(needs) < 2 or len(needs) != len(parts):
        return interpretation
    by_entity = knowledge.evidence_entities()
    found = {by_entity[e.name] for e in interpretation.entities if e.name in by_entity}
    kept = [
        need
        for need in needs
        if need in found or mentions(interpretation.text, knowledge.cues.get(need, ()))
    ]
    if not kept or len(kept) == len(needs):
        return interpretation
    return replace(
        interpretation,
        intent=MULTI_INTENT_SEPARATOR.join(intent_of[need] for need in kept),
        model_intent=interpretation.intent,
    )

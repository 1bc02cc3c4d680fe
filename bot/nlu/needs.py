"""Settling which needs a message really asks for.

The model reads combinations too eagerly (a plain request to borrow something mentions a
street party, and comes back as tools+permit), and where a message does hold two needs it
often cannot choose between the combination and one of its parts. The text settles both:
a need counts as evidenced by a word of its vocabulary (the lookup table named after the
need), or by an entity only that need asks for (an item for tools, an amount for a budget),
found by the model or as a word of that entity's lookup table.

- A combination keeps only its evidenced needs (all of them when none is evidenced).
- A fallback between two readings of which one holds the other (room, or room+tools) takes
  the larger one when its extra needs are evidenced, and the smaller one otherwise.

What was left out stays in `model_intent`, so the dialogue can offer it instead of adding it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from bot.nlu.cues import mentions
from bot.nlu.interpretation import FALLBACK_INTENT, MULTI_INTENT_SEPARATOR, Interpretation

if TYPE_CHECKING:
    from bot.knowledge import Knowledge


def settle_needs(interpretation: Interpretation, knowledge: Knowledge) -> Interpretation:
    """The interpretation with the needs the text gives evidence for."""
    if not interpretation.is_fallback and MULTI_INTENT_SEPARATOR not in interpretation.intent:
        return interpretation  # one intent: nothing to settle, and no vocabulary to build
    reading = _Reading(interpretation, knowledge)
    if interpretation.is_fallback:
        return reading.choose_between_nested()
    return reading.drop_unevidenced()


def is_evidenced(need: str, interpretation: Interpretation, knowledge: Knowledge) -> bool:
    """Whether the text gives evidence for the need: a word of its vocabulary, or an
    entity only that need asks for."""
    return _Reading(interpretation, knowledge).evidenced(need)


class _Reading:
    def __init__(self, interpretation: Interpretation, knowledge: Knowledge) -> None:
        self.interpretation = interpretation
        self.intent_of = {need.key: need.intent for need in knowledge.needs.values()}
        self.need_of = {intent: key for key, intent in self.intent_of.items()}
        by_entity = knowledge.evidence_entities()
        self.found = {by_entity[e.name] for e in interpretation.entities if e.name in by_entity}
        self.vocabulary = {need: list(knowledge.cues.get(need, ())) for need in self.intent_of}
        for entity, need in by_entity.items():
            self.vocabulary[need].extend(knowledge.cues.get(entity, ()))

    def needs(self, label: str) -> list[str] | None:
        """The needs of a label, or None when it is not made of needs only."""
        parts = label.split(MULTI_INTENT_SEPARATOR)
        needs = [self.need_of[part] for part in parts if part in self.need_of]
        return needs if needs and len(needs) == len(parts) else None

    def evidenced(self, need: str) -> bool:
        return need in self.found or bool(mentions(self.interpretation.text, self.vocabulary[need]))

    def label(self, needs: list[str]) -> str:
        return MULTI_INTENT_SEPARATOR.join(self.intent_of[need] for need in needs)

    def drop_unevidenced(self) -> Interpretation:
        needs = self.needs(self.interpretation.intent)
        if needs is None or len(needs) < 2:
            return self.interpretation
        kept = [need for need in needs if self.evidenced(need)]
        if not kept or len(kept) == len(needs):
            return self.interpretation
        return replace(
            self.interpretation,
            intent=self.label(kept),
            model_intent=self.interpretation.intent,
        )

    def choose_between_nested(self) -> Interpretation:
        ranked = [(i, c) for i, c in self.interpretation.ranking if i != FALLBACK_INTENT][:2]
        if len(ranked) < 2:
            return self.interpretation
        first, second = (self.needs(intent) for intent, _ in ranked)
        if first is None or second is None or len(first) == len(second):
            return self.interpretation
        small, big = sorted((first, second), key=len)
        if not set(small) < set(big):
            return self.interpretation
        extra = [need for need in big if need not in small]
        chosen = big if all(self.evidenced(need) for need in extra) else small
        confidence = dict(ranked)[self.label(chosen)]
        return replace(
            self.interpretation,
            intent=self.label(chosen),
            confidence=confidence,
            model_intent=self.label(big),
        )

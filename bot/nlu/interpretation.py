"""What the NLU model made of one message, independent of Rasa's JSON shape."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

FALLBACK_INTENT = "nlu_fallback"
MULTI_INTENT_SEPARATOR = "+"


@dataclass(frozen=True)
class Entity:
    """One detail found in the text; `value` is canonical (synonyms mapped), `text` as typed."""

    name: str
    value: str
    text: str
    start: int
    end: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Entity:
        return cls(**raw)


@dataclass(frozen=True)
class Interpretation:
    text: str
    intent: str
    confidence: float
    ranking: tuple[tuple[str, float], ...]
    entities: tuple[Entity, ...]
    # What the model said, when the app settled on another reading (bot.nlu.needs).
    model_intent: str | None = None

    @property
    def intents(self) -> list[str]:
        """A multi-intent such as `request_room+request_budget` as its parts."""
        return self.intent.split(MULTI_INTENT_SEPARATOR)

    @property
    def is_fallback(self) -> bool:
        return self.intent == FALLBACK_INTENT

    @classmethod
    def from_rasa(cls, payload: dict[str, Any]) -> Interpretation:
        text = payload.get("text", "")
        intent = payload.get("intent") or {}
        entities = []
        for raw in payload.get("entities", []):
            start, end = int(raw.get("start", 0)), int(raw.get("end", 0))
            entities.append(
                Entity(
                    name=raw["entity"],
                    value=str(raw.get("value", text[start:end])),
                    text=text[start:end],
                    start=start,
                    end=end,
                )
            )
        return cls(
            text=text,
            intent=intent.get("name") or FALLBACK_INTENT,
            confidence=float(intent.get("confidence") or 0.0),
            ranking=tuple(
                (r["name"], float(r["confidence"])) for r in payload.get("intent_ranking", [])
            ),
            entities=tuple(sorted(entities, key=lambda e: e.start)),
        )

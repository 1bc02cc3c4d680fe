"""A stand-in for the Rasa client in tests of the conversation service: each text gets the
reading the test wrote for it, in the shape Rasa's /model/parse answers. The real Rasa server
is used in tests/integration and tests/e2e."""

from __future__ import annotations

from bot.nlu.interpretation import Interpretation


def rasa(text: str, *ranking: tuple[str, float], fallback: bool = False) -> Interpretation:
    """What Rasa's /model/parse answers, as the client reads it. With `fallback`, the
    FallbackClassifier put nlu_fallback (at its threshold) on top of the ranking."""
    intents = [{"name": name, "confidence": score} for name, score in ranking]
    if fallback:
        intents.insert(0, {"name": "nlu_fallback", "confidence": 0.4})
    return Interpretation.from_rasa(
        {"text": text, "intent": intents[0], "intent_ranking": intents, "entities": []}
    )


class ScriptedNLU:
    """Answers each text with the interpretation the test gave for it."""

    def __init__(self) -> None:
        self.answers: dict[str, Interpretation] = {}

    async def parse(self, text: str) -> Interpretation:
        return self.answers[text]

"""What Wegwijs makes of one message on its own, as `wegwijs interpret` and POST /api/interpret
show it: the same NLU, entity patterns and slot validation the dialogue uses, without a
conversation around it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.dialogue.slots import fill_from_entities
from bot.knowledge import Knowledge
from bot.nlu.client import RasaClient
from bot.nlu.language import choose_language
from bot.nlu.needs import settle_needs
from bot.nlu.patterns import merge_entities


@dataclass(frozen=True)
class Understanding:
    intent: str
    confidence: float
    needs: list[str]
    slots: dict[str, Any]
    language: str


async def understand(
    nlu: RasaClient, knowledge: Knowledge, text: str, today: date, default_language: str = "nl"
) -> Understanding:
    """Interpret `text` as a first message. Raises NLUUnavailable when Rasa is down. Without a
    recognised need, every need's questions are tried, so details still show."""
    result = settle_needs(await nlu.parse(text), knowledge)
    needs = [n for n in map(knowledge.need_for_intent, result.intents) if n]
    questions = knowledge.questions_for(needs or list(knowledge.needs))
    slots, _ = fill_from_entities(questions, merge_entities(result.entities, text), {}, today)
    return Understanding(
        intent=result.intent,
        confidence=round(result.confidence, 4),
        needs=needs,
        slots=slots,
        language=choose_language(text, current=None, telegram_code=None, default=default_language),
    )

"""Settling the needs of a message: vocabulary matching the way residents type, and a
combination that keeps only the needs the text gives evidence for."""

from __future__ import annotations

import pytest

from bot.knowledge import Knowledge
from bot.nlu.cues import mentions, words
from bot.nlu.interpretation import Entity, Interpretation
from bot.nlu.needs import settle_needs


@pytest.mark.parametrize(
    ("text", "vocabulary", "found"),
    [
        ("Wij zoeken een ZAAL", ["zaal"], "zaal"),
        ("een zaaltje voor de bingo", ["zaal"], "zaal"),  # a Dutch suffix
        ("de buurthuiszaal is vol", ["buurthuis"], "buurthuis"),  # inside a compound
        ("kunnen we subsdie krijgen", ["subsidie"], "subsidie"),  # one typo in a long word
        ("een Café in de wijk", ["cafe"], "cafe"),  # accents folded
        ("de straat afsluiten", ["straat afsluiten"], "straat afsluiten"),  # several words
        ("de straat niet afsluiten", ["straat afsluiten"], None),
        ("we gaan samen koken", ["zaal", "lenen"], None),
        ("", ["zaal"], None),
        ("zaal", [""], None),
    ],
)
def test_vocabulary_is_found_as_residents_type_it(
    text: str, vocabulary: list[str], found: str | None
) -> None:
    assert mentions(text, vocabulary) == found


def test_words_are_lower_case_without_accents_or_punctuation() -> None:
    assert words("Hé, wij willen 20 Tafels!!") == ["he", "wij", "willen", "20", "tafels"]


def said(text: str, intent: str, *entities: tuple[str, str]) -> Interpretation:
    found = tuple(
        Entity(name, value, value, text.index(value), text.index(value) + len(value))
        for name, value in entities
    )
    return Interpretation(text, intent, 0.9, ((intent, 0.9),), found)


@pytest.fixture
def knowledge(knowledge: Knowledge) -> Knowledge:
    """The shipped needs with small vocabularies of their own."""
    cues = {
        "room": ("zaal", "buurthuis"),
        "tools": ("lenen",),
        "budget": ("subsidie", "wijkbudget"),
        "permit": ("vergunning",),
    }
    return Knowledge(**{**knowledge.__dict__, "cues": cues})


def test_a_combination_keeps_only_the_needs_with_evidence(knowledge: Knowledge) -> None:
    message = said("Mogen we tafels lenen voor het straatfeest?", "request_tools+request_permit")
    settled = settle_needs(message, knowledge)
    assert (settled.intent, settled.model_intent) == ("request_tools", message.intent)


def test_an_entity_only_one_need_asks_for_is_evidence(knowledge: Knowledge) -> None:
    message = said("20 dranghekken en €300", "request_tools+request_budget", ("amount", "€300"))
    assert knowledge.evidence_entities()["amount"] == "budget"
    assert settle_needs(message, knowledge).intent == "request_budget"  # nothing for tools
    message = said(
        "20 dranghekken en €300",
        "request_tools+request_budget",
        ("item", "dranghekken"),
        ("amount", "€300"),
    )
    assert settle_needs(message, knowledge) == message


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("een zaal en subsidie", "request_room+request_budget"),  # both said: kept
        ("iets regelen voor de buurt", "request_room+request_budget"),  # neither: the model's
        ("een zaal", "request_room"),  # a single need is never changed
        ("hoi", "greet"),
    ],
)
def test_what_stays_as_the_model_read_it(knowledge: Knowledge, text: str, intent: str) -> None:
    message = said(text, intent)
    assert settle_needs(message, knowledge) == message


def unsure(text: str, first: str, second: str, *entities: tuple[str, str]) -> Interpretation:
    """What Rasa returns when its two best readings are too close: a fallback."""
    message = said(text, "nlu_fallback", *entities)
    ranking = (("nlu_fallback", 0.4), (first, 0.46), (second, 0.41), ("greet", 0.05))
    return Interpretation(text, "nlu_fallback", 0.4, ranking, message.entities)


def test_a_fallback_between_a_need_and_its_combination_follows_the_evidence(
    knowledge: Knowledge,
) -> None:
    both = settle_needs(
        unsure("een zaal en wat subsidie", "request_room", "request_room+request_budget"), knowledge
    )
    assert (both.intent, both.confidence) == ("request_room+request_budget", 0.41)
    one = settle_needs(
        unsure("een zaal voor de buurt", "request_room+request_tools", "request_room"), knowledge
    )
    assert (one.intent, one.model_intent) == ("request_room", "request_room+request_tools")


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("request_room", "request_tools"),  # neither holds the other: the resident chooses
        ("request_room", "faq_costs"),
        ("request_room+request_tools", "request_room+request_budget"),
    ],
)
def test_other_fallbacks_stay_fallbacks(knowledge: Knowledge, first: str, second: str) -> None:
    message = unsure("een zaal en tafels lenen, wat kost dat", first, second)
    assert settle_needs(message, knowledge) == message

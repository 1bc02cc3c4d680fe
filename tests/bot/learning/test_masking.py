"""Masking personal data before a message is kept for learning: with the real deduce (its
first load in a process takes about 12 seconds), phonenumbers and the shipped knowledge."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.knowledge import Knowledge
from bot.knowledge.bundle import Bundle
from bot.learning.masking import mask, vocabulary

Masker = Callable[..., str]


@pytest.fixture(scope="module")
def masked(bundle: Bundle, knowledge: Knowledge) -> Masker:
    """mask() as the inbox calls it: the neighbourhoods kept, the training data's words."""
    keep = [
        word
        for choice in knowledge.question("neighbourhood").choices
        for word in (choice.value, *choice.synonyms)
    ]
    words = vocabulary(example.text for example in bundle.examples)

    def run(text: str, *names: str) -> str:
        return mask(text, names=names, keep=keep, ordinary_words=words)

    return run


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Ik ben Jan de Vries en ik wil een zaal in Centrum",
            "Ik ben NAAM en ik wil een zaal in Centrum",
        ),
        ("mijn naam is jan de vries en ik wil een zaal", "mijn naam is NAAM en ik wil een zaal"),
        ("Ik heet Fatima, mag ik tafels lenen?", "Ik heet NAAM, mag ik tafels lenen?"),
        (
            "Mijn naam is Fatima el Amrani, bel me op 06-12345678",
            "Mijn naam is NAAM, bel me op TELEFOONNUMMER",
        ),
        ("My name is Peter Smith and I need a hall", "My name is NAAM and I need a hall"),
        (
            "Hi, this is Mark from Zuid. Can we borrow 10 chairs?",
            "Hi, this is NAAM from Zuid. Can we borrow 10 chairs?",
        ),
        ("groetjes, Anna Bakker", "groetjes, NAAM"),
        ("Dhr. Jansen wil een zaal", "NAAM wil een zaal"),
    ],
)
def test_names_in_dutch_and_english_introductions(masked: Masker, text: str, expected: str) -> None:
    assert masked(text) == expected


def test_the_residents_own_name_wherever_it_appears(masked: Masker) -> None:
    name = "Fatima de Vries"
    assert masked("Groet van fatima de vries uit Oost", name) == "Groet van NAAM uit Oost"
    # The parts too, but not an interfix, and not a name part that is an ordinary word
    # unless it is written as a name.
    assert masked("Hoi, fatima hier", name) == "Hoi, NAAM hier"
    assert masked("de zaal is vrij", "Jan Zaal") == "de zaal is vrij"
    assert masked("groet, Jan en Zaal", "Jan Zaal") == "groet, NAAM en NAAM"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("bel me op 0612345678", "bel me op TELEFOONNUMMER"),
        ("bel 06-12345678 na vijf uur", "bel TELEFOONNUMMER na vijf uur"),
        ("mijn nummer is +31 6 1234 5678", "mijn nummer is TELEFOONNUMMER"),
        ("of (06) 1234 5678", "of TELEFOONNUMMER"),
        ("Groet, Piet (0612345678)", "Groet, NAAM (TELEFOONNUMMER)"),
        ("mail jan.devries@example.nl", "mail E-MAILADRES"),
    ],
)
def test_phone_numbers_and_email(masked: Masker, text: str, expected: str) -> None:
    assert masked(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Wij wonen op de Lindelaan 12a in Oude Haven", "Wij wonen op de ADRES in Oude Haven"),
        ("Het feest is in de Kerkstraat 5", "Het feest is in de ADRES"),
        ("Postcode 1234 AB", "Postcode ADRES"),
    ],
)
def test_street_and_house_number(masked: Masker, text: str, expected: str) -> None:
    assert masked(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "zaal voor 40 mensen op 12 december om 14:00 voor 250 euro in De Hoven",
        "Stationskwartier, Oost, Noord, West, Zuid, Vogelwijk, Bloemenbuurt",
        "in De Hoven 4 tafels, in Oude Haven 20 stoelen",
        "Stationskwartier 3 tafels en een budget van € 1.500",
        "volgende week zaterdag van 14:00 tot 17:00 in de binnenstad",
        "We want a party in June, 15 people, budget 300 euro",
        "op 12-12-2026 van 10.00 tot 16.00 uur",
        "Zaal voor 40 mensen",
        "Kost het iets?",
        "Does it cost anything?",
        "Daarnaast 20 stoelen",
    ],
)
def test_neighbourhoods_dates_times_amounts_and_counts_are_kept(masked: Masker, text: str) -> None:
    assert masked(text) == text


def test_an_address_and_a_name_beside_what_is_kept(masked: Masker) -> None:
    assert (
        masked("Anneke uit de Bloemenbuurt wil op 12 juni 3 tafels aan de Lindelaan 1")
        == "NAAM uit de Bloemenbuurt wil op 12 juni 3 tafels aan de ADRES"
    )

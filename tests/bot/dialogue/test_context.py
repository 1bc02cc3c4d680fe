"""Reading a message in the context of the open question, with the shipped vocabularies:
what changes the needs, asks for a person, corrects, skips or asks a side question."""

from __future__ import annotations

import pytest

from bot.dialogue.context import Context, NeedChange
from bot.knowledge import Knowledge


@pytest.fixture
def context(knowledge: Knowledge) -> Context:
    return Context(knowledge)


@pytest.mark.parametrize(
    ("text", "needs", "free_text", "expected"),
    [
        ("nee ik wil niks lenen", ["room", "tools"], False, NeedChange(remove=["tools"])),
        ("we hebben geen vergunning nodig", ["permit"], True, NeedChange(remove=["permit"])),
        ("toch geen subsidie", ["room", "budget"], False, NeedChange(remove=["budget"])),
        ("we don't need a permit", ["tools", "permit"], False, NeedChange(remove=["permit"])),
        ("de vergunning is niet meer nodig", ["room", "permit"], True, NeedChange(["permit"])),
        ("we willen alleen een zaal", ["room", "tools"], False, NeedChange(remove=["tools"])),
        ("alleen spullen lenen", ["room"], False, NeedChange(remove=["room"], add=["tools"])),
        # answers, not changes
        ("geen tafels maar stoelen", ["tools"], True, None),  # items are not the need's words
        ("Nee, dat bedoel ik niet", ["room"], False, None),
        ("een vergunning voor het plein", ["permit"], True, None),
        (
            "een feest voor de hele straat want er is bij ons thuis echt geen ruimte",
            ["room"],
            True,
            None,  # a long answer that happens to say "geen ruimte"
        ),
        (
            "oh we hebben toch geen vergunning nodig, het is in de tuin van de kerk",
            ["permit"],
            True,
            NeedChange(remove=["permit"]),  # long, but "geen … nodig" says it
        ),
    ],
)
def test_need_changes(
    context: Context, text: str, needs: list[str], free_text: bool, expected: NeedChange | None
) -> None:
    assert context.need_change(text, needs, free_text) == expected


@pytest.mark.parametrize(
    ("text", "free_text", "expected"),
    [
        ("ik wil iemand spreken", False, True),
        ("kan ik met een medewerker praten", True, True),
        ("I want to talk to a human", False, True),
        ("Buurtbingo met een medewerker van het buurthuis erbij als spelleider", True, False),
        ("Oost", False, False),
    ],
)
def test_asking_for_a_person(context: Context, text: str, free_text: bool, expected: bool) -> None:
    assert context.asks_for_person(text, free_text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("Overslaan", True), ("nee.", True), ("liever niet", True), ("-", True), ("n.v.t.", True),
     ("0612345678", False), ("nee bel me maar op 0612345678", False)],
)  # fmt: skip
def test_skip_words(context: Context, text: str, expected: bool) -> None:
    assert context.is_skip(text) is expected


def test_side_questions_look_like_questions(context: Context) -> None:
    assert context.is_question("hoe lang duurt het voordat ik antwoord heb")
    assert context.is_question("kost een vergunning geld?")
    assert not context.is_question("Buurtbingo voor de ouderen")


def test_already_said_and_corrections(context: Context) -> None:
    assert context.already_said("dat zei ik al")
    assert context.already_said("staat al in mn eerste bericht hoor")
    assert not context.already_said("de bingo is al jaren een traditie")
    assert context.corrects("sorry, de datum moet 12 december zijn")
    assert not context.corrects("12 december")


def test_questions_are_named_by_label_or_by_residents_words(
    context: Context, knowledge: Knowledge
) -> None:
    questions = [knowledge.question(k) for k in ("date", "pickup_date", "start_time", "people")]
    named = context.named("de ophaaldatum moet vrijdag zijn", questions, "nl")
    assert [q.key for q in named] == ["pickup_date"]  # not also "datum" inside it
    assert [q.key for q in context.named("het begint om 15:00", questions, "nl")] == ["start_time"]
    assert [q.key for q in context.named("het zijn er 60", questions, "nl")] == ["people"]

"""Which language the bot answers in: read from the first message when clear, kept during a
request, and Telegram's setting when the text says nothing."""

from __future__ import annotations

import pytest

from bot.nlu.language import choose_language


@pytest.mark.parametrize(
    ("text", "telegram", "expected"),
    [
        ("I need a room", "nl", "en"),  # an English sentence on a Dutch phone
        ("can I borrow tables", "nl", "en"),
        ("good morning", "nl", "en"),
        ("Wij zoeken een zaal voor de buurtbingo", "en", "nl"),
        ("goedemorgen", "en", "nl"),
        ("hoi", "en", "en"),  # too short to tell: the phone's language
        ("hi", "nl", "nl"),
        ("ok", None, "nl"),
    ],
)
def test_the_first_message_sets_the_language(
    text: str, telegram: str | None, expected: str
) -> None:
    assert choose_language(text, current=None, telegram_code=telegram) == expected


def test_a_request_keeps_its_language() -> None:
    dutch_answer = "Straatfeest in de Vogelwijk met een springkussen"
    assert choose_language(dutch_answer, current="en", telegram_code="en", opening=False) == "en"
    assert choose_language(dutch_answer, current="en", telegram_code="en") == "nl"

"""What goes into the dialogue engine and what comes out: a Turn in, an Outcome out.

Kept apart from the engine so that the channels (Telegram, the terminal chat) and the
service depend on these plain types only."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from bot.nlu.interpretation import Interpretation


class Action(StrEnum):
    SUBMIT = "submit"
    HANDOVER = "handover"
    SHOW_STATUS = "show_status"
    ADD_TO_THREAD = "add_to_thread"  # a reply to an official's message


@dataclass(frozen=True)
class Button:
    label: str
    data: str


@dataclass
class Reply:
    text: str
    buttons: list[list[Button]] = field(default_factory=list)


# What a press on a button of an older keyboard becomes: no button handler knows it, so the
# engine answers that the button has expired.
EXPIRED = "expired"


def stamped(replies: list[Reply], keyboard: int) -> list[Reply]:
    """The replies with their buttons marked as keyboard number `keyboard`."""
    return [
        Reply(
            reply.text,
            [[Button(b.label, f"{b.data}@{keyboard}") for b in row] for row in reply.buttons],
        )
        for reply in replies
    ]


def pressed(data: str, keyboard: int) -> str:
    """What a pressed button means: its own data if it is on keyboard number `keyboard`, the
    latest one shown; EXPIRED for an older keyboard's button or data without a number."""
    own, _, number = data.rpartition("@")
    return own if own and number == str(keyboard) else EXPIRED


@dataclass
class Turn:
    """One thing the resident did: typed text, pressed a button, sent a command (with its
    argument as `text`: "/status WW-2026-000012"), media, or edited an earlier message."""

    text: str | None = None
    button: str | None = None
    command: str | None = None
    media: bool = False
    edited: bool = False
    interpretation: Interpretation | None = None
    known_contact: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Expectation:
    """When a department that will get the request is expected to answer, and how else to
    reach it: shown at the summary, and compared with the date of the activity."""

    department: str
    due: date
    contact: str | None = None


@dataclass
class Outcome:
    replies: list[Reply] = field(default_factory=list)
    action: Action | None = None
    follow_up: list[Reply] = field(default_factory=list)  # shown after the action's result
    # For ADD_TO_THREAD after the resident said which: the message to add (it came earlier).
    thread_text: str | None = None
    # The model's intent, when it decided what the bot did: at the opening of a request, or
    # as a side question in the middle of one. None when the message was read as an answer,
    # by its words, or went to an official's thread whatever it said.
    intent: str | None = None

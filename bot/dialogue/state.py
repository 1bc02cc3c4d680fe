"""Where a conversation stands. Stored as JSON in the database after every message, so a
restart of the bot loses nothing."""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class Phase(StrEnum):
    IDLE = "idle"  # nothing asked yet: waiting for what the resident needs
    CLARIFY = "clarify"  # showed "Bedoelt u ...?" buttons, or the need buttons
    ASKING = "asking"  # waiting for the answer to `current`
    CONFIRM = "confirm"  # showed the summary with Versturen / Wijzigen / Annuleren
    EDIT_MENU = "edit_menu"  # showed what can be changed
    HANDOVER_OFFER = "handover_offer"  # offered a person after repeated failed answers


# Where a conversation may go from each phase; staying is always allowed, and a cancel
# (ConversationState.reset) goes back to IDLE from anywhere. Enforced in `move_to` only.
TRANSITIONS: dict[Phase, frozenset[Phase]] = {
    Phase.IDLE: frozenset({Phase.CLARIFY, Phase.ASKING, Phase.CONFIRM, Phase.HANDOVER_OFFER}),
    Phase.CLARIFY: frozenset({Phase.IDLE, Phase.ASKING, Phase.CONFIRM, Phase.HANDOVER_OFFER}),
    Phase.ASKING: frozenset({Phase.CONFIRM, Phase.EDIT_MENU, Phase.HANDOVER_OFFER}),
    Phase.CONFIRM: frozenset({Phase.ASKING, Phase.EDIT_MENU, Phase.HANDOVER_OFFER}),
    Phase.EDIT_MENU: frozenset({Phase.ASKING, Phase.CONFIRM, Phase.HANDOVER_OFFER}),
    Phase.HANDOVER_OFFER: frozenset({Phase.IDLE, Phase.ASKING, Phase.CONFIRM}),
}


class PhaseError(RuntimeError):
    """A phase change the table does not allow: a bug in the engine, not the resident."""


@dataclass
class ConversationState:
    language: str = "nl"
    phase: Phase = Phase.IDLE
    needs: list[str] = field(default_factory=list)
    answers: dict[str, Any] = field(default_factory=dict)
    current: str | None = None
    tries: int = 0
    editing: bool = False
    # The text that came before the resident picked a need; its details are used then.
    carry_text: str | None = None
    carry_entities: list[dict[str, Any]] = field(default_factory=list)
    # Why a detail from an earlier message could not be used, shown with its question.
    problems: dict[str, dict[str, Any]] = field(default_factory=dict)
    privacy_notice_shown: bool = False
    # How the activity recurs ("elke dinsdag vanaf januari"); the date is its first day.
    recurrence: str | None = None
    # A name typed for an open list that is not on it, until the resident confirms it.
    unlisted: str | None = None
    # The out-of-scope pointer just given: a follow-up question on it gets it again.
    pointer: str | None = None
    # The resident asked for priority because the answer would come too late otherwise.
    urgent: bool = False
    # The request an official last wrote about: free text outside a new request goes to it.
    reply_to: int | None = None
    # The number of the latest keyboard shown: a press on an older one has expired
    # (bot.dialogue.turns.stamped). It counts on across requests, so an old summary's
    # Versturen never sends a newer request.
    keyboard: int = 0

    @property
    def in_progress(self) -> bool:
        return bool(self.needs)

    def move_to(self, phase: Phase) -> None:
        """The one way a conversation changes phase, checked against TRANSITIONS."""
        if phase != self.phase and phase not in TRANSITIONS[self.phase]:
            raise PhaseError(f"no way from {self.phase} to {phase}")
        self.phase = phase

    def reset(self) -> None:
        """Forget the request in progress; keep the language, an official's open question and
        the keyboard count."""
        kept = ConversationState(
            language=self.language, reply_to=self.reply_to, keyboard=self.keyboard
        )
        self.__dict__.update(kept.__dict__)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["phase"] = self.phase.value
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> ConversationState:
        if not data:
            return cls()
        # A copy: the stored JSON must not change with the state, or saving a state whose
        # only change is inside `answers` would compare equal to it and write nothing.
        known = {
            key: copy.deepcopy(value)
            for key, value in data.items()
            if key in cls.__dataclass_fields__
        }
        state = cls(**known)
        state.phase = Phase(state.phase)
        return state

"""The status of a request as one state machine, written as a single table (after Signalen's
workflow.py): every change an official makes is checked against it on the server."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    NEW = "nieuw"
    IN_PROGRESS = "in_behandeling"
    WAITING_FOR_RESIDENT = "wacht_op_bewoner"
    DONE = "afgehandeld"
    DECLINED = "afgewezen"
    REOPENED = "heropend"


# Dutch labels for the web pages; the resident's wording lives in knowledge/texts.yml.
LABELS: dict[Status, str] = {
    Status.NEW: "Nieuw",
    Status.IN_PROGRESS: "In behandeling",
    Status.WAITING_FOR_RESIDENT: "Wacht op bewoner",
    Status.DONE: "Afgehandeld",
    Status.DECLINED: "Afgewezen",
    Status.REOPENED: "Heropend",
}

# from status -> {to status: does the resident get a message about it?}
TRANSITIONS: dict[Status, dict[Status, bool]] = {
    Status.NEW: {
        Status.IN_PROGRESS: True,
        Status.WAITING_FOR_RESIDENT: True,
        Status.DONE: True,
        Status.DECLINED: True,
    },
    Status.IN_PROGRESS: {
        Status.WAITING_FOR_RESIDENT: True,
        Status.DONE: True,
        Status.DECLINED: True,
    },
    Status.WAITING_FOR_RESIDENT: {
        Status.IN_PROGRESS: False,  # the resident answered, or the official goes on without
        Status.DONE: True,
        Status.DECLINED: True,
    },
    Status.DONE: {Status.REOPENED: True},
    Status.DECLINED: {Status.REOPENED: True},
    Status.REOPENED: {
        Status.IN_PROGRESS: False,
        Status.WAITING_FOR_RESIDENT: True,
        Status.DONE: True,
        Status.DECLINED: True,
    },
}

OPEN = frozenset({Status.NEW, Status.IN_PROGRESS, Status.WAITING_FOR_RESIDENT, Status.REOPENED})
CLOSED = frozenset({Status.DONE, Status.DECLINED})


class TransitionNotAllowed(ValueError):
    def __init__(self, current: str, wanted: str) -> None:
        super().__init__(
            f"Status '{label(current)}' kan niet naar '{label(wanted)}'."
            if wanted in Status.__members__.values()
            else f"Onbekende status '{wanted}'."
        )


def label(status: str) -> str:
    try:
        return LABELS[Status(status)]
    except ValueError:
        return status


def allowed_next(current: str) -> list[Status]:
    return list(TRANSITIONS.get(Status(current), {}))


def check(current: str, wanted: str) -> bool:
    """Raise TransitionNotAllowed unless the table allows it; return whether the resident
    is told about this change."""
    try:
        return TRANSITIONS[Status(current)][Status(wanted)]
    except (KeyError, ValueError):
        raise TransitionNotAllowed(current, wanted) from None

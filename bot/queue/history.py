"""What a request's history records, as one table: the kinds of event and their Dutch titles
(the request page adds names and values to some of them)."""

from __future__ import annotations

from enum import StrEnum


class Event(StrEnum):
    CREATED = "created"
    ASSIGNED = "assigned"
    STATUS = "status"
    MESSAGE_OUT = "message_out"
    MESSAGE_IN = "message_in"
    NOTE = "note"
    REROUTED = "rerouted"


TITLES: dict[Event, str] = {
    Event.CREATED: "Aanvraag ontvangen",
    Event.ASSIGNED: "Toegewezen",
    Event.STATUS: "Status gewijzigd",
    Event.MESSAGE_OUT: "Bericht aan de bewoner",
    Event.MESSAGE_IN: "Antwoord van de bewoner",
    Event.NOTE: "Interne notitie",
    Event.REROUTED: "Doorgestuurd",
}

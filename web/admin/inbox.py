"""The NLU inbox for admins: residents' messages the model was unsure about, and the first
messages of re-routed requests, masked. Confirm the model's guess, label the message with
the right intent in one click, or dismiss it; a label becomes a training example for the
next training (Training en modellen). Also as a JSON API for admins' scripts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.dialogue.presentation import need_list
from bot.knowledge import NEED_ORDER, Knowledge
from bot.learning import inbox
from bot.nlu.interpretation import MULTI_INTENT_SEPARATOR
from bot.storage.knowledge_tables import InboxEntry, Intent
from bot.storage.models import Request as ResidentRequest
from bot.storage.models import User
from web.admin.api import ADMIN_RESPONSES
from web.admin.common import done, page, refused
from web.schemas import Problem
from web.security import DB, AdminApiUser, AdminUser, Context, CsrfChecked

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/admin/inbox", tags=["admin"], responses=ADMIN_RESPONSES)

REASONS = {inbox.UNSURE: "Model twijfelde", inbox.REROUTED: "Doorgestuurd"}
LANGUAGES = {"nl": "Nederlands", "en": "Engels"}
LANGUAGE = "nl"  # intent descriptions for the admin


@dataclass(frozen=True)
class EntryView:
    """One open message as the page shows it, with the intents worth a one-click button."""

    entry: InboxEntry
    guessed: bool  # the model named an intent (not its fallback)
    can_confirm: bool  # ... and that intent still exists
    likely: list[str]
    reference: str | None


@router.get("/admin/inbox", response_class=HTMLResponse)
def inbox_page(
    request: Request, session: DB, context: Context, user: AdminUser, reason: str = ""
) -> HTMLResponse:
    reason = reason if reason in REASONS else ""
    knowledge = context.knowledge
    entries = inbox.open_entries(session, reason or None)
    references = _references(session, {e.request_id for e in entries if e.request_id})
    intents = list(session.scalars(select(Intent.name).order_by(Intent.name)))
    counts = dict(
        session.execute(
            select(InboxEntry.reason, func.count())
            .where(InboxEntry.status == inbox.OPEN)
            .group_by(InboxEntry.reason)
        ).all()
    )
    return page(
        request,
        "admin/inbox.html",
        user,
        reason=reason,
        reasons=REASONS,
        languages=LANGUAGES,
        counts=counts,
        total=sum(counts.values()),
        views=[
            EntryView(
                entry,
                inbox.can_confirm(entry),
                inbox.can_confirm(entry) and entry.guessed_intent in intents,
                _likely(knowledge, entry, intents),
                references.get(entry.request_id) if entry.request_id else None,
            )
            for entry in entries
        ],
        intents=intents,
        labels={intent: intent_label(knowledge, intent) for intent in intents},
        percent=_percent,
    )


@dataclass
class OnEntry:
    """What every action on an entry needs; `reason` is the inbox's filter to go back to."""

    request: Request
    entry_id: int
    session: Session
    user: User
    reason: str

    def resolve(self, action: str, intent: str | None = None) -> RedirectResponse:
        """Do the action and go back to the inbox, which says what was done, or why not
        (such as another admin having handled the entry meanwhile)."""
        back = "/admin/inbox" + (f"?reason={self.reason}" if self.reason in REASONS else "")
        try:
            entry = inbox.resolve(self.session, self.user, self.entry_id, action, intent)
        except inbox.InboxError as error:
            return refused(self.request, back, str(error))
        return done(self.request, back, _done(entry))


def on_entry(
    request: Request, entry_id: int, session: DB, user: AdminUser, reason: str = ""
) -> OnEntry:
    return OnEntry(request, entry_id, session, user, reason)


Entry = Annotated[OnEntry, Depends(on_entry)]


@router.post("/admin/inbox/{entry_id}/confirm", dependencies=[CsrfChecked])
def confirm(on: Entry) -> RedirectResponse:
    return on.resolve(inbox.CONFIRM)


@router.post("/admin/inbox/{entry_id}/label", dependencies=[CsrfChecked])
def label(on: Entry, intent: Annotated[str, Form()] = "") -> RedirectResponse:
    return on.resolve(inbox.LABEL, intent)


@router.post("/admin/inbox/{entry_id}/dismiss", dependencies=[CsrfChecked])
def dismiss(on: Entry) -> RedirectResponse:
    return on.resolve(inbox.DISMISS)


def _done(entry: InboxEntry) -> str:
    if entry.resolved_intent is None:
        return "Het bericht is genegeerd; er is geen voorbeeld toegevoegd."
    return (
        f"Voorbeeld toegevoegd aan {entry.resolved_intent}. Het model leert het bij de "
        "volgende training."
    )


# -- the admin API ----------------------------------------------------------------------------


class EntryOut(BaseModel):
    id: int
    created_at: datetime
    reason: Literal["unsure", "rerouted"]
    text: str
    language: str
    guessed_intent: str | None
    confidence: float | None
    runner_up: str | None
    runner_up_confidence: float | None
    request_id: int | None
    status: str
    resolved_intent: str | None
    resolved_at: datetime | None


class InboxOut(BaseModel):
    open: int
    entries: list[EntryOut]


class EntryAction(BaseModel):
    action: Literal["confirm", "label", "dismiss"]
    intent: str | None = None  # for label


@api.get("", summary="The open NLU inbox")
def api_inbox(
    session: DB, user: AdminApiUser, reason: Literal["unsure", "rerouted"] | None = None
) -> InboxOut:
    """The open entries, newest first (optionally of one reason), and how many are open."""
    entries = inbox.open_entries(session, reason)
    return InboxOut(
        open=inbox.open_count(session),
        entries=[EntryOut.model_validate(entry, from_attributes=True) for entry in entries],
    )


@api.post(
    "/{entry_id}",
    summary="Confirm, label or dismiss an inbox entry",
    responses={
        404: {"model": Problem, "description": "No such entry."},
        409: {"model": Problem, "description": "The entry was already handled."},
        422: {"model": Problem, "description": "Refused; `detail` says why (in Dutch)."},
    },
)
def api_resolve(entry_id: int, body: EntryAction, session: DB, user: AdminApiUser) -> EntryOut:
    """Confirm the model's guess, label the entry with an intent, or dismiss it. 404: no
    such entry; 409: already handled; 422: refused, with the reason."""
    try:
        entry = inbox.resolve(session, user, entry_id, body.action, body.intent)
    except inbox.EntryMissing as missing:
        raise HTTPException(404, str(missing)) from missing
    except inbox.EntryGone as gone:
        raise HTTPException(409, str(gone)) from gone
    except inbox.InboxError as error:
        raise HTTPException(422, str(error)) from error
    return EntryOut.model_validate(entry, from_attributes=True)


# -- helpers ----------------------------------------------------------------------------------


def intent_label(knowledge: Knowledge, intent: str) -> str:
    """What an intent means, in Dutch: its needs ("een ruimte en budget") or its button
    label ("Wat kost het?"); empty when there is none."""
    needs = [knowledge.need_for_intent(part) for part in intent.split(MULTI_INTENT_SEPARATOR)]
    if all(needs):
        return need_list(knowledge, [need for need in needs if need], LANGUAGE)
    key = f"label_{intent}"
    return knowledge.text(key, LANGUAGE) if key in knowledge.texts else ""


def _likely(knowledge: Knowledge, entry: InboxEntry, intents: list[str]) -> list[str]:
    """The intents an admin most likely wants: the model's runner-up and the four needs
    (what the bot is for), without the guess itself, which has its own button."""
    candidates = [entry.runner_up] + [
        knowledge.needs[need].intent for need in NEED_ORDER if need in knowledge.needs
    ]
    likely: list[str] = []
    for intent in candidates:
        if intent in intents and intent != entry.guessed_intent and intent not in likely:
            likely.append(intent)
    return likely


def _references(session: Session, ids: set[int | None]) -> dict[int, str | None]:
    if not ids:
        return {}
    rows = session.execute(
        select(ResidentRequest.id, ResidentRequest.reference).where(ResidentRequest.id.in_(ids))
    )
    return dict(rows.tuples().all())


def _percent(confidence: float | None) -> str:
    return "—" if confidence is None else f"{confidence:.0%}"

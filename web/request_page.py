"""One request as an official sees it, with its history, and the actions on it: claim,
assign, change the status, write to the resident, add a note, re-route.

Every look-up goes through `queries.can_see`, so another department's request answers 404
exactly like one that does not exist. Every form carries the CSRF token, and after a change
the browser is sent back (303) with a short message, so a reload never repeats it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot import accounts
from bot.dialogue.presentation import format_value, need_label
from bot.knowledge import RECURRENCE, Knowledge
from bot.queue import actions, queries, workflow
from bot.queue.history import TITLES, Event
from bot.storage import models
from bot.storage import repositories as repo
from bot.storage.models import Notification, RequestEvent, User, utc_now
from web.common import LANGUAGE, department_names, flash, late, need_labels, not_found, show_page
from web.context import AppContext
from web.security import DB, Context, CsrfChecked, CurrentUser

router = APIRouter(include_in_schema=False)


@router.get("/requests/{request_id}", response_class=HTMLResponse)
def request_page(
    request: Request, request_id: int, session: DB, context: Context, user: CurrentUser
) -> HTMLResponse:
    item = queries.can_see(session, user, request_id)
    if item is None:
        return not_found(request, user)
    session.execute(
        update(Notification)
        .where(
            Notification.user_id == user.id,
            Notification.request_id == item.id,
            Notification.read_at.is_(None),
        )
        .values(read_at=utc_now())
    )
    return _request_page(request, session, context, user, item)


@dataclass
class Action:
    """What every action on a request needs: who asks, about which request, in which
    transaction. `run` does the rest the same way for every action."""

    request: Request
    request_id: int
    session: Session
    context: AppContext
    user: User

    def run(self, act: Callable[[models.Request], str], form: dict[str, str]) -> Response:
        """Do `act` on the request if the user may handle it. A refusal shows the page again
        with the reason and what the official typed; success is committed before the
        delivery worker is woken (so it finds the message), and the browser goes back with
        the short message `act` returned."""
        item = queries.can_see(self.session, self.user, self.request_id, for_update=True)
        if item is None:  # also another department's: whoever may see it may handle it
            return not_found(self.request, self.user)
        try:
            done = act(item)
        except (actions.ActionError, workflow.TransitionNotAllowed) as error:
            return _request_page(
                self.request,
                self.session,
                self.context,
                self.user,
                item,
                error=str(error),
                form=form,
                status_code=422,
            )
        still_mine = actions.can_handle(self.user, item)  # not after re-routing elsewhere
        self.session.commit()
        self.context.wake_delivery()
        flash(self.request, done)
        return RedirectResponse(f"/requests/{item.id}" if still_mine else "/", status_code=303)


def action(
    request: Request, request_id: int, session: DB, context: Context, user: CurrentUser
) -> Action:
    return Action(request, request_id, session, context, user)


OnRequest = Annotated[Action, Depends(action)]


@router.post("/requests/{request_id}/claim", dependencies=[CsrfChecked])
def claim(on: OnRequest) -> Response:
    def act(item: models.Request) -> str:
        actions.claim(on.session, item, on.user)
        return f"U heeft {item.reference} opgepakt."

    return on.run(act, {"action": "assign"})


@router.post("/requests/{request_id}/assign", dependencies=[CsrfChecked])
def assign(on: OnRequest, assignee: Annotated[str, Form()] = "") -> Response:
    def act(item: models.Request) -> str:
        chosen = accounts.user_by_id(on.session, int(assignee)) if assignee.isdigit() else None
        if assignee and chosen is None:
            raise actions.ActionError("Die collega bestaat niet (meer).")
        actions.assign(on.session, item, on.user, chosen)
        if chosen is None:
            return f"{item.reference} is aan niemand meer toegewezen."
        return f"{item.reference} is toegewezen aan {chosen.full_name}."

    return on.run(act, {"action": "assign", "assignee": assignee})


@router.post("/requests/{request_id}/status", dependencies=[CsrfChecked])
def change_status(
    on: OnRequest,
    new_status: Annotated[str, Form(alias="status")] = "",
    message: Annotated[str, Form()] = "",
) -> Response:
    def act(item: models.Request) -> str:
        knowledge, today = on.context.knowledge, on.context.today()
        tells = actions.change_status(
            on.session, knowledge, item, on.user, new_status, message, today
        )
        told = " De bewoner krijgt hierover bericht." if tells else ""
        return f"De status van {item.reference} is nu '{workflow.label(new_status)}'.{told}"

    return on.run(act, {"action": "status", "status": new_status, "message": message})


@router.post("/requests/{request_id}/message", dependencies=[CsrfChecked])
def write_to_resident(on: OnRequest, text: Annotated[str, Form()] = "") -> Response:
    def act(item: models.Request) -> str:
        actions.write_to_resident(on.session, on.context.knowledge, item, on.user, text)
        return "Uw bericht gaat naar de bewoner."

    return on.run(act, {"action": "message", "text": text})


@router.post("/requests/{request_id}/note", dependencies=[CsrfChecked])
def add_note(on: OnRequest, text: Annotated[str, Form()] = "") -> Response:
    def act(item: models.Request) -> str:
        actions.add_note(on.session, item, on.user, text)
        return "De interne notitie is toegevoegd; de bewoner ziet haar niet."

    return on.run(act, {"action": "note", "text": text})


@router.post("/requests/{request_id}/reroute", dependencies=[CsrfChecked])
def reroute(
    on: OnRequest,
    department: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    def act(item: models.Request) -> str:
        knowledge, today = on.context.knowledge, on.context.today()
        actions.reroute(on.session, knowledge, item, on.user, department, reason, today)
        return f"{item.reference} is doorgestuurd naar {item.department.name}."

    return on.run(act, {"action": "reroute", "department": department, "reason": reason})


@dataclass(frozen=True)
class Entry:
    """One line of a request's history, as the page shows it."""

    kind: str
    when: Any
    who: str
    title: str
    text: str | None = None


def _request_page(
    request: Request,
    session: Session,
    context: AppContext,
    user: User,
    item: models.Request,
    *,
    error: str | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    knowledge = context.knowledge
    today = context.today()
    names = department_names(session)
    next_statuses = [
        (
            next_status.value,
            workflow.label(next_status),
            knowledge.status_message(next_status, item.language),
            workflow.TRANSITIONS[workflow.Status(item.status)][next_status],
        )
        for next_status in workflow.allowed_next(item.status)
    ]
    related = [(other, actions.can_handle(user, other)) for other in queries.related(session, item)]
    resident = item.resident
    return show_page(
        request,
        "request.html",
        user,
        status_code=status_code,
        item=item,
        names=names,
        needs=need_labels(knowledge),
        answers=_answers(knowledge, item),
        phone=(
            format_value(knowledge.question("phone"), resident.phone, LANGUAGE, knowledge)
            if resident.phone
            else None
        ),
        overdue=late(item, today),
        history=_history(session, item, names),
        transcript=repo.transcript(session, item),
        related=related,
        colleagues=accounts.colleagues(session, [item.department_key, *item.co_departments]),
        next_statuses=next_statuses,
        departments=[(key, name) for key, name in names.items() if key != item.department_key],
        max_length=actions.MAX_MESSAGE_LENGTH,
        error=error,
        form=form or {},
    )


def _answers(knowledge: Knowledge, item: models.Request) -> list[tuple[str, list[tuple[str, str]]]]:
    """The answers per need, labelled and formatted the way the bot showed them to the
    resident; answers no need asks for (a hand-over, an older question) come last."""
    groups = [
        (
            need_label(knowledge, need, LANGUAGE),
            [
                _answer(knowledge, q.key, item.answers.get(q.key))
                for q in knowledge.needs[need].questions
            ],
        )
        for need in item.needs
    ]
    asked = {q.key for need in item.needs for q in knowledge.needs[need].questions}
    rest = [
        _answer(knowledge, key, value)
        for key, value in item.answers.items()
        if key not in asked and value is not None
    ]
    return [*groups, ("Overige gegevens", rest)] if rest else groups


def _answer(knowledge: Knowledge, key: str, value: Any) -> tuple[str, str]:
    """(label, value as the bot writes it); a key no question knows any more as it is."""
    try:
        question = knowledge.question(key)
    except KeyError:
        return ("Herhaling" if key == RECURRENCE else key), str(value)
    label = question.label.get(LANGUAGE) or question.label["nl"]
    return label, format_value(question, value, LANGUAGE, knowledge)


def _history(session: Session, item: models.Request, names: dict[str, str]) -> list[Entry]:
    """The append-only history in words: who did what, and when."""
    events = actions.history(session, item)
    usernames = {
        value for e in events if e.kind == Event.ASSIGNED for value in (e.old_value, e.new_value)
    }
    people = dict(
        session.execute(
            select(User.username, User.full_name).where(User.username.in_(usernames - {None}))
        ).all()
    )
    return [_entry(event, names, people) for event in events]


def _entry(event: RequestEvent, names: dict[str, str], people: dict[str, str]) -> Entry:
    who = event.actor.full_name if event.actor else "Bewoner"
    old = event.old_value or ""
    new = event.new_value or ""
    match event.kind:
        case Event.CREATED:
            title = f"{TITLES[Event.CREATED]} voor {names.get(new, new)}"
            return Entry("system", event.created_at, "Wegwijs", title)
        case Event.ASSIGNED if not new:
            return Entry("system", event.created_at, who, "Toewijzing weggehaald")
        case Event.ASSIGNED if event.actor and event.actor.username == new:
            return Entry("system", event.created_at, who, "Heeft de aanvraag opgepakt")
        case Event.ASSIGNED:
            title = f"{TITLES[Event.ASSIGNED]} aan {people.get(new, new)}"
            return Entry("system", event.created_at, who, title)
        case Event.STATUS:
            title = f"{TITLES[Event.STATUS]}: {workflow.label(old)} → {workflow.label(new)}"
            if event.actor is None:
                who = "Bewoner (door te antwoorden)"
            return Entry("system", event.created_at, who, title)
        case Event.MESSAGE_OUT:
            return Entry("out", event.created_at, who, TITLES[Event.MESSAGE_OUT], event.text)
        case Event.MESSAGE_IN:
            return Entry("in", event.created_at, who, TITLES[Event.MESSAGE_IN], event.text)
        case Event.NOTE:
            return Entry("note", event.created_at, who, TITLES[Event.NOTE], event.text)
        case Event.REROUTED:
            title = f"{TITLES[Event.REROUTED]} van {names.get(old, old)} naar {names.get(new, new)}"
            return Entry("reroute", event.created_at, who, title, f"Reden: {event.text}")
        case _:
            return Entry("system", event.created_at, who, event.kind, event.text)  # a newer kind

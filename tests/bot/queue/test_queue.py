"""The officials' side on PostgreSQL and SQLite: the status table, the SLA clock, re-routing,
the resident's replies, the append-only history and who sees what in the queue."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot import accounts
from bot.knowledge import Knowledge
from bot.queue import actions, queries, workflow
from bot.queue.workflow import Status
from bot.routing.sla import add_working_days
from bot.storage import repositories as repo
from bot.storage.models import Conversation, Notification, OutboxMessage, Request, RequestEvent
from tests.support import TODAY, store


def _official(session: Session, name: str, *departments: str):  # type: ignore[no-untyped-def]
    return accounts.create_user(
        session, name, "correct horse battery", role="official", departments=list(departments)
    )


def _request(session: Session, knowledge: Knowledge, needs: list[str], chat: str = "7") -> Request:
    resident = repo.resident_for(session, "telegram", chat, "nl")
    session.add(Conversation(resident_id=resident.id, state={}))
    request = store(session, knowledge, resident, needs, {"neighbourhood": "Centrum"})
    actions.record_created(session, request)
    return request


def _resident_messages(session: Session) -> list[str]:
    rows = session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "resident").order_by(OutboxMessage.id)
    )
    return [row.payload["text"] for row in rows]


def test_every_transition_in_the_table_and_nothing_else() -> None:
    for current in Status:
        for wanted in Status:
            if wanted in workflow.TRANSITIONS[current]:
                assert workflow.check(current, wanted) in (True, False)
            else:
                with pytest.raises(workflow.TransitionNotAllowed):
                    workflow.check(current, wanted)
    with pytest.raises(workflow.TransitionNotAllowed, match="Onbekende status"):
        workflow.check("nieuw", "weggegooid")
    assert workflow.allowed_next("afgehandeld") == [Status.REOPENED]


def test_status_change_tells_the_resident_once_with_the_edited_text(
    sessions: sessionmaker[Session], knowledge: Knowledge
) -> None:
    with sessions.begin() as session:
        official = _official(session, "els", "initiatievenloket")
        request = _request(session, knowledge, ["room", "budget", "tools"])
        actions.change_status(session, knowledge, request, official, "in_behandeling", "", TODAY)
        actions.change_status(
            session, knowledge, request, official, "afgehandeld", "Alles geregeld!", TODAY
        )
        with pytest.raises(workflow.TransitionNotAllowed):
            actions.change_status(session, knowledge, request, official, "nieuw", None, TODAY)
        texts = _resident_messages(session)
        assert len(texts) == 2  # one per change, not one per need
        assert knowledge.status_message("in_behandeling", "nl") in texts[0]
        assert request.reference in texts[1] and "Alles geregeld!" in texts[1]
        assert request.closed_at is not None and request.first_response_at is not None


def test_waiting_for_the_resident_stops_the_clock_and_a_reply_restarts_it(
    sessions: sessionmaker[Session], knowledge: Knowledge
) -> None:
    with sessions.begin() as session:
        official = _official(session, "piet", "vastgoed")
        request = _request(session, knowledge, ["room"])
        due = request.due_at
        actions.change_status(
            session, knowledge, request, official, "wacht_op_bewoner", "Hoeveel stoelen?", TODAY
        )
        assert request.paused_at is not None
        state = session.get(Conversation, request.resident_id).state
        assert state["reply_to"] == request.id  # the next free text goes to this request
        # Three working days later the official goes on: the due date moves three days.
        request.paused_at = request.paused_at.replace(year=2026, month=11, day=20)
        actions.change_status(session, knowledge, request, official, "in_behandeling", "", TODAY)
        assert request.due_at == add_working_days(due, 1)
        assert request.paused_at is None


def test_resident_reply_lands_in_the_thread(
    sessions: sessionmaker[Session], knowledge: Knowledge
) -> None:
    with sessions.begin() as session:
        official = _official(session, "ans", "vastgoed")
        request = _request(session, knowledge, ["room"])
        actions.change_status(
            session, knowledge, request, official, "wacht_op_bewoner", "Welke zaal?", TODAY
        )
        actions.record_resident_reply(session, request, "De grote zaal graag")
        assert request.status == "in_behandeling"
        kinds = [(e.kind, e.text) for e in actions.history(session, request)]
        assert ("message_in", "De grote zaal graag") in kinds


def test_rerouting_keeps_the_thread_and_moves_the_queue(
    sessions: sessionmaker[Session], knowledge: Knowledge
) -> None:
    with sessions.begin() as session:
        vastgoed = _official(session, "vera", "vastgoed")
        buitendienst = _official(session, "bram", "buitendienst")
        stranger = _official(session, "sam", "vergunningen")
        request = _request(session, knowledge, ["room"])
        actions.claim(session, request, vastgoed)
        actions.add_note(session, request, vastgoed, "Bellen na 17:00")
        actions.reroute(
            session, knowledge, request, vastgoed, "buitendienst", "Gaat om materiaal", TODAY
        )
        session.flush()
        assert request.department_key == "buitendienst" and request.co_departments == []
        assert request.assignee is None
        assert [e.kind for e in actions.history(session, request)] == [
            "created",
            "assigned",
            "note",
            "rerouted",
        ]
        assert "Gaat om materiaal" in actions.history(session, request)[-1].text

        def ids(user) -> list[int]:  # type: ignore[no-untyped-def]
            rows, _ = queries.queue(session, user, queries.QueueFilter(), TODAY)
            return [r.id for r in rows]

        assert ids(buitendienst) == [request.id]
        assert ids(vastgoed) == [] and ids(stranger) == []
        assert queries.can_see(session, stranger, request.id) is None
        texts = _resident_messages(session)
        assert len(texts) == 1 and "Gaat om materiaal" not in texts[0]  # the reason is internal


def test_co_departments_see_a_multi_need_request_and_filters_apply(
    sessions: sessionmaker[Session], knowledge: Knowledge
) -> None:
    with sessions.begin() as session:
        vastgoed = _official(session, "dirk", "vastgoed")
        helper = _official(session, "ilse", "vastgoed")
        both = _request(session, knowledge, ["room", "budget"], chat="1")
        permit = _request(session, knowledge, ["permit"], chat="2")
        actions.assign(session, both, vastgoed, helper)
        session.flush()
        notes = list(session.scalars(select(Notification).where(Notification.user_id == helper.id)))
        assert len(notes) == 1 and both.reference in notes[0].text

        def refs(**filters) -> list[str]:  # type: ignore[no-untyped-def]
            rows, total = queries.queue(session, vastgoed, queries.QueueFilter(**filters), TODAY)
            assert total == len(rows)
            return [r.reference for r in rows]

        assert refs() == [both.reference]  # as co-department; the permit is not theirs
        assert refs(need="budget") == [both.reference]
        assert refs(need="permit") == []
        assert refs(unassigned=True) == []
        assert refs(search=both.reference.lower()) == [both.reference]
        assert refs(search="centrum") == [both.reference]
        assert refs(neighbourhood="centrum") == [both.reference]
        assert permit.reference not in refs(search="WW")
        assert queries.counts(session, vastgoed, TODAY)["open"] == 1


def test_history_is_append_only(sessions: sessionmaker[Session], knowledge: Knowledge) -> None:
    with sessions.begin() as session:
        request = _request(session, knowledge, ["tools"])
        session.flush()
        event = session.scalar(select(RequestEvent).where(RequestEvent.request_id == request.id))
        event.text = "rewritten"
        with pytest.raises(ValueError, match="append-only"):
            session.flush()
        session.rollback()


def test_logins_are_throttled(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        _official(session, "kees", "vastgoed")
    for _ in range(accounts.MAX_FAILED_LOGINS):
        with sessions.begin() as session:
            assert accounts.authenticate(session, "kees", "wrong", "10.0.0.1") is None
    with sessions.begin() as session:
        assert accounts.is_throttled(session, "kees", "10.0.0.9")
        assert accounts.is_throttled(session, "someone", "10.0.0.1")
        assert not accounts.is_throttled(session, "someone", "10.0.0.9")

"""The NLU inbox on PostgreSQL and SQLite: which messages the bot collects (masked, off the
reply path), what a re-routing adds, and what labelling, confirming and dismissing do."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot import accounts
from bot.conversation import ConversationService, Sender
from bot.dialogue.turns import Turn
from bot.knowledge import Knowledge, store
from bot.knowledge.store import KnowledgeSource
from bot.learning import inbox
from bot.nlu.interpretation import Interpretation
from bot.queue import actions
from bot.storage import repositories as repo
from bot.storage.knowledge_tables import AuditEntry, InboxEntry, TrainingExample
from bot.storage.models import Conversation, User
from tests.fakes.nlu import ScriptedNLU, rasa
from tests.support import TODAY
from tests.support import store as store_request
from tests.web.world import PASSWORD, World, bearer

MARGIN = 0.2
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
WAIT = 120  # seconds: the first masking in a test run loads deduce (about 12 seconds)


class Chat:
    """A resident talking to the real conversation service, with an inbox collector."""

    def __init__(self, sessions: sessionmaker[Session], margin: float = MARGIN) -> None:
        self.nlu = ScriptedNLU()
        self.collector = inbox.Collector(sessions, KnowledgeSource(sessions), margin)
        self.service = ConversationService(
            KnowledgeSource(sessions),
            sessions,
            self.nlu,  # type: ignore[arg-type]
            today=lambda: TODAY,
            inbox=self.collector,
        )
        self.sender = Sender("telegram", "4242", "nl")

    def say(self, interpretation: Interpretation) -> list[str]:
        self.nlu.answers[interpretation.text] = interpretation
        return self._turn(Turn(text=interpretation.text))

    def cancel(self) -> list[str]:
        return self._turn(Turn(command="cancel"))

    def _turn(self, turn: Turn) -> list[str]:
        replies = asyncio.run(self.service.handle(self.sender, turn))
        assert self.collector.wait(WAIT)
        return [reply.text for reply in replies]


def entries(session: Session) -> list[InboxEntry]:
    return list(session.scalars(select(InboxEntry).order_by(InboxEntry.id)))


def test_an_unsure_opening_message_is_collected_masked(sessions: sessionmaker[Session]) -> None:
    chat = Chat(sessions)
    # Confident: the bot starts a request for a room; nothing to learn.
    chat.say(rasa("Ik wil een zaal huren", ("request_room", 0.93), ("request_tools", 0.03)))
    chat.cancel()  # back to the start
    text = "Ik ben Jan de Vries (06-12345678), kunnen we iets regelen voor 40 mensen?"
    replies = chat.say(rasa(text, ("request_room", 0.48), ("request_budget", 0.37)))
    assert replies  # the resident got the bot's answer, whatever the inbox did
    with sessions() as session:
        [entry] = entries(session)
        assert entry.reason == "unsure" and entry.status == "open"
        assert entry.text == "Ik ben NAAM (TELEFOONNUMMER), kunnen we iets regelen voor 40 mensen?"
        assert entry.language == "nl"
        assert (entry.guessed_intent, entry.confidence) == ("request_room", 0.48)
        assert (entry.runner_up, entry.runner_up_confidence) == ("request_budget", 0.37)
        assert entry.request_id is None


def test_a_fallback_is_collected_with_the_best_real_intent_as_runner_up(
    sessions: sessionmaker[Session],
) -> None:
    chat = Chat(sessions)
    text = "We need stuff for the neighbours, Peter Smith"
    chat.say(rasa(text, ("request_tools", 0.35), ("out_of_scope", 0.25), fallback=True))
    with sessions() as session:
        [entry] = entries(session)
        assert entry.text == "We need stuff for the neighbours, NAAM"
        assert (entry.language, entry.guessed_intent) == ("en", "nlu_fallback")
        assert entry.runner_up == "request_tools"
        assert not inbox.can_confirm(entry)


def test_answers_to_a_follow_up_question_are_not_collected(
    sessions: sessionmaker[Session],
) -> None:
    chat = Chat(sessions)
    chat.say(rasa("Ik wil een zaal huren", ("request_room", 0.95), ("greet", 0.01)))
    # The answer to "which date?": the model has no idea, but its intent did not matter.
    chat.say(rasa("zaterdag 12 december", ("request_room", 0.41), ("faq_how_long", 0.33)))
    with sessions() as session:
        assert "date" in session.scalars(select(Conversation.state)).one()["answers"]
        assert entries(session) == []


def test_a_side_question_while_asking_is_collected_when_unsure(
    sessions: sessionmaker[Session],
) -> None:
    """A side question needs a confident model (0.75), so only a wide margin setting lets
    one count as unsure; then the engine's choice of a side question is what mattered."""
    chat = Chat(sessions, margin=0.6)
    chat.say(rasa("Ik wil een zaal huren", ("request_room", 0.97), ("greet", 0.01)))
    chat.say(rasa("wat kost het eigenlijk?", ("faq_costs", 0.77), ("faq_how_long", 0.2)))
    with sessions() as session:
        [entry] = entries(session)
        assert (entry.text, entry.guessed_intent) == ("wat kost het eigenlijk?", "faq_costs")


def test_the_same_text_waits_only_once(sessions: sessionmaker[Session]) -> None:
    chat = Chat(sessions)
    unsure = rasa("Hallo, iets voor de buurt", ("greet", 0.45), ("request_tools", 0.4))
    chat.say(unsure)
    chat.say(unsure)
    with sessions.begin() as session:
        assert len(entries(session)) == 1
        admin = _admin(session)
        inbox.resolve(session, admin, entries(session)[0].id, inbox.DISMISS)
    chat.say(unsure)  # handled before: it may come in again
    with sessions() as session:
        assert [e.status for e in entries(session)] == ["dismissed", "open"]


def test_a_rerouted_request_brings_its_first_message_masked(
    sessions: sessionmaker[Session], knowledge: Knowledge
) -> None:
    first = "Hoi, met Karel Appel: we willen dranghekken lenen, ik woon op de Lindelaan 12a"
    with sessions.begin() as session:
        resident = repo.resident_for(session, "telegram", "77", "nl")
        repo.log_message(session, resident, "in", "/start")
        repo.log_message(session, resident, "out", "Welkom!")
        repo.log_message(session, resident, "in", first, "request_tools", 0.52)
        repo.log_message(session, resident, "in", "20 stuks", "request_tools", 0.61)
        request = store_request(
            session, knowledge, resident, ["tools"], {"neighbourhood": "Oost", "name": "K. Appel"}
        )
        admin = _admin(session)
        actions.reroute(session, knowledge, request, admin, "vergunningen", "Is een vergunning")
        request_id = request.id
    with sessions() as session:
        [entry] = entries(session)
        assert entry.reason == "rerouted" and entry.request_id == request_id
        assert entry.text == "Hoi, met NAAM: we willen dranghekken lenen, ik woon op de ADRES"
        assert (entry.guessed_intent, entry.confidence) == ("request_tools", 0.52)
        assert entry.runner_up is None


def _entry(session: Session, text: str, intent: str = "request_room") -> InboxEntry:
    entry = InboxEntry(
        reason="unsure", text=text, language="nl", guessed_intent=intent, confidence=0.5
    )
    session.add(entry)
    session.flush()
    return entry


def _admin(session: Session) -> User:
    return accounts.create_user(
        session, "ada", "correct horse battery", role="admin", departments=[]
    )


def _examples(session: Session, text: str) -> list[tuple[str, str, str]]:
    rows = session.execute(
        select(TrainingExample.intent, TrainingExample.language, TrainingExample.source).where(
            TrainingExample.text == text
        )
    )
    return [tuple(row) for row in rows]


def test_labelling_adds_an_audited_example_and_dismissing_does_not(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        admin = _admin(session)
        wrong = _entry(session, "kan ik de speeltuin afsluiten voor een feest")
        right = _entry(session, "een zaaltje voor zaterdag")
        ignored = _entry(session, "asdf")
        version = store.version(session)
        inbox.resolve(session, admin, wrong.id, inbox.LABEL, "request_permit")
        inbox.resolve(session, admin, right.id, inbox.CONFIRM)
        inbox.resolve(session, admin, ignored.id, inbox.DISMISS)
    with sessions() as session:
        assert _examples(session, wrong.text) == [("request_permit", "nl", "inbox")]
        assert _examples(session, right.text) == [("request_room", "nl", "inbox")]
        assert _examples(session, "asdf") == []
        audit = list(session.scalars(select(AuditEntry).where(AuditEntry.id > version)))
        assert [(a.subject, a.subject_key, a.actor, a.action) for a in audit] == [
            ("example", f"request_permit [nl] {wrong.text}", "ada", "created"),
            ("example", f"request_room [nl] {right.text}", "ada", "created"),
        ]
        assert audit[0].after == {"intent": "request_permit", "language": "nl", "text": wrong.text}
        states = {e.text: (e.status, e.resolved_intent, e.resolved_by_id) for e in entries(session)}
        assert states == {
            wrong.text: ("labelled", "request_permit", admin.id),
            right.text: ("confirmed", "request_room", admin.id),
            "asdf": ("dismissed", None, admin.id),
        }
        assert all(e.resolved_at is not None for e in entries(session))
        # The bot's training data, as the trainer reads it, has the new examples.
        examples = store.read(session).examples
        assert any(e.intent == "request_permit" and e.text == wrong.text for e in examples)
        assert inbox.open_count(session) == 0


@pytest.mark.parametrize(
    ("intent", "action", "label", "problem"),
    [
        ("nlu_fallback", inbox.CONFIRM, None, "kies zelf de juiste intentie"),
        ("request_room", inbox.LABEL, "request_nothing", "bestaat niet"),
        ("request_room", inbox.LABEL, "", "Kies een intentie"),
        ("request_room", "forget", None, "Onbekende actie"),
    ],
)
def test_refused_actions_change_nothing(
    sessions: sessionmaker[Session], intent: str, action: str, label: Any, problem: str
) -> None:
    with sessions.begin() as session:
        admin = _admin(session)
        entry = _entry(session, "iets onduidelijks", intent)
        count = session.scalar(select(func.count()).select_from(TrainingExample))
        with pytest.raises(inbox.InboxError, match=problem):
            inbox.resolve(session, admin, entry.id, action, label)
        assert entry.status == "open"
        assert session.scalar(select(func.count()).select_from(TrainingExample)) == count


def test_a_text_already_in_the_training_data(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        admin = _admin(session)
        seeded = session.scalar(
            select(TrainingExample).where(TrainingExample.intent == "greet").limit(1)
        )
        assert seeded is not None
        same = _entry(session, seeded.text, "greet")
        inbox.resolve(session, admin, same.id, inbox.CONFIRM)  # nothing new to learn
        assert len(_examples(session, seeded.text)) == 1
        other = _entry(session, seeded.text, "goodbye")  # the same words, another intent
        with pytest.raises(inbox.InboxError, match="staat al als voorbeeld bij greet"):
            inbox.resolve(session, admin, other.id, inbox.CONFIRM)
        with pytest.raises(inbox.EntryGone):
            inbox.resolve(session, admin, same.id, inbox.DISMISS)
        with pytest.raises(inbox.EntryMissing):
            inbox.resolve(session, admin, 999_999, inbox.DISMISS)


def test_the_admin_api_and_a_refused_label_on_the_page(
    sessions: sessionmaker[Session], knowledge: Knowledge
) -> None:
    world = World.with_staff(sessions, knowledge)
    with sessions.begin() as session:
        room = _entry(session, "een zaaltje voor zaterdag").id
        unknown = _entry(session, "iets met de speeltuin", "nlu_fallback").id
        greeting = session.scalar(
            select(TrainingExample.text).where(TrainingExample.intent == "greet")
        )
        taken = _entry(session, greeting or "", "goodbye").id
    headers = bearer(world.tokens["ada"])
    with world.client() as client:
        listed = client.get("/api/admin/inbox", headers=headers).json()
        assert listed["open"] == 3
        assert [e["id"] for e in listed["entries"]] == [taken, unknown, room]  # newest first
        assert listed["entries"][1]["guessed_intent"] == "nlu_fallback"

        done = client.post(
            f"/api/admin/inbox/{unknown}",
            json={"action": "label", "intent": "request_permit"},
            headers=headers,
        )
        assert done.status_code == 200, done.text
        assert (done.json()["status"], done.json()["resolved_intent"]) == (
            "labelled",
            "request_permit",
        )
        again = client.post(
            f"/api/admin/inbox/{unknown}", json={"action": "dismiss"}, headers=headers
        )
        assert again.status_code == 409
        missing = client.post(
            "/api/admin/inbox/999999", json={"action": "dismiss"}, headers=headers
        )
        assert missing.status_code == 404
        refused = client.post(f"/api/admin/inbox/{room}", json={"action": "fix"}, headers=headers)
        assert refused.status_code == 422
        official = client.get("/api/admin/inbox", headers=bearer(world.tokens["anna"]))
        assert official.status_code == 403

        # On the page, a label that would put the same words under two intents is refused
        # with the reason, and the entry stays open.
        client.post("/login", data=_login(client, "ada"))
        page = client.get("/admin/inbox")
        csrf = CSRF.search(page.text)
        assert csrf and 'inbox-open">2</strong> berichten wachten' in page.text
        answer = client.post(
            f"/admin/inbox/{taken}/confirm?reason=unsure", data={"csrf_token": csrf.group(1)}
        )
        assert (answer.status_code, answer.headers["location"]) == (
            303,
            "/admin/inbox?reason=unsure",
        )
        back = client.get(answer.headers["location"])
        assert "staat al als voorbeeld bij greet" in back.text
        assert f'data-id="{taken}"' in back.text
    with sessions() as session:
        assert _examples(session, "iets met de speeltuin") == [("request_permit", "nl", "inbox")]
        assert session.get(InboxEntry, taken).status == "open"  # type: ignore[union-attr]


def _login(client: TestClient, username: str) -> dict[str, str]:
    csrf = CSRF.search(client.get("/login").text)
    assert csrf
    return {"username": username, "password": PASSWORD, "csrf_token": csrf.group(1), "next": "/"}

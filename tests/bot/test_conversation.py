"""The conversation service on PostgreSQL and SQLite: the expected answer dates at the
summary come from the routing and the departments' service levels, a request whose answer
would come after the activity can be marked urgent, and urgent requests lead the queue."""

from __future__ import annotations

import asyncio
from datetime import date

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot import accounts
from bot.conversation import ConversationService, Sender, UpdateId
from bot.delivery import outbox
from bot.dialogue.turns import Button, Reply, Turn
from bot.knowledge.store import KnowledgeSource
from bot.queue.queries import QueueFilter, queue
from bot.storage.models import (
    Conversation,
    MessageLog,
    OutboxMessage,
    ProcessedUpdate,
    Request,
    Resident,
    utc_now,
)
from tests.fakes.nlu import ScriptedNLU, rasa

TODAY = date(2026, 11, 23)  # a Monday
UNSURE = ("inform", 0.3)


class ResidentChat:
    def __init__(self, sessions: sessionmaker[Session], external_id: str) -> None:
        self.nlu = ScriptedNLU()
        self.service = ConversationService(
            KnowledgeSource(sessions),
            sessions,
            self.nlu,  # type: ignore[arg-type]
            today=lambda: TODAY,
        )
        self.sender = Sender("telegram", external_id, "nl")
        self.shown: list[Reply] = []

    def say(self, text: str, *ranking: tuple[str, float]) -> list[Reply]:
        self.nlu.answers[text] = rasa(text, *(ranking or (UNSURE,)))
        return self._show(Turn(text=text))

    def press(self, data: str) -> list[Reply]:
        """Press the shown button that does `data` (its data carries the keyboard number)."""
        stamped = [b.data for b in _buttons(self.shown) if b.data.rpartition("@")[0] == data]
        return self._show(Turn(button=stamped[-1] if stamped else data))

    def _show(self, turn: Turn) -> list[Reply]:
        replies = asyncio.run(self.service.handle(self.sender, turn))
        self.shown += replies
        return replies

    def room_for(self, day: str) -> Reply:
        """A room request up to its summary, for the given day."""
        self.say("Wij zoeken een zaal voor de buurtbingo", ("request_room", 0.95))
        for answer in (day, "14:00", "17:00", "40", "Oost", "Ans de Vries", "0612345678"):
            self.say(answer)
        return self.press("skip")[-1]


def _buttons(replies: list[Reply]) -> list[Button]:
    return [button for reply in replies for row in reply.buttons for button in row]


def buttons(reply: Reply) -> list[str]:
    """What the reply's buttons do, without their keyboard number."""
    return [button.data.rpartition("@")[0] for button in _buttons([reply])]


def test_an_answer_after_the_activity_is_said_and_can_be_urgent(
    sessions: sessionmaker[Session],
) -> None:
    resident = ResidentChat(sessions, "5001")
    summary = resident.room_for("morgen")  # the room department answers in working days
    assert "uiterlijk" in summary.text and "Let op" in summary.text
    assert "confirm:urgent" in buttons(summary)

    again = resident.press("confirm:urgent")[-1]
    assert "spoed" in again.text and "confirm:urgent" not in buttons(again)
    resident.press("confirm:send")

    later = ResidentChat(sessions, "5002")
    relaxed = later.room_for("20 december")
    assert "Let op" not in relaxed.text and "confirm:urgent" not in buttons(relaxed)
    later.press("confirm:send")

    with sessions() as session:
        stored = {r.answers["date"]: r for r in session.scalars(select(Request))}
        assert stored["2026-11-24"].urgent and not stored["2026-12-20"].urgent
        admin = accounts.create_user(
            session, "beheer", "correct horse battery", role="admin", departments=[]
        )
        rows, _ = queue(session, admin, QueueFilter(), TODAY)
        assert rows[0].answers["date"] == "2026-11-24"  # urgent first, though due no sooner


def test_status_with_a_reference_shows_only_that_request(sessions: sessionmaker[Session]) -> None:
    resident = ResidentChat(sessions, "5003")
    for day in ("20 december", "21 december"):
        resident.room_for(day)
        resident.press("confirm:send")
    with sessions() as session:
        first, second = sorted(r.reference for r in session.scalars(select(Request)))
    everything = asyncio.run(resident.service.handle(resident.sender, Turn(command="status")))
    assert first in everything[0].text and second in everything[0].text

    one = Turn(command="status", text=second.lower())
    only = asyncio.run(resident.service.handle(resident.sender, one))[0].text
    assert second in only and first not in only

    stranger = Turn(command="status", text="WW-2026-999999")
    unknown = asyncio.run(resident.service.handle(resident.sender, stranger))[0].text
    assert "WW-2026-999999" in unknown and first not in unknown


def test_a_correction_that_changes_only_an_answer_is_saved(
    sessions: sessionmaker[Session],
) -> None:
    """The stored state must not share its dicts with the state the engine changes: a turn
    that only changes an answer (a correction) was compared equal and not written."""
    resident = ResidentChat(sessions, "5004")
    resident.say("Wij zoeken een zaal voor de buurtbingo", ("request_room", 0.95))
    for answer in ("20 december", "14:00", "17:00", "40"):
        resident.say(answer)
    changed = resident.say("sorry, het zijn er 60", ("nlu_fallback", 0.4))
    assert "60" in changed[-1].text
    with sessions() as session:
        resident_id = session.scalar(select(Resident.id).where(Resident.external_id == "5004"))
        state = session.get(Conversation, resident_id)
        assert state is not None and state.state["answers"]["people"] == 60


def test_a_recurring_activity_is_stored_with_its_recurrence(
    sessions: sessionmaker[Session],
) -> None:
    resident = ResidentChat(sessions, "5005")
    first = resident.say(
        "Wij zoeken elke dinsdag vanaf januari een zaal voor de breiclub", ("request_room", 0.95)
    )
    assert "terugkomt (elke dinsdag vanaf januari)" in first[-1].text
    for answer in ("dinsdag 5 januari", "14:00", "17:00", "12", "Oost", "Breien", "Ans de Vries"):
        resident.say(answer)
    resident.say("0612345678")
    summary = resident.press("skip")[-1]
    assert "Herhaling: elke dinsdag vanaf januari" in summary.text
    resident.press("confirm:send")
    with sessions() as session:
        request = session.scalar(select(Request).order_by(Request.id.desc()))
        assert request is not None
        assert request.answers["recurrence"] == "elke dinsdag vanaf januari"
        assert request.answers["date"] == "2027-01-05"


def test_the_default_language_answers_when_nothing_else_tells(
    sessions: sessionmaker[Session],
) -> None:
    """No language from Telegram and a command carries no words: the setting decides."""
    service = ConversationService(
        KnowledgeSource(sessions),
        sessions,
        ScriptedNLU(),  # type: ignore[arg-type]
        today=lambda: TODAY,
        default_language="en",
    )
    english = asyncio.run(service.handle(Sender("telegram", "5101"), Turn(command="start")))
    assert english[0].text.startswith("Hello!")

    service.default_language = "nl"
    dutch = asyncio.run(service.handle(Sender("telegram", "5102"), Turn(command="start")))
    assert dutch[0].text.startswith("Hallo!")


def _outbox_texts(sessions: sessionmaker[Session], chat: str) -> list[str]:
    with sessions() as session:
        rows = session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.stream == outbox.resident_stream("telegram", chat))
            .order_by(OutboxMessage.id)
        )
        return [row.payload["text"] for row in rows]


def test_an_update_is_handled_once_and_its_replies_wait_in_the_outbox(
    sessions: sessionmaker[Session],
) -> None:
    """Telegram delivers an update again after a crash: the second time changes nothing and
    sends nothing, and the first time's replies, buttons included, are in the outbox."""
    chat = ResidentChat(sessions, "5003")
    chat.nlu.answers["zaal voor de bingo"] = rasa("zaal voor de bingo", ("request_room", 0.95))
    opening = Turn(text="zaal voor de bingo")
    first = asyncio.run(
        chat.service.handle(chat.sender, opening, update_id=UpdateId("telegram:1", 700))
    )
    assert first and "datum" in first[-1].text.lower()
    again = asyncio.run(
        chat.service.handle(
            chat.sender, Turn(text="zaal voor de bingo"), update_id=UpdateId("telegram:1", 700)
        )
    )
    assert again == []
    assert _outbox_texts(sessions, "5003") == [reply.text for reply in first]
    # Another bot (a new token) counts its updates from the start: its 700 is a new one.
    chat.nlu.answers["19 december"] = rasa("19 december", UNSURE)
    other_bot = UpdateId("telegram:2", 700)
    assert asyncio.run(
        chat.service.handle(chat.sender, Turn(text="19 december"), update_id=other_bot)
    )
    with sessions() as session:
        assert session.get(ProcessedUpdate, ("telegram:1", 700)) is not None
        opening_logged = session.scalars(
            select(MessageLog.text).where(MessageLog.direction == "in")
        )
        assert list(opening_logged) == ["zaal voor de bingo", "19 december"]


def test_a_message_sent_again_before_its_replies_arrived_is_a_repeat(
    sessions: sessionmaker[Session],
) -> None:
    """After a restart the resident sends "van 19:00 tot 22:00" again because no answer came:
    it is not taken as the answer to the next question (the number of people)."""
    chat = ResidentChat(sessions, "5004")
    for number, (text, ranking) in enumerate(
        [
            ("zaal voor een feest op 12 december", ("request_room", 0.95)),
            ("van 19:00 tot 22:00", UNSURE),
        ]
    ):
        chat.nlu.answers[text] = rasa(text, ranking)
        asyncio.run(
            chat.service.handle(
                chat.sender, Turn(text=text), update_id=UpdateId("telegram:1", 800 + number)
            )
        )
    sent = _outbox_texts(sessions, "5004")
    chat.nlu.answers["van 19:00 tot 22:00"] = rasa("van 19:00 tot 22:00", UNSURE)
    repeat = Turn(text="van 19:00 tot 22:00")
    assert (
        asyncio.run(chat.service.handle(chat.sender, repeat, update_id=UpdateId("telegram:1", 802)))
        == []
    )
    assert _outbox_texts(sessions, "5004") == sent  # nothing new: the replies are on their way
    with sessions() as session:
        state = session.scalar(select(Conversation)).state
        assert state["answers"]["start_time"] == "19:00" and "people" not in state["answers"]
        session.execute(update(OutboxMessage).values(delivered_at=utc_now()))
        session.commit()
    # Once the replies went out, the same text is an answer again (here: not a number).
    replies = asyncio.run(
        chat.service.handle(chat.sender, repeat, update_id=UpdateId("telegram:1", 803))
    )
    assert replies


def test_versturen_on_an_old_summary_sends_nothing(sessions: sessionmaker[Session]) -> None:
    """A summary's buttons belong to that summary: after it was cancelled and a new request
    reached its own summary, the old Versturen (or forged data without a keyboard number)
    has expired and sends nothing; the new summary's Versturen sends the new request."""
    chat = ResidentChat(sessions, "5005")
    old = chat.room_for("20 december")
    old_send = next(b.data for b in _buttons([old]) if b.data.startswith("confirm:send@"))
    chat.press("confirm:cancel")
    chat.room_for("21 december")
    for stale in (old_send, "confirm:send"):
        replies = chat._show(Turn(button=stale))
        assert "eerder moment" in replies[0].text
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Request)) == 0
    chat.press("confirm:send")
    with sessions() as session:
        (request,) = session.scalars(select(Request))
        assert request.answers["date"] == "2026-12-21"


def test_control_characters_are_stripped_before_storage(sessions: sessionmaker[Session]) -> None:
    chat = ResidentChat(sessions, "5006")
    clean = "zaal voor de bingo[31m"
    chat.nlu.answers[clean] = rasa(clean, ("request_room", 0.95))  # the model sees it clean
    chat._show(Turn(text="zaal\x00 voor de\x07 bingo\x1b[31m\x7f"))
    with sessions() as session:
        (said,) = session.scalars(select(MessageLog.text).where(MessageLog.direction == "in"))
        assert said == clean


def test_a_step_sends_its_replies_itself_and_leaves_the_rest_to_the_worker(
    sessions: sessionmaker[Session],
) -> None:
    """Replies go out right after the commit and are marked delivered; when sending fails
    half-way, the replies not sent go back to the delivery worker, due at once."""
    chat = ResidentChat(sessions, "5007")
    sent: list[str] = []

    async def deliver(replies: list[Reply]) -> None:
        if len(sent) >= 1:
            raise ConnectionError("Telegram is unreachable")
        sent.extend(reply.text for reply in replies)

    replies = asyncio.run(
        chat.service.handle(chat.sender, Turn(command="start"), deliver, UpdateId("t:1", 1))
    )
    assert len(replies) == 1 and sent == [replies[0].text]
    chat.nlu.answers["zaal voor de bingo"] = rasa("zaal voor de bingo", ("request_room", 0.95))
    turn = Turn(text="zaal voor de bingo")
    replies = asyncio.run(chat.service.handle(chat.sender, turn, deliver, UpdateId("t:1", 2)))
    with sessions() as session:
        rows = list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    assert rows[0].delivered_at is not None and rows[0].locked_until is None
    assert [row.delivered_at for row in rows[1:]] == [None] * len(replies)
    assert all(row.locked_until is None and row.attempts == 0 for row in rows[1:])

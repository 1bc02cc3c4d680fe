"""Delivery in order per stream: a request's events to one department, the messages to one
chat. An older row that fails and backs off holds back the newer rows of its stream, and
only those; a row given up holds back nothing. Checked on the claim itself, after an outage
with the real worker and real receivers, and on the migration that gives old rows a stream."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import timedelta

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from bot.delivery import outbox
from bot.delivery.worker import DeliveryWorker
from bot.dialogue.turns import Reply
from bot.queue import actions
from bot.storage import repositories as repo
from bot.storage.database import MIGRATIONS, make_engine
from bot.storage.models import Department, OutboxMessage, Request, User, utc_now
from tests.bot.delivery.support import SECRET, eventually, webhook_rows, work_while
from tests.fakes.webhook_receiver import Call, WebhookReceiver
from tests.support import TODAY
from tests.web.world import A, B, World

HOUR = timedelta(hours=1)
# Backing off soon at first, then less often, and never giving up within the test.
RETRY_SECONDS = [0.05, 0.1, 0.2, 0.4, 0.8] + [0.8] * 40


def _claim(
    world: World, *, later: timedelta = timedelta(0), channels: Sequence[str] = ()
) -> list[int]:
    """The ids one claim takes, `later` from now; leased for a day, so they stay taken."""
    with world.sessions.begin() as session:
        rows = outbox.claim(
            session, channels=list(channels), lease_seconds=86400, now=utc_now() + later
        )
        return [row.id for row in rows]


def _delivered(world: World, *ids: int) -> None:
    with world.sessions.begin() as session:
        for message_id in ids:
            row = session.get(OutboxMessage, message_id)
            assert row is not None and row.locked_until is not None
            assert outbox.mark_delivered(session, message_id, row.locked_until)


def _failed(world: World, message_id: int, retry_seconds: Sequence[float] = (3600,)) -> None:
    """A failed attempt: retried in an hour, or given up when no retry is left."""
    with world.sessions.begin() as session:
        row = session.get(OutboxMessage, message_id)
        assert row is not None and row.locked_until is not None
        assert outbox.mark_failed(session, message_id, row.locked_until, "503", retry_seconds)


def _webhook(world: World, request_id: int, department: str, event: str) -> int:
    with world.sessions.begin() as session:
        row = outbox.add_webhook(
            session, request_id=request_id, department_key=department, payload={"event": event}
        )
        session.flush()
        return row.id


def _created(world: World, request_id: int) -> int:
    """The id of the request's 'request.created' row (to department A)."""
    [row] = [r for r in webhook_rows(world.sessions) if r.request_id == request_id]
    return row.id


def test_an_event_backing_off_holds_back_only_the_newer_of_its_request_and_department(
    world: World,
) -> None:
    one, two = (world.add_request(["room"], chat=chat)[0] for chat in ("1", "2"))
    one_a = [_created(world, one), _webhook(world, one, A, "request.status_changed")]
    two_a = [_created(world, two), _webhook(world, two, A, "request.status_changed")]
    one_b = [
        _webhook(world, one, B, "request.created"),
        _webhook(world, one, B, "request.status_changed"),
    ]

    # One claim takes the oldest row of each stream only, never two rows of one.
    assert _claim(world) == sorted([one_a[0], two_a[0], one_b[0]])
    _failed(world, one_a[0])  # request one's event to A backs off for an hour
    _delivered(world, two_a[0], one_b[0])
    # Its newer event to A waits, though due; another request's, another department's go.
    assert _claim(world) == sorted([two_a[1], one_b[1]])
    assert _claim(world, later=HOUR / 2) == []
    assert _claim(world, later=HOUR * 2) == [one_a[0]]  # the retry, still ahead of the next
    _delivered(world, one_a[0])
    assert _claim(world) == [one_a[1]]


def test_a_row_given_up_holds_back_nothing_and_a_resend_takes_its_place_again(
    world: World,
) -> None:
    request_id, _ = world.add_request(["room"], chat="1")
    first = _created(world, request_id)
    second, third = (_webhook(world, request_id, A, e) for e in ("status", "message"))
    assert _claim(world) == [first]
    _failed(world, first, retry_seconds=())  # no retry left: given up
    assert _claim(world) == [second]
    _delivered(world, second)
    with world.sessions.begin() as session:
        outbox.resend(session, first)  # the admin's 'send again': after the second, then
    assert _claim(world) == [first]  # ahead of the third, which waits for it again
    _delivered(world, first)
    assert _claim(world) == [third]


def test_messages_to_one_chat_wait_for_the_older_and_other_chats_do_not(world: World) -> None:
    def message(channel: str, chat: str, text: str) -> int:
        with world.sessions.begin() as session:
            resident = repo.resident_for(session, channel, chat, "nl")
            session.flush()
            row = outbox.add_resident_message(
                session,
                request_id=None,
                resident_id=resident.id,
                channel=channel,
                payload={"chat_id": chat, "text": text},
            )
            session.flush()
            return row.id

    one = [message("telegram", "1", "first"), message("telegram", "1", "second")]
    two = [message("telegram", "2", "first"), message("telegram", "2", "second")]
    terminal = message("terminal", "1", "first")  # chat id 1 of another channel
    channels = ["telegram", "terminal"]

    assert _claim(world, channels=channels) == [one[0], two[0], terminal]
    _failed(world, one[0])
    _delivered(world, two[0], terminal)
    assert _claim(world, channels=channels) == [two[1]]
    assert _claim(world, later=HOUR * 2, channels=channels) == [one[0]]
    _delivered(world, one[0])
    assert _claim(world, channels=channels) == [one[1]]


def test_two_changes_to_one_request_at_once_are_numbered_in_commit_order(
    world: World, database_url: str
) -> None:
    """Two officials change one request at the same moment. The second change's events wait
    for the first one's commit (the request's row lock), so they come after it in the
    stream: the worker never sees a newer event while an older one is still uncommitted."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has one writer at a time; row locks are PostgreSQL's")
    request_id, _ = world.add_request(["room"], chat="1")
    first = world.sessions()
    actions._tell_departments(first, world.request(first, request_id), "request.first")
    done = threading.Event()

    def second_change() -> None:
        with world.sessions.begin() as session:
            actions._tell_departments(session, world.request(session, request_id), "request.second")
        done.set()

    other = threading.Thread(target=second_change)
    other.start()
    try:
        assert not done.wait(0.5), "the second change did not wait for the first one's commit"
        first.commit()
        assert done.wait(10)
    finally:
        first.close()
        other.join()
    events = [
        row.payload["event"] for row in webhook_rows(world.sessions) if row.request_id == request_id
    ]
    assert events[-2:] == ["request.first", "request.second"]


def _migrate(database_url: str, revision: str) -> None:
    engine = make_engine(database_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        if revision == "head":
            command.upgrade(config, revision)
        else:
            command.downgrade(config, revision)
    engine.dispose()


def test_the_migration_gives_rows_written_before_it_the_stream_new_rows_get(
    world: World, database_url: str
) -> None:
    request_id, _ = world.add_request(["room"], chat="7")
    world.add_user("anna", "official", A)
    with world.sessions.begin() as session:
        request, anna = world.request(session, request_id), world.user(session, "anna")
        actions.write_to_resident(session, world.knowledge, request, anna, "Welke dag?")
    with world.sessions() as session:
        before = dict(session.execute(select(OutboxMessage.id, OutboxMessage.stream)).all())
    to_a = f"webhook:{request_id}:{A}"
    assert sorted(before.values()) == ["resident:telegram:7", to_a, to_a]  # created, message
    _migrate(database_url, "0005")  # the schema before streams
    engine = make_engine(database_url)
    assert "stream" not in {column["name"] for column in inspect(engine).get_columns("outbox")}
    engine.dispose()
    _migrate(database_url, "head")
    with world.sessions() as session:
        after = dict(session.execute(select(OutboxMessage.id, OutboxMessage.stream)).all())
    assert after == before


EVENTS = [
    "request.created",
    "request.status_changed",
    "request.message_sent",
    "request.status_changed",
]


@pytest.fixture
def permits(world: World) -> Iterator[WebhookReceiver]:
    """Department B's system: a second receiver."""
    with WebhookReceiver(SECRET) as running:
        with world.sessions.begin() as session:
            department = session.get(Department, B)
            assert department is not None
            department.webhook_url, department.webhook_secret = running.url, SECRET
        yield running


def _arrived(system: WebhookReceiver, stream: list[OutboxMessage]) -> list[str]:
    """What the receiver took in of a stream, de-duplicated on the Idempotency-Key as the
    README asks of receivers: each key once, in the order of its first acceptance."""
    keys = {row.idempotency_key for row in stream}
    return list(dict.fromkeys(call.key for call in system.accepted() if call.key in keys))


def _tried_before_the_older_arrived(calls: list[Call], keys: list[str]) -> list[str]:
    """Keys of a stream (oldest first) sent, even if failing, before the previous key was
    accepted: with the order kept by the claim, none."""
    first = {key: next(i for i, c in enumerate(calls) if c.key == key) for key in keys}
    accepted = {
        key: next(i for i, c in enumerate(calls) if c.key == key and c.answered == 200)
        for key in keys
    }
    return [new for old, new in itertools.pairwise(keys) if first[new] < accepted[old]]


def _check_streams(system: WebhookReceiver, rows: list[OutboxMessage]) -> int:
    """The receiver's contract (README: signed, an Idempotency-Key, receivers de-duplicate on
    it) and the order, for the rows of its department; returns how many streams it had."""
    calls = system.calls()
    assert calls and all(call.signature_valid for call in calls)
    bodies: dict[str, set[bytes]] = {}
    for call in calls:  # every retry of an event is the same call under the same key
        bodies.setdefault(call.key, set()).add(call.body)
    assert all(len(same) == 1 for same in bodies.values())
    # At least once with a key: every event was taken in, and nothing else.
    assert set(system.accepted_keys()) == {row.idempotency_key for row in rows}
    assert set(system.accepted_keys().values()) == {1}  # no crash here: none even twice
    event_of = {call.key: call.payload["event"] for call in system.accepted()}
    request_ids = sorted({row.request_id for row in rows if row.request_id is not None})
    for request_id in request_ids:
        stream = [row for row in rows if row.request_id == request_id]
        keys = [row.idempotency_key for row in stream]
        assert _arrived(system, stream) == keys
        assert [event_of[key] for key in keys] == EVENTS
        assert _tried_before_the_older_arrived(calls, keys) == []
        assert stream[0].attempts >= 5  # the first event really backed off
    return len(request_ids)


def test_after_an_outage_each_request_s_events_arrive_in_order_once_per_key(
    world: World, receiver: WebhookReceiver, permits: WebhookReceiver
) -> None:
    """Department A's system answers 503, B's is down and so is Telegram while events happen.
    The 'created' events have backed off further than the newer events will, which must not
    overtake them. B comes back first and gets all of its events while A's still wait."""
    world.add_user("anna", "official", A, B)
    telegram_down = threading.Event()
    told: list[tuple[str, str]] = []

    async def send(chat_id: str, message: Reply) -> None:
        if telegram_down.is_set():
            raise ConnectionError("Telegram is unreachable")
        told.append((chat_id, message.text))

    worker = DeliveryWorker(world.sessions, retry_seconds=RETRY_SECONDS, poll_seconds=0.05)
    worker.add_channel("telegram", send)
    made = [(["room"], "1"), (["room", "permit"], "2"), (["permit"], "1"), (["room"], "3")]
    request_ids: list[int] = []

    def act(change: Callable[[Session, Request, User], object]) -> None:
        with world.sessions.begin() as session:
            anna = world.user(session, "anna")
            for request_id in request_ids:
                change(session, world.request(session, request_id), anna)

    def status(new: str) -> Callable[[Session, Request, User], object]:
        return lambda s, r, u: actions.change_status(s, world.knowledge, r, u, new, None, TODAY)

    def delivered(department: str | None = None) -> list[bool]:
        rows = _rows(world) if department is None else _rows(world, department)
        return [row.delivered_at is not None for row in rows]

    def script() -> None:
        receiver.mode = "unavailable"
        permits.stop()
        telegram_down.set()
        request_ids.extend(world.add_request(needs, chat=chat)[0] for needs, chat in made)
        # The 'created' events have failed five times: their next try is 0.8 s away.
        eventually(lambda: all(row.attempts >= 5 for row in webhook_rows(world.sessions)))
        act(status("in_behandeling"))
        time.sleep(0.15)
        act(lambda s, r, u: actions.write_to_resident(s, world.knowledge, r, u, "Welke dag?"))
        time.sleep(0.15)
        act(status("afgehandeld"))
        time.sleep(0.3)  # newer events would now be backing off less than the older ones
        permits.start()
        eventually(lambda: all(delivered(B)))
        assert not any(delivered(A))  # A's outage holds back only A's streams
        receiver.mode = "ok"
        telegram_down.clear()
        eventually(lambda: all(delivered()))
        time.sleep(0.3)  # more rounds, which must send nothing more

    work_while(worker, script)
    assert _check_streams(receiver, _rows(world, A)) == 3
    assert _check_streams(permits, _rows(world, B)) == 2
    messages = _rows(world, kind="resident")
    for chat in ("1", "2", "3"):
        written = [m.payload["text"] for m in messages if m.payload["chat_id"] == chat]
        assert len(written) >= 3 and [text for to, text in told if to == chat] == written


def _rows(
    world: World, department: str | None = None, kind: str = "webhook"
) -> list[OutboxMessage]:
    """The outbox rows of a kind (and department), oldest first."""
    query = select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)
    if department is not None:
        query = query.where(OutboxMessage.department_key == department)
    with world.sessions() as session:
        return list(session.scalars(query))

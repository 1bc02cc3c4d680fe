"""Webhook delivery to a department's system, against a real HTTP receiver: retried until the
receiver is back and then delivered exactly once, signed; delivered after the app was killed
mid-delivery; never twice, and each request's events in order, with two app processes on
one database; given up after the last retry and sent again by hand."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text

from bot.delivery import outbox, webhooks
from bot.delivery.worker import DeliveryWorker
from bot.learning.rasa_commands import free_port
from bot.storage.models import OutboxMessage, utc_now
from tests.bot.delivery.support import SECRET, eventually, webhook_rows, work_while
from tests.fakes.webhook_receiver import WebhookReceiver
from tests.processes import cpu_hog, start_wegwijs, stop, wait_until_serving
from tests.web.world import A, World


def test_the_signature_is_hmac_sha256_of_the_body() -> None:
    # RFC 4231, test case 2: an independent check of the signature helper.
    assert webhooks.signature("Jefe", b"what do ya want for nothing?") == (
        "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    )
    body = webhooks.body_of({"event": "request.created", "b": "é", "a": 1})
    assert json.loads(body) == {"event": "request.created", "b": "é", "a": 1}
    expected = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert webhooks.signature(SECRET, body) == f"sha256={expected}"


def test_receiver_down_then_back_gets_it_exactly_once_and_signed(
    world: World, receiver: WebhookReceiver
) -> None:
    request_id, reference = world.add_request(["room"], chat="1", answers={"people": 40})
    [row] = webhook_rows(world.sessions)
    worker = DeliveryWorker(world.sessions, retry_seconds=[0.3] * 30, poll_seconds=0.1)

    def row_now() -> OutboxMessage:
        return next(r for r in webhook_rows(world.sessions) if r.id == row.id)

    def script() -> None:
        receiver.mode = "unavailable"  # 503: in maintenance
        eventually(lambda: "503" in (row_now().last_error or ""))
        receiver.stop()  # nobody listening: connection refused
        eventually(lambda: "ConnectError" in (row_now().last_error or ""))
        failed = row_now()
        assert failed.delivered_at is None and failed.attempts >= 2
        with world.sessions() as session:
            assert [r.id for r in outbox.failing(session)] == [row.id]  # the admins' list
        receiver.mode = "ok"
        receiver.start()
        eventually(lambda: row_now().delivered_at is not None)
        time.sleep(0.5)  # more rounds, which must send nothing more

    work_while(worker, script)
    delivered = row_now()
    assert delivered.last_error is None and delivered.attempts >= 3
    assert receiver.accepted_keys() == {row.idempotency_key: 1}
    [call] = receiver.accepted()
    assert call.signature_valid
    assert call.headers["x-wegwijs-event"] == "request.created"
    assert call.headers["content-type"] == "application/json"
    assert call.payload["idempotency_key"] == row.idempotency_key
    assert call.payload["request"]["id"] == request_id
    assert call.payload["request"]["reference"] == reference
    assert call.payload["request"]["answers"] == {"people": 40}
    failures = [c for c in receiver.calls() if c.answered == 503]
    assert failures and all(c.key == row.idempotency_key for c in failures)  # same key
    with world.sessions() as session:
        assert outbox.failing(session) == []


def test_give_up_after_the_last_retry_then_resend_by_hand(
    world: World, receiver: WebhookReceiver
) -> None:
    world.add_request(["room"], chat="1")
    [row] = webhook_rows(world.sessions)
    worker = DeliveryWorker(world.sessions, retry_seconds=[0.1, 0.1], poll_seconds=0.1)

    def row_now() -> OutboxMessage:
        return webhook_rows(world.sessions)[0]

    def give_up() -> None:
        receiver.mode = "unavailable"
        eventually(lambda: row_now().gave_up_at is not None)
        time.sleep(0.5)

    work_while(worker, give_up)
    given_up = row_now()
    assert given_up.attempts == 3  # the first try and two retries
    assert "503" in (given_up.last_error or "") and given_up.delivered_at is None
    assert len(receiver.calls()) == 3  # nothing after giving up

    receiver.mode = "ok"
    with world.sessions.begin() as session:
        outbox.resend(session, row.id)
    worker = DeliveryWorker(world.sessions, retry_seconds=[0.1, 0.1], poll_seconds=0.1)
    work_while(worker, lambda: eventually(lambda: row_now().delivered_at is not None))
    resent = row_now()
    assert resent.gave_up_at is None and resent.attempts == 1 and resent.last_error is None
    assert receiver.accepted_keys() == {row.idempotency_key: 1}
    assert receiver.accepted()[0].signature_valid


@pytest.fixture
def apps(database_url: str, tmp_path: Path) -> Iterator[Callable[[], subprocess.Popen[bytes]]]:
    """Starts `python -m wegwijs web` (the web app and the delivery worker) as its own
    process, with quick retries and a short lease, and waits until it serves."""
    started: list[subprocess.Popen[bytes]] = []
    log_file = tmp_path / "apps.log"

    def start() -> subprocess.Popen[bytes]:
        port = free_port()
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "DATA_DIR": str(tmp_path),
            "SECRET_KEY": "delivery-test",
            "RASA_URL": f"http://127.0.0.1:{free_port()}",
            "WEB_PORT": str(port),
            "DELIVERY_RETRY_SECONDS": "[1,1,1,2]",
            "DELIVERY_LEASE_SECONDS": "2",
            "DELIVERY_POLL_SECONDS": "0.2",
            # Delivery never masks: without loading deduce the processes start sooner, and
            # nothing holds them busy for seconds past this test's 2-second lease.
            "MASKING_WARM_UP": "false",
        }
        process = start_wegwijs("web", env, log_file)
        started.append(process)
        wait_until_serving(f"http://127.0.0.1:{port}", process, log_file)
        return process

    yield start
    for process in started:
        stop(process)
    assert "Traceback" not in log_file.read_text(), log_file.read_text()


@pytest.mark.process
def test_killed_mid_delivery_is_delivered_after_the_restart(
    world: World, receiver: WebhookReceiver, apps: Callable[[], subprocess.Popen[bytes]]
) -> None:
    receiver.mode = "hang"  # takes the call and never answers
    world.add_request(["room"], chat="1")
    [row] = webhook_rows(world.sessions)
    app = apps()
    receiver.wait_until(lambda: len(receiver.calls()) == 1)
    app.send_signal(signal.SIGKILL)  # mid-delivery, the call still open: like a crash
    app.wait(timeout=10)
    held = webhook_rows(world.sessions)[0]
    assert held.delivered_at is None and held.attempts == 1 and held.locked_until is not None

    receiver.mode = "ok"
    receiver.release()
    apps()  # picks the row up once the dead worker's lease has run out
    receiver.wait_until(lambda: len(receiver.accepted()) == 1)
    eventually(lambda: webhook_rows(world.sessions)[0].delivered_at is not None)
    [first, second] = receiver.calls()
    assert first.key == second.key == row.idempotency_key  # the receiver can de-duplicate
    assert first.body == second.body and second.signature_valid
    assert webhook_rows(world.sessions)[0].attempts == 2


@pytest.mark.process
def test_two_app_processes_never_send_the_same_event_twice(
    world: World,
    receiver: WebhookReceiver,
    apps: Callable[[], subprocess.Popen[bytes]],
) -> None:
    """200 events of 20 requests: the requests' streams go out side by side, each in order."""
    receiver.handle_seconds = 0.02  # a little work per call, so the two senders overlap
    apps()
    apps()
    with cpu_hog():  # exactly once must hold on a busy machine, where leases get tight
        request_ids = [world.add_request(["room"], chat=str(n))[0] for n in range(20)]
        with world.sessions.begin() as session:  # each its 'created' event and 9 more
            for n in range(1, 10):
                for request_id in request_ids:
                    outbox.add_webhook(
                        session, request_id=request_id, department_key=A, payload={"n": n}
                    )
        receiver.wait_until(lambda: len(receiver.accepted()) >= 200, timeout=300)
        time.sleep(3)  # past a lease: a row sent twice would have shown up by now
    keys = receiver.accepted_keys()
    assert len(keys) == 200 and set(keys.values()) == {1}
    rows = webhook_rows(world.sessions)
    assert {r.idempotency_key for r in rows} == set(keys)
    assert all(r.delivered_at is not None and r.attempts == 1 for r in rows)
    arrived = [call.key for call in receiver.accepted()]
    for request_id in request_ids:
        written = [r.idempotency_key for r in rows if r.request_id == request_id]
        assert [key for key in arrived if key in written] == written
    assert receiver.max_in_flight >= 2  # both processes were sending at the same time


def test_a_second_worker_skips_the_rows_the_first_is_claiming(
    world: World, database_url: str
) -> None:
    """The moment the process test can only hit by chance, made certain: while one worker's
    claim is not committed yet, another worker's claim takes the other requests' first rows,
    and no request's second row, whose first one is locked or leased."""
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite has one writer at a time; row locks are PostgreSQL's")
    request_ids = [world.add_request(["room"], chat=str(n))[0] for n in range(30)]
    with world.sessions.begin() as session:
        for request_id in request_ids:
            outbox.add_webhook(session, request_id=request_id, department_key=A, payload={})
    first = world.sessions()
    try:
        with first.begin():
            mine = outbox.claim(first, channels=[], lease_seconds=60, limit=20)
            with world.sessions.begin() as second:
                second.execute(text("SET LOCAL lock_timeout = '5s'"))  # never wait on a row
                theirs = outbox.claim(second, channels=[], lease_seconds=60, limit=20)
            assert len(mine) == 20 and len(theirs) == 10
            claimed = [r.request_id for r in mine + theirs]
            assert sorted(claimed) == sorted(request_ids)  # each request's first row, once
            assert all(r.payload.get("event") == "request.created" for r in mine + theirs)
        with world.sessions.begin() as third:
            assert outbox.claim(third, channels=[], lease_seconds=60) == []  # leased, or next
    finally:
        first.close()


def test_of_two_claims_that_read_the_same_row_only_the_first_takes_it(world: World) -> None:
    """SQLite's SELECT takes no lock: a second claim can read a row as due while the first
    claim's lease on it is not committed yet. Once that commits, the second claim must not
    take the row as well (on PostgreSQL, SKIP LOCKED skips it at once)."""
    world.add_request(["room"], chat="1")
    [row] = webhook_rows(world.sessions)
    with world.sessions() as session:
        engine = session.get_bind()
    first_thread, second_read = threading.get_ident(), threading.Event()

    def on_execute(_connection: object, _cursor: object, statement: str, *_: object) -> None:
        if threading.get_ident() != first_thread and "FROM outbox" in statement:
            second_read.set()

    def second_claim() -> list[int]:
        with world.sessions.begin() as session:
            return [r.id for r in outbox.claim(session, channels=[], lease_seconds=60)]

    event.listen(engine, "after_cursor_execute", on_execute)
    first = world.sessions()
    try:
        with ThreadPoolExecutor(1) as pool, first.begin():
            mine = [r.id for r in outbox.claim(first, channels=[], lease_seconds=60)]
            theirs = pool.submit(second_claim)
            assert second_read.wait(10)  # it has read the row as due
            time.sleep(0.2)  # on SQLite: its write now waits for the first claim's commit
    finally:
        first.close()
        event.remove(engine, "after_cursor_execute", on_execute)
    assert mine == [row.id] and theirs.result() == []
    assert webhook_rows(world.sessions)[0].attempts == 1


async def _run_once(worker: DeliveryWorker) -> int:
    try:
        return await worker.run_once()
    finally:
        await worker._http.aclose()


def test_a_worker_whose_lease_ran_out_while_claiming_sends_nothing(
    world: World, receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A claim that commits late (waiting for SQLite's write lock on a busy machine) has spent
    the lease before its worker sends; by then another worker has taken the row over and
    sent it. The late worker must not send it a second time."""
    world.add_request(["room"], chat="1")
    [row] = webhook_rows(world.sessions)
    late = DeliveryWorker(world.sessions, lease_seconds=0.5)
    other = DeliveryWorker(world.sessions, lease_seconds=0.5)
    claimed, taken_over = threading.Event(), threading.Event()
    claim = late._claim

    def slow_claim() -> list[Any]:
        jobs = claim()
        claimed.set()
        assert taken_over.wait(10)
        return jobs

    monkeypatch.setattr(late, "_claim", slow_claim)

    async def scenario() -> None:
        late_round = asyncio.create_task(_run_once(late))
        await asyncio.to_thread(claimed.wait, 10)
        await asyncio.sleep(0.6)  # the late worker's lease runs out
        assert await _run_once(other) == 1
        taken_over.set()
        assert await late_round == 1

    asyncio.run(scenario())
    assert receiver.accepted_keys() == {row.idempotency_key: 1}
    [after] = webhook_rows(world.sessions)
    assert after.delivered_at is not None and after.attempts == 2


def test_a_worker_that_lost_its_row_before_sending_leaves_it_alone(
    world: World, receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever held a worker up between its claim and its send beyond the lease (a stall
    its clock did not see, another host's clock running ahead), once another worker has taken
    the row over, the first one's renewal misses: it neither sends nor records anything."""
    world.add_request(["room"], chat="1")
    [row] = webhook_rows(world.sessions)
    worker = DeliveryWorker(world.sessions, lease_seconds=60)
    claim = worker._claim
    theirs: list[OutboxMessage] = []

    def claim_then_lose_the_row() -> list[Any]:
        jobs = claim()
        with world.sessions.begin() as session:  # another worker, a lease later
            later = utc_now() + timedelta(seconds=61)
            theirs.extend(outbox.claim(session, channels=[], lease_seconds=60, now=later))
        return jobs

    monkeypatch.setattr(worker, "_claim", claim_then_lose_the_row)
    assert asyncio.run(_run_once(worker)) == 1
    assert receiver.calls() == []
    [after] = webhook_rows(world.sessions)
    assert [r.id for r in theirs] == [row.id] and after.locked_until == theirs[0].locked_until
    assert after.delivered_at is None and after.last_error is None and after.attempts == 2

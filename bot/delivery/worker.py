"""The delivery worker: takes due outbox rows and sends them, until told to stop.

Messages to residents go through the channel that knows them (Telegram, or the terminal chat
in this process); webhook calls go to the department's URL. A failure is recorded with its
reason and retried later; a worker that dies mid-delivery leaves a lease that runs out, after
which any worker sends the row again (receivers de-duplicate on the idempotency key).

A live worker sends a row only within its lease: it renews the lease just before sending
(which fails if another worker has taken the row over), bounds the send by that lease, and
records the outcome only while the row is still its own (see outbox: the lease is the
fencing token). A claimed batch holds at most one row per stream (outbox.claim), so the
rows of a batch are independent: one failing holds back only the newer rows of its own
stream, which were not claimed. The rows are sent one after the other: a conversation step
sends its own replies (bot.conversation), so the worker has only what could not go at once."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

import httpx
from sqlalchemy.orm import Session, sessionmaker

from bot.delivery import outbox, webhooks
from bot.dialogue.turns import Reply
from bot.storage import repositories as repo
from bot.storage.models import Department, OutboxMessage, utc_now

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 30  # how often the worker tells /healthz it is alive

# Sends one message, with its buttons if any, to one resident of a channel: (chat id, reply).
ResidentSender = Callable[[str, Reply], Awaitable[None]]


@dataclass(frozen=True)
class _Job:
    id: int
    kind: str
    channel: str | None
    key: str
    payload: dict
    url: str | None
    secret: str | None
    leased_until: datetime  # this worker's lease, and the token its writes to the row match


class DeliveryWorker:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        retry_seconds: Sequence[float] = outbox.DEFAULT_RETRY_SECONDS,
        lease_seconds: float = 60.0,
        poll_seconds: float = 1.0,
        webhook_timeout_seconds: float = 10.0,
    ) -> None:
        self.sessions = sessions
        self.retry_seconds = tuple(retry_seconds)
        self.lease_seconds = lease_seconds
        self.poll_seconds = poll_seconds
        self.senders: dict[str, ResidentSender] = {}
        self._http = httpx.AsyncClient(timeout=webhook_timeout_seconds)
        self._wake = asyncio.Event()
        self._last_beat = float("-inf")
        self._loop: asyncio.AbstractEventLoop | None = None

    def add_channel(self, channel: str, sender: ResidentSender) -> None:
        """Let this worker deliver residents' messages of `channel`."""
        self.senders[channel] = sender

    def wake(self) -> None:
        """Look at the outbox now instead of at the next poll. Safe from any thread: the web
        app's routes run in a thread pool, and an asyncio.Event is not thread-safe."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._wake.set)

    async def run(self, stop: asyncio.Event) -> None:
        log.info("delivery worker started (channels: %s)", ", ".join(self.senders) or "none")
        self._loop = asyncio.get_running_loop()
        try:
            while not stop.is_set():
                # Cleared before the round, so a wake during the round (a change committed
                # after this round's claim) starts another round at once.
                self._wake.clear()
                try:
                    sent = await self.run_once()
                except Exception:  # a database hiccup must not end delivery for good
                    log.exception("delivery round failed")
                    sent = 0
                if sent:
                    continue
                waiters = [asyncio.ensure_future(e.wait()) for e in (stop, self._wake)]
                await asyncio.wait(
                    waiters, timeout=self.poll_seconds, return_when="FIRST_COMPLETED"
                )
                for waiter in waiters:
                    waiter.cancel()
        finally:
            await self._http.aclose()

    async def run_once(self) -> int:
        """Deliver what is due now; return how many were claimed."""
        # The budget starts before the claim: waiting for the database's write lock (SQLite
        # has one writer) spends the lease. Past half of it, leave the rest to other workers.
        started = time.monotonic()
        jobs = await asyncio.to_thread(self._claim)
        for index, job in enumerate(jobs):
            if time.monotonic() > started + self.lease_seconds / 2:
                await asyncio.to_thread(self._release, jobs[index:])
                break
            await self._send(job)
        return len(jobs)

    async def _send(self, claimed: _Job) -> None:
        """Renew the lease, send within it, record the outcome. A worker that stalled (a slow
        commit, a busy machine) may have lost the row to another worker once its lease ran
        out: the renewal then misses, and this worker leaves the row alone."""
        renewing = time.monotonic()
        job = await asyncio.to_thread(self._renew, claimed)
        if job is None:
            log.info("delivery %s (%s) was taken over by another worker", claimed.id, claimed.kind)
            return
        # The renewed lease lasts at least until renewing + lease_seconds. The send must end
        # by three quarters of that, which leaves the last quarter to record the outcome.
        left = renewing + self.lease_seconds * 0.75 - time.monotonic()
        if left < self.lease_seconds / 4:  # the renewal itself took too long
            await asyncio.to_thread(self._release, [job])
            return
        error: str | None = None
        deadline = asyncio.timeout(left)
        try:
            async with deadline:
                await self._deliver(job)
        except Exception as failure:
            error = (
                "TimeoutError: not sent within the lease"
                if deadline.expired()
                else f"{type(failure).__name__}: {failure}"
            )
            log.warning("delivery %s (%s) failed: %s", job.id, job.kind, error)
        if not await asyncio.to_thread(self._finish, job, error):
            log.warning("delivery %s: lease lost before the outcome was recorded", job.id)

    def _claim(self) -> list[_Job]:
        with self.sessions.begin() as session:
            if time.monotonic() - self._last_beat > HEARTBEAT_SECONDS:
                repo.beat(session, "delivery")
                self._last_beat = time.monotonic()
            rows = outbox.claim(
                session, channels=list(self.senders), lease_seconds=self.lease_seconds
            )
            return [self._job(session, row) for row in rows]

    @staticmethod
    def _job(session: Session, row: OutboxMessage) -> _Job:
        department = session.get(Department, row.department_key) if row.department_key else None
        return _Job(
            id=row.id,
            kind=row.kind,
            channel=row.channel,
            key=row.idempotency_key,
            payload=dict(row.payload),
            url=department.webhook_url if department else None,
            secret=department.webhook_secret if department else None,
            leased_until=row.locked_until or utc_now(),
        )

    async def _deliver(self, job: _Job) -> None:
        if job.kind == "resident":
            sender = self.senders[job.channel or ""]
            await sender(str(job.payload["chat_id"]), outbox.reply_of(job.payload))
        elif job.url:
            await webhooks.post(self._http, job.url, job.secret, job.payload, job.key)
        # A department whose webhook was removed meanwhile: the queue is the delivery.

    def _renew(self, job: _Job) -> _Job | None:
        with self.sessions.begin() as session:
            until = outbox.renew(session, job.id, job.leased_until, self.lease_seconds)
        return None if until is None else replace(job, leased_until=until)

    def _release(self, jobs: list[_Job]) -> None:
        with self.sessions.begin() as session:
            for job in jobs:
                outbox.release(session, job.id, job.leased_until)

    def _finish(self, job: _Job, error: str | None) -> bool:
        """Record the outcome; False if the row is no longer this worker's."""
        with self.sessions.begin() as session:
            if error is None:
                return outbox.mark_delivered(session, job.id, job.leased_until)
            return outbox.mark_failed(session, job.id, job.leased_until, error, self.retry_seconds)

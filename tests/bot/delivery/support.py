"""Helpers for the delivery tests: the outbox's webhook rows, waiting for a condition, and
running the real worker while a script acts (kept out of conftest.py: test modules import
them)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.delivery.worker import DeliveryWorker
from bot.storage.models import OutboxMessage

SECRET = "department-secret"


def webhook_rows(sessions: sessionmaker[Session]) -> list[OutboxMessage]:
    """The webhook rows, oldest first."""
    with sessions() as session:
        return list(
            session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.kind == "webhook")
                .order_by(OutboxMessage.id)
            )
        )


def eventually(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def work_while(worker: DeliveryWorker, script: Callable[[], None]) -> None:
    """Run the worker's own loop (polling, retries, one HTTP client) while `script` acts
    and checks, in a thread, as a person at the receiver's end would."""

    async def run() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run(stop))
        try:
            await asyncio.to_thread(script)
        finally:
            stop.set()
            await task

    asyncio.run(run())

"""Running the long-lived parts together in one event loop: the web app, the delivery worker
and a channel (the Telegram bot, or the terminal chat)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from collections.abc import AsyncIterator, Awaitable, Callable

import uvicorn
from sqlalchemy.orm import Session, sessionmaker

from bot.conversation import ConversationService
from bot.delivery.worker import DeliveryWorker
from bot.learning import masking
from bot.settings import Settings
from bot.storage import repositories as repo
from web.app import create_app
from web.context import AppContext

log = logging.getLogger(__name__)
HEARTBEAT_SECONDS = 30
# At a stop, how long messages on their way to the NLU inbox may still take to be stored.
INBOX_STOP_SECONDS = 10


async def serve(
    settings: Settings,
    service: ConversationService,
    *,
    web: bool,
    channel: Callable[[DeliveryWorker, asyncio.Event], Awaitable[None]] | None,
) -> None:
    """Run until the channel ends (the chat was closed) or SIGINT/SIGTERM arrives."""
    # Masking for the NLU inbox (the bot's unsure messages, an official's re-routing) needs
    # deduce, which takes seconds to load: load it beside the start, not at the first use.
    if settings.masking_warm_up:
        threading.Thread(target=masking.warm_up, name="masking-warm-up", daemon=True).start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    worker = DeliveryWorker(
        service.sessions,
        retry_seconds=settings.delivery_retry_seconds,
        lease_seconds=settings.delivery_lease_seconds,
        poll_seconds=settings.delivery_poll_seconds,
    )
    tasks = [asyncio.create_task(worker.run(stop), name="delivery")]
    server = None
    if web:
        context = AppContext(
            settings,
            service.knowledge_source,
            service.sessions,
            service.nlu,
            wake_delivery=worker.wake,
        )
        server = uvicorn.Server(
            uvicorn.Config(
                create_app(context),
                host=settings.web_host,
                port=settings.web_port,
                log_level="warning",
                proxy_headers=True,
            )
        )
        server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
        tasks.append(asyncio.create_task(server.serve(), name="web"))
    if channel is not None:
        tasks.append(asyncio.create_task(_until_done(channel(worker, stop), stop), name="channel"))
    try:
        await stop.wait()
    finally:
        if server is not None:
            server.should_exit = True
        await asyncio.gather(*tasks, return_exceptions=True)
        if service.inbox is not None:
            await asyncio.to_thread(service.inbox.wait, INBOX_STOP_SECONDS)


async def _until_done(channel: Awaitable[None], stop: asyncio.Event) -> None:
    try:
        await channel
    finally:
        stop.set()


@contextlib.asynccontextmanager
async def heartbeat(
    sessions: sessionmaker[Session], name: str, detail: str, stop: asyncio.Event
) -> AsyncIterator[None]:
    """While the block runs, tell /healthz every half minute that `name` is alive."""

    def beat() -> None:
        with sessions.begin() as session:
            repo.beat(session, name, detail)

    async def keep_beating() -> None:
        while not stop.is_set():
            try:
                await asyncio.to_thread(beat)
            except Exception:  # the health page will show the silence
                log.warning("could not write the %s heartbeat", name, exc_info=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), HEARTBEAT_SECONDS)

    task = asyncio.create_task(keep_beating())
    try:
        yield
    finally:
        task.cancel()

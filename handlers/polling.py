"""Long polling that acknowledges updates to Telegram only after the steps they caused
committed.

python-telegram-bot's Updater asks for the next updates, which tells Telegram the earlier
ones arrived, while those are still being handled: a crash then loses them. Here the offset
moves past a batch only once all of it was handled. A crash makes Telegram deliver the batch
again, and the steps that had committed are recognised by their update id
(bot.conversation), so each update is handled once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application

log = logging.getLogger(__name__)

# After a failed getUpdates (Telegram unreachable, a conflict), wait this long, then longer.
RETRY_SECONDS = (1.0, 2.0, 5.0, 10.0, 30.0)


async def poll(application: Application, stop: asyncio.Event, timeout: int = 10) -> None:
    """Fetch and handle updates until `stop` is set; a batch being handled is finished."""
    bot = application.bot
    await bot.delete_webhook()  # getUpdates is refused while a webhook is set
    offset: int | None = None
    failures = 0
    while not stop.is_set():
        fetch = asyncio.ensure_future(
            bot.get_updates(offset=offset, timeout=timeout, allowed_updates=Update.ALL_TYPES)
        )
        stopping = asyncio.ensure_future(stop.wait())
        await asyncio.wait({fetch, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if not fetch.done():  # stopped while waiting: nothing fetched, nothing to finish
            fetch.cancel()
            break
        try:
            updates = fetch.result()
        except TelegramError as error:
            pause = RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)]
            failures += 1
            log.warning("getUpdates failed (%s); trying again in %.0f s", error, pause)
            await _sleep(pause, stop)
            continue
        failures = 0
        if updates:
            await handle_batch(application, updates)
            offset = updates[-1].update_id + 1


async def handle_batch(application: Application, updates: list[Update]) -> None:
    """Handle the updates of one batch: each chat's in order, different chats at once."""
    by_chat: defaultdict[int | None, list[Update]] = defaultdict(list)
    for update in updates:
        by_chat[update.effective_chat.id if update.effective_chat else None].append(update)

    async def in_order(chat_updates: list[Update]) -> None:
        for update in chat_updates:
            await application.process_update(update)  # errors go to the error handler

    await asyncio.gather(*(in_order(chat_updates) for chat_updates in by_chat.values()))


async def _sleep(seconds: float, stop: asyncio.Event) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)

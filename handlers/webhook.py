"""Telegram's webhook mode: an update is answered 200 only after the step it caused has
committed. Telegram sends an update again until it gets a 200, so a crash or an error before
the commit loses nothing; and the bot can run as several identical processes behind a load
balancer, with each chat kept in order by its conversation row's lock in PostgreSQL."""

from __future__ import annotations

import hmac

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from telegram import Update
from telegram.ext import Application

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Update ids whose handling failed; the error handler (handlers.telegram) adds them.
FAILED = "failed_updates"


def webhook_app(application: Application, secret: str) -> Starlette:
    """The endpoint Telegram posts updates to, at /telegram."""
    application.bot_data.setdefault(FAILED, set())

    async def receive(request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "")
        if secret and not hmac.compare_digest(given.encode(), secret.encode()):
            return Response(status_code=403)
        try:
            update = Update.de_json(await request.json(), application.bot)
        except (ValueError, KeyError, TypeError):  # not an update: Telegram never sends that
            return Response(status_code=400)
        if update is None:
            return Response(status_code=400)
        await application.process_update(update)  # a failure goes to the error handler
        if update.update_id in application.bot_data[FAILED]:
            application.bot_data[FAILED].discard(update.update_id)
            return Response(status_code=500)  # Telegram tries again later
        return Response(status_code=200)

    return Starlette(routes=[Route("/telegram", receive, methods=["POST"])])

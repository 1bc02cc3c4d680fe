"""GET /healthz: is the database reachable, is Rasa up, are the bot and the delivery worker
alive?"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import select, text

from bot.storage.models import Heartbeat, utc_now
from web.context import AppContext
from web.schemas import Health
from web.security import Context

router = APIRouter(tags=["health"])
SILENT_AFTER = timedelta(seconds=90)  # three missed heartbeats


@router.get(
    "/healthz",
    summary="Health of the database, Rasa, the bot and the delivery worker",
    responses={
        200: {
            "model": Health,
            "description": "The app serves; `degraded` if Rasa or the bot is down.",
        },
        503: {"model": Health, "description": "The database cannot be reached."},
    },
)
async def healthz(context: Context) -> JSONResponse:
    """No token needed, for load balancers and container health checks. Rasa or the bot
    being down is degraded service (200); only a database that cannot be reached is 503."""
    checks: dict[str, dict[str, str]] = {}
    try:
        # In a thread: a database that hangs must not stall the event loop with it.
        beats = await asyncio.to_thread(_heartbeats, context)
        checks["database"] = {"status": "ok"}
    except Exception as error:  # any database failure makes the app unhealthy
        checks["database"] = {"status": "down", "detail": type(error).__name__}
        beats = {}
    if await context.nlu.is_ready():
        checks["rasa"] = {"status": "ok"}
    else:
        checks["rasa"] = {"status": "down", "detail": f"no model served at {context.nlu.url}"}
    for name in ("bot", "delivery"):
        checks[name] = _alive(beats.get(name), name)
    # Rasa or the bot being down is degraded service; the app itself answers as long as the
    # database does, because the bot keeps working without Rasa.
    healthy = checks["database"]["status"] == "ok"
    overall = "ok" if all(c["status"] == "ok" for c in checks.values()) else "degraded"
    return JSONResponse(
        {"status": overall if healthy else "down", "checks": checks},
        status_code=200 if healthy else 503,
    )


def _heartbeats(context: AppContext) -> dict[str, Heartbeat]:
    with context.sessions() as session:
        session.execute(text("SELECT 1"))
        return {beat.name: beat for beat in session.scalars(select(Heartbeat))}


def _alive(beat: Heartbeat | None, name: str) -> dict[str, str]:
    if beat is None:
        return {"status": "down", "detail": f"the {name} has not reported yet"}
    if utc_now() - beat.seen_at > SILENT_AFTER:
        return {"status": "down", "detail": f"last seen {beat.seen_at.isoformat()}"}
    return {"status": "ok", "detail": beat.detail or ""}

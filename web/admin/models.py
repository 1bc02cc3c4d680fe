"""Training and models: retrain in the background with a visible progress bar, see how the
new model compares with the live one on the blind set, take a rejected model into use
anyway, and roll back to the previous model with one click."""

from __future__ import annotations

import logging
import threading
from typing import Any

import httpx
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.learning import retraining
from bot.settings import Settings
from bot.storage.knowledge_tables import NluModel
from bot.storage.models import User
from web.admin.api import ADMIN_RESPONSES
from web.admin.common import page
from web.common import flash
from web.context import AppContext
from web.schemas import Problem
from web.security import DB, AdminApiUser, AdminUser, Context, CsrfChecked

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/admin/nlu", tags=["admin"], responses=ADMIN_RESPONSES)
STATUS_LABELS = {
    "running": "Bezig",
    "failed": "Mislukt",
    "rejected": "Niet in gebruik genomen",
    "ready": "Bewaard",
    "live": "In gebruik",
}
HISTORY = 30


@router.get("/admin/models", response_class=HTMLResponse)
def models_page(request: Request, session: DB, context: Context, user: AdminUser) -> HTMLResponse:
    runs = list(session.scalars(select(NluModel).order_by(NluModel.id.desc()).limit(HISTORY)))
    live = retraining.live_model(session)
    running = next((run for run in runs if run.running), None)
    previous = retraining.rollback_target(context.settings, session)
    return page(
        request,
        "admin/models.html",
        user,
        runs=runs,
        live=live,
        running=running,
        previous=previous,
        labels=STATUS_LABELS,
        comparison=_comparison(runs, live),
        has_file={run.id: retraining.model_file(context.settings, run) is not None for run in runs},
    )


@router.get("/admin/models/progress")
def progress(session: DB, user: AdminUser) -> JSONResponse:
    """What the progress bar polls while a training runs."""
    run = session.scalar(select(NluModel).order_by(NluModel.id.desc()).limit(1))
    return JSONResponse(_progress(run) if run else {})


@router.post("/admin/models/train", dependencies=[CsrfChecked])
def train(request: Request, context: Context, user: AdminUser) -> RedirectResponse:
    try:
        _start_training(context.settings, context.sessions, user)
    except retraining.TrainingBusy as error:
        flash(request, str(error))
    else:
        flash(
            request,
            "De training is gestart. Dit duurt een paar minuten; de balk toont de voortgang.",
        )
    return RedirectResponse("/admin/models", status_code=303)


@router.post("/admin/models/{model_id}/activate", dependencies=[CsrfChecked])
def activate(
    request: Request, model_id: int, session: DB, context: Context, user: AdminUser
) -> RedirectResponse:
    """Take a kept or rejected model into use (the override, or a rollback)."""
    model = session.get(NluModel, model_id)
    if model is None or retraining.model_file(context.settings, model) is None:
        flash(request, "Dat model bestaat niet (meer).")
        return RedirectResponse("/admin/models", status_code=303)
    action = "rolled back" if model.activated_at else "activated"
    _swap_in_background(context, model_id, user, action)
    flash(request, f"Model {model.file_name} wordt in gebruik genomen; dat duurt tot een minuut.")
    return RedirectResponse("/admin/models", status_code=303)


@router.post("/admin/models/rollback", dependencies=[CsrfChecked])
def rollback(request: Request, session: DB, context: Context, user: AdminUser) -> RedirectResponse:
    target = retraining.rollback_target(context.settings, session)
    if target is None:
        flash(request, "Er is geen eerder model om naar terug te gaan.")
    else:
        _swap_in_background(context, target.id, user, "rolled back")
        flash(request, f"Terug naar {target.file_name}; dat duurt tot een minuut.")
    return RedirectResponse("/admin/models", status_code=303)


# -- the admin API ----------------------------------------------------------------------------


class TrainingRun(BaseModel):
    id: int
    status: str
    phase: str
    progress: int
    intent_f1: float | None
    baseline_intent_f1: float | None
    error: str | None


@api.post(
    "/train",
    status_code=202,
    summary="Retrain the NLU model",
    responses={409: {"model": Problem, "description": "Another training is running."}},
)
def api_train(context: Context, user: AdminApiUser) -> TrainingRun:
    """Start a training run in the background, from the knowledge in the database: it is
    validated, trained, tested on the blind set and swapped in only if intent F1 does not
    drop. Follow it with GET /api/admin/nlu/runs/{run_id}."""
    try:
        run_id = _start_training(context.settings, context.sessions, user)
    except retraining.TrainingBusy as error:
        raise HTTPException(409, str(error)) from error
    return api_run(run_id, context, user)


@api.get(
    "/runs/{run_id}",
    summary="One training run",
    responses={404: {"model": Problem, "description": "No such run."}},
)
def api_run(run_id: int, context: Context, user: AdminApiUser) -> TrainingRun:
    """Its status (running, failed, rejected, ready, live), phase, progress in percent, the
    blind-set intent F1 beside the live model's, and what went wrong, if anything."""
    with context.sessions() as session:
        run = session.get(NluModel, run_id)
        if run is None:
            raise HTTPException(404, "No such training run.")
        return TrainingRun.model_validate(_progress(run))


# -- helpers ----------------------------------------------------------------------------------


def _start_training(settings: Settings, sessions: sessionmaker[Session], user: User) -> int:
    run_id = retraining.start(sessions, user.username)
    retraining.run_in_background(settings, sessions, run_id)
    return run_id


def _swap_in_background(context: AppContext, model_id: int, user: User, action: str) -> None:
    """PUT /model holds Rasa for up to a minute; the page need not wait for it."""

    def swap() -> None:
        try:
            retraining.activate(
                context.settings, context.sessions, model_id, actor=user.username, action=action
            )
        except (retraining.TrainingFailed, httpx.HTTPError) as error:
            log.warning("could not activate model %s: %s", model_id, error)

    threading.Thread(target=swap, name=f"activate-{model_id}", daemon=True).start()


def _progress(run: NluModel) -> dict[str, Any]:
    return {
        "id": run.id,
        "status": run.status,
        "phase": run.phase,
        "progress": run.progress,
        "intent_f1": run.intent_f1,
        "baseline_intent_f1": run.baseline_intent_f1,
        "error": run.error,
    }


def _comparison(
    runs: list[NluModel], live: NluModel | None
) -> list[tuple[str, float | None, float | None]]:
    """Per intent: the latest finished run's blind-set F1 beside the live model's, worst
    differences first, so an admin sees what a rejected model got wrong."""
    latest = next(
        (r for r in runs if r.status in ("rejected", "live", "ready") and r.intent_scores), None
    )
    if latest is None or live is None or latest.id == live.id:
        return []
    intents = sorted(set(latest.intent_scores) | set(live.intent_scores))
    rows = [(i, latest.intent_scores.get(i), live.intent_scores.get(i)) for i in intents]
    return sorted(rows, key=lambda row: (row[1] or 0) - (row[2] or 0))

"""Retraining without downtime and without regressions.

One run: check the knowledge → write the Rasa project → `rasa data validate` → train (or
reuse the model for exactly this data) → evaluate on the blind set (a temporary second Rasa
server parses it) → swap it in with Rasa's `PUT /model` only when intent F1 does not drop.
Every step is written to the run's NluModel row, so the admin page shows the progress
whichever process trains. The unique `running` column lets one run happen at a time; older
models stay for a rollback.
"""

from __future__ import annotations

import logging
import shutil
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.knowledge import store
from bot.learning import evaluation, rasa_commands, training_data
from bot.settings import Settings
from bot.storage.knowledge_tables import NluModel
from bot.storage.models import utc_now

log = logging.getLogger(__name__)
# A run whose row was not touched for this long died with its process.
STALE_AFTER = timedelta(minutes=20)
SWAP_TIMEOUT_SECONDS = 600
# The phase of a model while Rasa loads it; the bot's Rasa client waits patiently then.
SWAP_PHASE = "Model wisselen (PUT /model)"


class TrainingBusy(RuntimeError):
    """Another training is running; the message says since when."""


class TrainingFailed(RuntimeError):
    """The run stopped; the message is for the admin."""


# -- the models -----------------------------------------------------------------------------


def live_model(session: Session) -> NluModel | None:
    return session.scalar(select(NluModel).where(NluModel.status == "live"))


def model_file(settings: Settings, model: NluModel) -> Path | None:
    if not model.file_name:
        return None
    path = settings.rasa_model_dir / model.file_name
    return path if path.exists() else None


def rollback_target(settings: Settings, session: Session) -> NluModel | None:
    """The model that was live before the current one, if its file is still there."""
    candidates = session.scalars(
        select(NluModel)
        .where(NluModel.status == "ready", NluModel.activated_at.is_not(None))
        .order_by(NluModel.activated_at.desc())
    )
    return next((m for m in candidates if model_file(settings, m)), None)


def model_to_serve(settings: Settings, sessions: sessionmaker[Session]) -> Path:
    """The live model's file for starting Rasa. On a first start (or when its file is
    gone) it is the model of the knowledge now in the database, trained if needed."""
    with sessions.begin() as session:
        live = live_model(session)
        if live is not None and (path := model_file(settings, live)):
            return path
        bundle = store.read(session)
    directory = settings.data_dir / "training" / "start"
    hash_ = training_data.render(bundle, settings, directory)
    path = training_data.model_path(settings, hash_)
    if not path.exists():
        print("Training the NLU model for the first time (a few minutes)...", flush=True)
        rasa_commands.train(settings, directory, path)
    with sessions.begin() as session:
        session.execute(update(NluModel).where(NluModel.status == "live").values(status="ready"))
        session.add(
            NluModel(
                status="live",
                phase="In gebruik",
                progress=100,
                file_name=path.name,
                data_hash=hash_,
                started_by="wegwijs",
                finished_at=utc_now(),
                activated_at=utc_now(),
            )
        )
    return path


# -- one training run -----------------------------------------------------------------------


def start(sessions: sessionmaker[Session], actor: str) -> int:
    """Claim the one training slot and return the run's id; TrainingBusy if it is taken."""
    with sessions.begin() as session:
        session.execute(
            update(NluModel)
            .where(NluModel.running.is_not(None), NluModel.updated_at < utc_now() - STALE_AFTER)
            .values(running=None, status="failed", error="Het proces stopte tijdens de training.")
        )
    try:
        with sessions.begin() as session:
            run = NluModel(status="running", running="yes", phase="Wacht", started_by=actor)
            session.add(run)
            session.flush()
            return run.id
    except IntegrityError:
        with sessions() as session:
            busy = session.scalar(select(NluModel).where(NluModel.running.is_not(None)))
        since = busy.started_at.astimezone().strftime("%H:%M") if busy else "zojuist"
        who = busy.started_by if busy else "iemand anders"
        raise TrainingBusy(f"Er loopt al een training (gestart om {since} door {who}).") from None


class Run:
    """Carries out a claimed run; `execute` never raises, the row tells how it ended."""

    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session],
        run_id: int,
        *,
        accept_worse: bool = False,
        on_progress: Callable[[str, int], None] | None = None,
    ) -> None:
        self.settings, self.sessions, self.id = settings, sessions, run_id
        self.accept_worse = accept_worse
        self.on_progress = on_progress
        self.directory = settings.data_dir / "training" / f"run-{run_id}"

    def execute(self) -> None:
        try:
            self._steps()
        except (TrainingFailed, rasa_commands.RasaFailed, httpx.HTTPError) as error:
            self._finish("failed", "Mislukt", error=_readable(error))
        except Exception as error:  # the admin must see that it stopped, and why
            log.exception("training run %s failed", self.id)
            self._finish("failed", "Mislukt", error=f"Onverwachte fout: {error}")
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)

    def _steps(self) -> None:
        self._progress("Kennis controleren", 2)
        with self.sessions() as session:
            bundle = store.read(session)
        if found := training_data.problems(bundle):
            raise TrainingFailed("\n".join(found))
        hash_ = training_data.render(bundle, self.settings, self.directory)
        model = training_data.model_path(self.settings, hash_)
        self._progress("Trainingsdata valideren (rasa data validate)", 5)
        try:
            rasa_commands.validate(self.settings, self.directory)
        except rasa_commands.RasaFailed as error:
            raise TrainingFailed(
                "rasa data validate vond fouten in de trainingsdata:\n" + _findings(str(error))
            ) from error
        if model.exists():
            self._progress("Er is al een model voor precies deze gegevens", 80)
        else:
            self._progress("Trainen", 10)
            rasa_commands.train(
                self.settings,
                self.directory,
                model,
                lambda epoch, epochs: self._progress(
                    f"Trainen: ronde {epoch} van {epochs}", 10 + 70 * epoch // epochs
                ),
            )
        self._update(file_name=model.name, data_hash=hash_)
        self._progress("Nieuw model testen op de blinde testset", 82)
        scores, per_intent = self._evaluate(model, "new")
        baseline = self._baseline()
        self._update(
            intent_f1=scores.get("intent_f1"),
            entity_f1=scores.get("entity_f1"),
            baseline_intent_f1=baseline,
            intent_scores=per_intent,
        )
        new_f1 = scores.get("intent_f1", 0.0)
        worse = baseline is not None and new_f1 < baseline - self.settings.nlu_max_f1_drop
        if worse and not self.accept_worse:
            self._finish(
                "rejected",
                f"Niet in gebruik genomen: intent-F1 {new_f1:.3f} is lager dan "
                f"{baseline:.3f} van het huidige model",
            )
            return
        self._progress(SWAP_PHASE, 95)
        with self.sessions() as session:
            run = session.get(NluModel, self.id)
            actor = run.started_by if run else "training"
        activate(self.settings, self.sessions, self.id, actor=actor)

    def _evaluate(self, model: Path, name: str) -> tuple[dict[str, float], dict[str, float]]:
        """Blind-set intent F1 and F1 per intent, of what residents would get from `model`."""
        with self.sessions() as session:
            knowledge = store.load_knowledge(session)
        served = self.settings.rasa_url if rasa_commands.serves(self.settings, model) else None
        figures = evaluation.evaluate_model(
            self.settings,
            knowledge,
            model,
            evaluation.read_cases(self.settings.evaluation_file),
            self.directory / f"rasa-{name}.log",
            served,
        )
        return {"intent_f1": figures["intent_f1"]}, figures["per_intent_f1"]

    def _baseline(self) -> float | None:
        """The live model's blind-set intent F1, measured now if it never was."""
        with self.sessions() as session:
            live = live_model(session)
            if live is None:
                return None
            if live.intent_f1 is not None:
                return live.intent_f1
            path, live_id = model_file(self.settings, live), live.id
        if path is None:
            return None
        self._progress("Huidig model testen op de blinde testset", 90)
        scores, per_intent = self._evaluate(path, "live")
        with self.sessions.begin() as session:
            session.execute(
                update(NluModel)
                .where(NluModel.id == live_id)
                .values(
                    intent_f1=scores.get("intent_f1"),
                    entity_f1=scores.get("entity_f1"),
                    intent_scores=per_intent,
                )
            )
        return scores.get("intent_f1")

    def _progress(self, phase: str, percent: int) -> None:
        self._update(phase=phase, progress=percent)
        if self.on_progress:
            self.on_progress(phase, percent)

    def _update(self, **values: object) -> None:
        with self.sessions.begin() as session:
            session.execute(
                update(NluModel)
                .where(NluModel.id == self.id)
                .values(updated_at=utc_now(), **values)
            )

    def _finish(self, status: str, phase: str, error: str | None = None) -> None:
        self._update(status=status, phase=phase, running=None, finished_at=utc_now(), error=error)
        if self.on_progress:
            self.on_progress(phase + (f": {error}" if error else ""), 100)


def run_in_background(
    settings: Settings, sessions: sessionmaker[Session], run_id: int, accept_worse: bool = False
) -> threading.Thread:
    thread = threading.Thread(
        target=Run(settings, sessions, run_id, accept_worse=accept_worse).execute,
        name=f"training-{run_id}",
        daemon=True,
    )
    thread.start()
    return thread


# -- swapping ---------------------------------------------------------------------------------


def activate(
    settings: Settings,
    sessions: sessionmaker[Session],
    model_id: int,
    *,
    actor: str,
    action: str = "activated",
) -> None:
    """Make this model the live one: Rasa loads it with `PUT /model` (it answers with the
    old model until then), and the database remembers it for the next start."""
    with sessions() as session:
        model = session.get(NluModel, model_id)
        path = model_file(settings, model) if model else None
    if model is None or path is None:
        raise TrainingFailed("Het modelbestand bestaat niet meer.")
    if rasa_commands.is_up(settings):
        phase = model.phase
        _set_phase(sessions, model_id, SWAP_PHASE)
        try:
            _put_model(settings, path)
        except Exception:
            _set_phase(sessions, model_id, phase)
            raise
    with sessions.begin() as session:
        previous = live_model(session)
        if previous is not None and previous.id != model_id:
            previous.status = "ready"
        model = session.get(NluModel, model_id)
        assert model is not None
        before = previous.file_name if previous else None
        model.status, model.phase, model.progress = "live", "In gebruik", 100
        model.running, model.activated_at = None, utc_now()
        model.finished_at = model.finished_at or utc_now()
        store.record(
            session, actor, "model", model.file_name or "", before, model.file_name, action
        )


def _set_phase(sessions: sessionmaker[Session], model_id: int, phase: str | None) -> None:
    with sessions.begin() as session:
        session.execute(
            update(NluModel)
            .where(NluModel.id == model_id)
            .values(phase=phase, updated_at=utc_now())
        )


def swap_under_way(sessions: sessionmaker[Session]) -> bool:
    """Whether Rasa is loading a model the app asked for (in any process): its parses are
    slow then, not failing."""
    since = utc_now() - timedelta(seconds=SWAP_TIMEOUT_SECONDS)
    with sessions() as session:
        found = session.scalar(
            select(NluModel.id).where(NluModel.phase == SWAP_PHASE, NluModel.updated_at >= since)
        )
    return found is not None


def load_live_model(settings: Settings, sessions: sessionmaker[Session]) -> None:
    """A Rasa server started elsewhere (docker compose) may hold another model, or none:
    have it (each of them, behind a proxy) load the live one."""
    _put_model(settings, model_to_serve(settings, sessions), only_if_other=True)


def _put_model(settings: Settings, path: Path, *, only_if_other: bool = False) -> None:
    """Rasa's `PUT /model`: it keeps the old model until the new one is loaded, and answers
    parses again right after (the bot's client waits for it meanwhile). Several servers
    behind a proxy load it one after the other, so one of them always answers."""
    token = {"token": settings.rasa_token}
    for url in settings.rasa_replica_urls or [settings.rasa_url]:
        if only_if_other:
            status = httpx.get(f"{url}/status", params=token, timeout=10)
            status.raise_for_status()
            if Path(status.json().get("model_file") or "").name == path.name:
                continue
        response = httpx.put(
            f"{url}/model",
            params=token,
            json={"model_file": str(path)},
            timeout=SWAP_TIMEOUT_SECONDS,
        )
        response.raise_for_status()


def _findings(output: str) -> str:
    """The lines of Rasa's output that say what is wrong, without the log noise."""
    lines = [
        line.split(" - ", 1)[-1].strip()
        for line in output.splitlines()
        if any(word in line for word in ("ERROR", "Error", "UserWarning", "invalid", "Invalid"))
    ]
    return "\n".join(dict.fromkeys(lines)) or output[-1500:]


def _readable(error: Exception) -> str:
    if isinstance(error, httpx.HTTPError):
        return f"De Rasa-server nam het model niet aan: {error}"
    return str(error)

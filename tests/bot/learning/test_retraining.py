"""Retraining with the real Rasa: a model that scores worse on the blind set is not
swapped in, the live Rasa server keeps the model it had, and one training runs at a time.

Training costs minutes on two cores, so this runs on PostgreSQL only (the production
database); the training data of the worse model is small, which keeps it to about one."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from bot.knowledge import store
from bot.learning import retraining
from bot.settings import Settings
from bot.storage.knowledge_tables import NluModel, TrainingExample
from tests.rasa_server import TOKEN
from wegwijs.assembly import shipped_model

pytestmark = [
    pytest.mark.rasa,
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Models of this test go to their own folder; the shipped model is linked in."""
    models = tmp_path / "models"
    models.mkdir()
    shipped = shipped_model(Settings())
    (models / shipped.name).symlink_to(shipped)
    return Settings(rasa_model_dir=models, data_dir=tmp_path / "data", rasa_token=TOKEN)


@pytest.fixture
def live_rasa(settings: Settings, sessions: sessionmaker[Session], rasa_url: str) -> Iterator[str]:
    """The session's Rasa, serving the live model of this database (the shipped one, as
    after a first `wegwijs run`). Whatever the test swaps in, the shipped model is loaded
    again afterwards, for the tests that share this server."""
    model = retraining.model_to_serve(settings, sessions)
    assert _loaded(rasa_url) == model.name
    try:
        yield rasa_url
    finally:
        if _loaded(rasa_url) != model.name:
            httpx.put(
                f"{rasa_url}/model",
                params={"token": TOKEN},
                json={"model_file": str(shipped_model(Settings()))},
                timeout=retraining.SWAP_TIMEOUT_SECONDS,
            ).raise_for_status()


def _loaded(rasa_url: str) -> str:
    """The file name of the model the Rasa server at `rasa_url` has loaded."""
    status = httpx.get(f"{rasa_url}/status", params={"token": TOKEN}, timeout=30).json()
    return Path(status["model_file"]).name


def test_a_worse_model_is_not_swapped_in(
    settings: Settings, sessions: sessionmaker[Session], live_rasa: str
) -> None:
    settings = settings.model_copy(update={"rasa_url": live_rasa})
    with sessions.begin() as session:
        live_before = retraining.live_model(session)
        assert live_before is not None
        live_file = live_before.file_name
        # An admin deletes almost every example: two per intent are left.
        kept: dict[str, int] = defaultdict(int)
        for example in session.scalars(select(TrainingExample).order_by(TrainingExample.id)):
            kept[example.intent] += 1
            if kept[example.intent] > 2:
                session.execute(delete(TrainingExample).where(TrainingExample.id == example.id))
        store.record(session, "test", "example", "bulk", "many", "two per intent", "deleted")

    run_id = retraining.start(sessions, "ada")
    with pytest.raises(retraining.TrainingBusy, match="Er loopt al een training"):
        retraining.start(sessions, "bert")
    retraining.Run(settings, sessions, run_id).execute()

    with sessions() as session:
        run = session.get(NluModel, run_id)
        assert run is not None
        assert run.status == "rejected", (run.phase, run.error)
        assert run.running is None
        assert run.intent_f1 is not None and run.baseline_intent_f1 is not None
        assert run.intent_f1 < run.baseline_intent_f1
        assert "Niet in gebruik genomen" in run.phase
        live_after = retraining.live_model(session)
        assert live_after is not None and live_after.file_name == live_file
        # The baseline was measured on the way and kept for the next comparison.
        assert live_after.intent_f1 == run.baseline_intent_f1
    assert _loaded(live_rasa) == live_file

    # The admin overrides: the rejected model goes live in the running Rasa, and one click
    # brings the previous one back.
    retraining.activate(settings, sessions, run_id, actor="ada")
    assert _loaded(live_rasa) == run.file_name
    with sessions() as session:
        target = retraining.rollback_target(settings, session)
        assert target is not None and target.file_name == live_file
    retraining.activate(settings, sessions, target.id, actor="ada", action="rolled back")
    assert _loaded(live_rasa) == live_file


def test_training_data_problems_stop_the_run_before_rasa(
    settings: Settings, sessions: sessionmaker[Session]
) -> None:
    with sessions.begin() as session:
        session.execute(delete(TrainingExample).where(TrainingExample.intent == "faq_costs"))
        store.record(session, "test", "example", "faq_costs", "all", None, "deleted")
    run_id = retraining.start(sessions, "ada")
    retraining.Run(settings, sessions, run_id).execute()
    with sessions() as session:
        run = session.get(NluModel, run_id)
        assert run is not None and run.status == "failed"
        assert "faq_costs heeft 0 voorbeeld(en)" in (run.error or "")
        assert run.file_name is None

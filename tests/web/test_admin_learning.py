"""The admin teaches the bot a new question in the browser, retrains, and the bot answers it;
residents keep talking through the fake Bot API all the while, and none of their messages
fails, not even while Rasa loads the new model (`PUT /model`).

This app has a Rasa server and a model folder of its own, because the test swaps the model;
and it runs on PostgreSQL only, and only in `make test-all` (marked slow), because a
full-size training costs minutes on two cores. The retraining's logic, gate, swap and rollback
against the real Rasa are checked on a small model in tests/bot/learning/test_retraining.py."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from bot.knowledge import Knowledge
from bot.settings import Settings
from bot.storage.knowledge_tables import NluModel
from tests.fakes.telegram_api import FakeTelegram
from tests.rasa_server import running_rasa
from tests.web.support import App, blank_postgres
from wegwijs.assembly import shipped_model

pytestmark = [pytest.mark.browser, pytest.mark.rasa, pytest.mark.slow]

FAQ = "faq_parkeren"
ANSWER = "Parkeren kan gratis op het Marktplein, twee minuten lopen van het buurthuis."
EXAMPLES = """\
Waar kan ik parkeren bij het buurthuis?
is er parkeergelegenheid in de buurt van het wijkcentrum
mag ik mijn auto voor de deur zetten bij het buurthuis
kan ik daar ergens mijn auto kwijt
waar parkeren de bezoekers van ons buurtfeest
zijn er parkeerplaatsen bij de gymzaal
moet ik betalen voor parkeren bij het wijkcentrum
waar kan ik mijn auto laten staan als ik naar het buurthuis kom
is er een parkeerterrein bij de ontmoetingsruimte"""
QUESTION = "Waar kunnen we parkeren bij het buurthuis?"
TRAINING_MINUTES = 30


@pytest.fixture(scope="module", params=["postgresql"])
def app_database_url(request: pytest.FixtureRequest) -> str:
    return blank_postgres(request.getfixturevalue("postgres_url"))


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This app's models: the shipped one linked in, the retrained one written here."""
    directory = tmp_path_factory.mktemp("models")
    shipped = shipped_model(Settings())
    (directory / shipped.name).symlink_to(shipped)
    return directory


@pytest.fixture(scope="module")
def rasa_url(models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    model = next(models_dir.glob("*.tar.gz"))
    with running_rasa(tmp_path_factory.mktemp("rasa") / "rasa.log", model) as url:
        yield url


@pytest.fixture(scope="module")
def app_env(models_dir: Path) -> dict[str, str]:
    return {"RASA_MODEL_DIR": str(models_dir)}


@dataclass
class Chatter:
    """Residents who keep asking known questions and check every answer."""

    telegram: FakeTelegram
    expected: dict[str, str]  # what they ask -> what the bot must answer
    stop: threading.Event = field(default_factory=threading.Event)
    answered: list[tuple[float, float]] = field(default_factory=list)  # (sent, answered)
    problems: list[str] = field(default_factory=list)

    def talk(self, chat_id: int) -> None:
        while not self.stop.is_set():
            for question, answer in self.expected.items():
                sent = time.monotonic()
                try:
                    replies = self.telegram.ask(chat_id, question, timeout=180)
                except AssertionError as error:  # no reply at all
                    self.problems.append(f"{question!r}: {error}")
                    continue
                texts = [r["text"] for r in replies if r["method"] == "sendMessage"]
                if not any(answer in text for text in texts):
                    self.problems.append(f"{question!r} got {texts}")
                self.answered.append((sent, time.monotonic()))


def test_admin_teaches_a_new_question_and_the_bot_answers_it(
    app: App, knowledge: Knowledge, open_page: Callable[..., Page]
) -> None:
    admin = open_page("admin")
    add_faq_intent(admin)
    before = app.telegram.ask(7001, QUESTION, timeout=30)
    assert not any(ANSWER in r["text"] for r in before)  # the live model does not know it yet

    costs = knowledge.faq["faq_costs"]["nl"]
    chatter = Chatter(app.telegram, {"wat kost het?": costs, "hallo": "Wegwijs"})
    residents = [
        threading.Thread(target=chatter.talk, args=(chat_id,), daemon=True)
        for chat_id in (7101, 7102)
    ]
    for resident in residents:
        resident.start()
    try:
        admin.goto("/admin/models")
        admin.get_by_role("button", name="Opnieuw trainen").click()
        expect(admin.locator("#training-progress")).to_be_visible()
        run = wait_for_run(
            app, lambda run: run.status != "running" or run.phase.startswith("Model wisselen")
        )
        swap_start = time.monotonic()
        if run.status == "rejected":
            # Held-out F1 varies a little between trainings; when it came out lower, the
            # admin sees the comparison and takes the model into use anyway.
            admin.goto("/admin/models")
            expect(admin.get_by_text("Vergelijking per intentie")).to_be_visible()
            admin.get_by_role("button", name="Toch in gebruik nemen").first.click()
        run = wait_for_run(app, lambda run: run.status == "live")
        swap = (swap_start, time.monotonic())
    finally:
        chatter.stop.set()
        for resident in residents:
            resident.join(timeout=240)

    assert not chatter.problems, chatter.problems
    # The swap: from the end of the tests on the blind set until the model was live.
    during_swap = [a for a in chatter.answered if a[0] < swap[1] and a[1] > swap[0]]
    assert during_swap, "no resident message was sent while the model was swapped"

    admin.goto("/admin/models")
    expect(admin.get_by_text("In gebruik").first).to_be_visible()
    replies = app.telegram.ask(7001, QUESTION, timeout=60)
    assert any(ANSWER in r["text"] for r in replies), replies


def add_faq_intent(page: Page) -> None:
    page.goto("/admin/intents")
    page.get_by_label("Naam", exact=True).fill("parkeren")
    page.get_by_label("Antwoord (Nederlands, verplicht)").fill(ANSWER)
    page.get_by_label("Voorbeeldzinnen, één per regel (minstens 2)").fill(EXAMPLES)
    page.get_by_role("button", name="Veelgestelde vraag toevoegen").click()
    expect(page.get_by_text(FAQ).first).to_be_visible()


def wait_for_run(app: App, done: Callable[[NluModel], bool]) -> NluModel:
    """Follow the admin's training run in the database until `done` holds for it."""
    deadline = time.monotonic() + TRAINING_MINUTES * 60
    while time.monotonic() < deadline:
        with app.sessions() as session:
            run = session.scalar(
                select(NluModel).where(NluModel.started_by == "admin").order_by(NluModel.id)
            )
        assert run is not None
        assert run.status != "failed", (run.phase, run.error, app.log()[-3000:])
        if done(run):
            return run
        time.sleep(0.5)
    raise AssertionError(f"the training did not get there within {TRAINING_MINUTES} minutes")

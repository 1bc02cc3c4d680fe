"""The real app for the browser tests: `python -m wegwijs run` (web app, delivery worker and
Telegram bot in one process) against the fake Bot API, the real Rasa server and a real
database, once per database for a whole test module, because every start costs seconds.

Officials are added with `wegwijs user add`, the admin is the one the first start makes, and
requests come from residents chatting with the bot; chromium is driven with Playwright."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from datetime import date, timedelta

import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from sqlalchemy import select, update

from bot.knowledge import Knowledge
from bot.learning.rasa_commands import free_port
from bot.storage.database import make_engine, make_session_factory
from bot.storage.models import Request, utc_now
from tests.e2e.support import Resident, dutch, future_saturday
from tests.fakes.telegram_api import FakeTelegram
from tests.processes import start_wegwijs, stop, wait_until_serving, wait_while_alive
from tests.rasa_server import TOKEN
from tests.support import FIRST_DATABASE
from tests.web.support import (
    BOT_TOKEN,
    CHROMIUM_ARGS,
    CONTACT,
    HTML_PURPOSE,
    OFFICIALS,
    PASSWORD,
    App,
    Dialogs,
    Made,
    Requests,
    blank_postgres,
    login,
    send_request,
)


@pytest.fixture(scope="module", params=FIRST_DATABASE)
def app_database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """A blank database per module, as on a first install: the app migrates it and makes
    the admin. (The `database_url` fixture is per test; this one lives as long as the app.)"""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('database') / 'wegwijs.db'}"
    return blank_postgres(request.getfixturevalue("postgres_url"))


@pytest.fixture(scope="module")
def app_env() -> dict[str, str]:
    """More settings for the app of a module (a module overrides this fixture)."""
    return {}


@pytest.fixture(scope="module")
def app(
    app_database_url: str,
    rasa_url: str,
    app_env: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[App]:
    data_dir = tmp_path_factory.mktemp("data")
    port = free_port()
    log_file = data_dir / "wegwijs.log"
    engine = make_engine(app_database_url)
    with FakeTelegram(token=BOT_TOKEN) as telegram:
        env = {
            **os.environ,
            "DATABASE_URL": app_database_url,
            "RASA_URL": rasa_url,
            "RASA_TOKEN": TOKEN,
            "TELEGRAM_BOT_TOKEN": BOT_TOKEN,
            "TELEGRAM_API_BASE_URL": telegram.base_url,
            "WEB_HOST": "127.0.0.1",
            "WEB_PORT": str(port),
            "DATA_DIR": str(data_dir),
            "DELIVERY_POLL_SECONDS": "0.2",
            # A failed delivery waits a minute, then is given up: the admin page shows it.
            "DELIVERY_RETRY_SECONDS": "[60]",
            **app_env,
        }
        process = start_wegwijs("run", env, log_file)
        try:
            base_url = f"http://127.0.0.1:{port}"
            wait_until_serving(base_url, process, log_file)
            wait_while_alive(
                lambda: bool(telegram.calls("getUpdates")), process, log_file, "polling Telegram"
            )
            note = (data_dir / "admin-password.txt").read_text()
            match = re.search(r"password: (\S+)", note)
            assert match, note
            running = App(
                base_url,
                telegram,
                env,
                make_session_factory(engine),
                match.group(1),
                log_file,
            )
            for username, (full_name, department) in OFFICIALS.items():
                running.cli(
                    "user", "add", username, "--role", "official", "--department", department,
                    "--full-name", full_name, "--password", PASSWORD,
                )  # fmt: skip
            yield running
        finally:
            stop(process)
            engine.dispose()
    assert "Traceback" not in log_file.read_text(errors="replace"), log_file.read_text()


@pytest.fixture(scope="module")
def requests(app: App, knowledge: Knowledge) -> Requests:
    """Two residents ask the bot, the real way; then time passes for the barriers: they came
    in three weeks ago and their due date is a week behind."""
    saturday = future_saturday()
    room = Resident(app.telegram, knowledge, 2001)
    replies = room.say(f"Ik wil {dutch(saturday)} een zaal voor 40 mensen in Centrum")
    replies = room.answer_all(
        {
            "start_time": "van 14:00 tot 17:00",
            "purpose": HTML_PURPOSE,
            "name": "Fatima de Vries",
            **CONTACT,
        },
        replies,
    )
    room_reference = send_request(room)
    tools = Resident(app.telegram, knowledge, 2002)
    replies = tools.say("Kunnen we 20 dranghekken lenen voor ons straatfeest?")
    replies = tools.answer_all(
        {
            "pickup_date": dutch(saturday),
            "return_date": dutch(saturday + timedelta(days=2)),
            "neighbourhood": "button:choice:Vogelwijk",
            "purpose": "Straatfeest in de Merelstraat",
            "name": "Karel Appel",
            **CONTACT,
        },
        replies,
    )
    tools_reference = send_request(tools)
    with app.sessions.begin() as session:
        session.execute(
            update(Request)
            .where(Request.reference == tools_reference)
            .values(
                created_at=utc_now() - timedelta(days=21),
                due_at=date.today() - timedelta(days=7),
            )
        )
        ids = dict(session.execute(select(Request.reference, Request.id)).all())
    return Requests(
        room=Made(room_reference, ids[room_reference], 2001),
        tools=Made(tools_reference, ids[tools_reference], 2002),
    )


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Chromium for one test module. Playwright's sync API keeps an event loop running in
    this thread while it is open, and later modules call asyncio.run themselves."""
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def dialogs() -> Dialogs:
    return Dialogs([])


@pytest.fixture
def open_page(app: App, browser: Browser, dialogs: Dialogs) -> Iterator[Callable[..., Page]]:
    """A fresh browser (own cookies) per call, optionally logged in as `username`."""
    contexts = []

    def make(username: str | None = None, headers: dict[str, str] | None = None) -> Page:
        context = browser.new_context(
            base_url=app.base_url,
            viewport={"width": 1366, "height": 900},
            locale="nl-NL",
            extra_http_headers=headers or {},
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.on("dialog", lambda dialog: (dialogs.seen.append(dialog.message), dialog.dismiss()))
        if username:
            login(page, username, app.admin_password if username == "admin" else PASSWORD)
            assert page.url.rstrip("/") == app.base_url, page.content()
        return page

    yield make
    for context in contexts:
        context.close()

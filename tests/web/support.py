"""Helpers for the browser tests and their fixtures (the running app, the requests residents
made, logging in): kept out of conftest.py because test modules import them."""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Page
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from bot.settings import PROJECT_ROOT
from tests.e2e.support import Resident
from tests.fakes.telegram_api import FakeTelegram

BOT_TOKEN = "654321:WEB-TEST-TOKEN"
PASSWORD = "wachtwoord-voor-de-test"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Officials: (username, full name, department).
OFFICIALS = {
    "vera": ("Vera Visser", "vastgoed"),
    "bob": ("Bob Bakker", "buitendienst"),
    "wim": ("Wim de Wit", "wijkbudget"),
}
REFERENCE = re.compile(r"WW-\d{4}-\d{6}")
CONTACT = {"phone": "06 12345678", "email": "button:skip"}
# What a resident typed as the purpose of the room, to see that it is shown as text.
HTML_PURPOSE = "<script>alert(1)</script><b>x</b>"


@dataclass
class App:
    """The running app and what the tests need to reach it."""

    base_url: str
    telegram: FakeTelegram
    env: dict[str, str]
    sessions: sessionmaker[Session]
    admin_password: str
    log_file: Path

    def cli(self, *args: str) -> str:
        """A `wegwijs` command against the same database, as an admin would type it."""
        done = subprocess.run(
            [sys.executable, "-m", "wegwijs", *args],
            cwd=PROJECT_ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def log(self) -> str:
        return self.log_file.read_text(errors="replace")


@dataclass(frozen=True)
class Made:
    """A request a resident made in the chat."""

    reference: str
    id: int
    chat_id: int


@dataclass(frozen=True)
class Requests:
    room: Made  # vastgoed's: a hall for 40 people in Centrum, with HTML in its purpose
    tools: Made  # buitendienst's: crowd barriers in Vogelwijk, lying there for weeks (overdue)


def blank_postgres(url: str) -> str:
    """The test run's PostgreSQL database, emptied as for a first install."""
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url


def send_request(resident: Resident) -> str:
    replies = resident.press("confirm:send")
    match = REFERENCE.search(replies[-1]["text"])
    assert match, resident.transcript()
    return match.group(0)


@dataclass
class Dialogs:
    """Every alert() or confirm() a page opened: residents' text must never run."""

    seen: list[str]


def login(page: Page, username: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("Gebruikersnaam").fill(username)
    page.get_by_label("Wachtwoord").fill(password)
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_load_state()

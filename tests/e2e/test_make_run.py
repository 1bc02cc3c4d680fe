"""Issue 3's 'done when', the way a new user does it: `wegwijs run` (what `make run` starts)
with the terminal chat and the web app in one process. A resident completes a request in the
terminal; an official of the right department logs in, finds it on top of the queue, claims
it and asks a question; the question appears in the terminal and the resident's answer shows
in the request's thread. Then the request is re-routed: the other department has it, the
first no longer, and a third never sees it."""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.knowledge import Knowledge
from bot.learning.rasa_commands import free_port
from bot.settings import PROJECT_ROOT
from tests.e2e.support import dutch, future_saturday
from tests.rasa_server import TOKEN

pytestmark = pytest.mark.e2e
PROMPT = "u> "
PASSWORD = "een-lang-wachtwoord"


class TerminalChat:
    """`wegwijs run` in a pipe: type a line, read what Wegwijs prints until the next prompt."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "wegwijs", "run"],
            cwd=PROJECT_ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log.open("wb"),
            text=True,
            bufsize=1,
        )
        self.output: queue.Queue[str] = queue.Queue()
        self.screen = ""
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        while chunk := self.process.stdout.read(1):
            self.output.put(chunk)

    def until(self, marker: str, timeout: float = 30) -> str:
        """Everything printed from now until `marker` (included)."""
        deadline, seen = time.monotonic() + timeout, ""
        while marker not in seen:
            try:
                seen += self.output.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no {marker!r} in time; got:\n{seen}") from None
        self.screen += seen
        return seen

    def type(self, line: str) -> str:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        return self.until(PROMPT)

    def quit(self) -> None:
        if self.process.poll() is None:
            self.type_nowait("/quit")
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def type_nowait(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()


@pytest.fixture
def system(database_url: str, rasa_url: str, tmp_path: Path) -> Iterator[tuple[TerminalChat, str]]:
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("TELEGRAM_")} | {
        "DATABASE_URL": database_url,
        "RASA_URL": rasa_url,
        "RASA_TOKEN": TOKEN,
        "WEB_PORT": str(port),
        "DATA_DIR": str(tmp_path),
        "DELIVERY_POLL_SECONDS": "0.2",
    }
    for name, department in (("vera", "vastgoed"), ("bram", "buitendienst"), ("sam", "subsidies")):
        subprocess.run(
            [
                sys.executable,
                "-m",
                "wegwijs",
                "user",
                "add",
                name,
                "--department",
                department,
                "--password",
                PASSWORD,
            ],
            cwd=PROJECT_ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
    chat = TerminalChat(env, tmp_path / "run.log")
    chat.until(PROMPT, timeout=90)
    yield chat, f"http://127.0.0.1:{port}"
    chat.quit()
    assert "Traceback" not in (tmp_path / "run.log").read_text(errors="replace")


def official(base: str, name: str) -> httpx.Client:
    client = httpx.Client(base_url=base, follow_redirects=True, timeout=15)
    page = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post(
        "/login", data={"username": name, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 200 and "Uitloggen" in response.text
    return client


def post_form(client: httpx.Client, path: str, **fields: str) -> str:
    page = client.get("/").text  # one CSRF token per session
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post(path, data={**fields, "csrf_token": token})
    assert response.status_code == 200, response.text
    return response.text


def test_new_user_flow_through_make_run(
    system: tuple[TerminalChat, str], knowledge: Knowledge
) -> None:
    chat, base = system
    answers = {
        "start_time": "van 14:00 tot 17:00",
        "purpose": "Repair café",
        "name": "Fatima de Vries",
        "phone": "06 12345678",
    }
    shown = chat.type(f"Ik wil {dutch(future_saturday())} een zaal voor 40 mensen in Centrum")
    prompts = {
        q.key: q.prompt["nl"] for q in [*knowledge.needs["room"].questions, *knowledge.contact]
    }
    for _ in range(10):
        if "Versturen" in shown:
            break
        key = next(k for k, prompt in prompts.items() if prompt in shown.split("wegwijs>")[-1])
        shown = chat.type("Overslaan" if key == "email" else answers[key])
    shown = chat.type("Versturen")
    reference = re.search(r"WW-\d{4}-\d{6}", shown).group(0)

    vera = official(base, "vera")
    queue_page = vera.get("/").text
    first_row = queue_page[queue_page.index("<tbody") :]
    assert reference in first_row[: first_row.index("</tr>")]  # on top of the queue
    request_path = re.search(rf'href="(/requests/\d+)"[^>]*>\s*{reference}', queue_page).group(1)

    post_form(vera, f"{request_path}/claim")
    post_form(vera, f"{request_path}/message", text="Hoeveel tafels heeft u nodig?")
    arrived = chat.until(PROMPT, timeout=20)
    assert reference in arrived and "Hoeveel tafels heeft u nodig?" in arrived
    reply = chat.type("Acht tafels graag")
    assert reference in reply
    assert "Acht tafels graag" in vera.get(request_path).text

    post_form(
        vera, f"{request_path}/reroute", department="buitendienst", reason="Het gaat om tafels"
    )
    assert reference not in vera.get("/").text
    bram = official(base, "bram")
    assert reference in bram.get("/").text
    assert "Het gaat om tafels" in bram.get(request_path).text
    sam = official(base, "sam")
    assert reference not in sam.get("/").text
    assert sam.get(request_path).status_code == 404

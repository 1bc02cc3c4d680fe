"""Starts the real Rasa server with the trained model, once per test run."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bot.learning import rasa_commands
from bot.settings import Settings
from wegwijs.assembly import shipped_model

TOKEN = "test-token"


@contextmanager
def running_rasa(log_file: Path, model: Path | None = None) -> Iterator[str]:
    """Rasa on a free port with `model` (by default the model of the current data). A busy
    machine makes it slower to start, never a failure: it waits while the process lives."""
    settings = Settings(rasa_token=TOKEN)
    model = model or shipped_model(settings)
    assert model.exists(), f"no trained model at {model}: `make test` trains it first"
    with rasa_commands.temporary_server(settings, model, log_file) as url:
        yield url


def server_pid(url: str) -> int:
    """The process listening on the URL's port (to freeze it with SIGSTOP in a test)."""
    port = url.rsplit(":", 1)[1].rstrip("/")
    listing = subprocess.run(
        ["ss", "-Hltnp", f"sport = :{port}"], capture_output=True, text=True, check=True
    ).stdout
    found = re.search(r"pid=(\d+)", listing)
    assert found, f"nothing listens on port {port}: {listing!r}"
    return int(found.group(1))

"""Starts the real Rasa server with the trained model, once per test run."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bot.learning import rasa_commands
from bot.settings import Settings
from wegwijs.assembly import shipped_model

TOKEN = "test-token"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def running_rasa(log_file: Path, model: Path | None = None) -> Iterator[str]:
    """Rasa on a free port with `model` (by default the model of the current data)."""
    settings = Settings(rasa_url=f"http://127.0.0.1:{free_port()}", rasa_token=TOKEN)
    model = model or shipped_model(settings)
    assert model.exists(), f"no trained model at {model}: `make test` trains it first"
    with log_file.open("wb") as log:
        process = subprocess.Popen(
            rasa_commands.serve_command(settings, model),
            stdout=log,
            stderr=subprocess.STDOUT,
            env=rasa_commands.environment(),
        )
    try:
        deadline = time.monotonic() + 240
        while not rasa_commands.is_up(settings):
            assert process.poll() is None, f"Rasa stopped: {log_file.read_text()[-3000:]}"
            assert time.monotonic() < deadline, "Rasa did not start within 240 s"
            time.sleep(0.5)
        yield settings.rasa_url
    finally:
        process.terminate()
        process.wait(timeout=30)

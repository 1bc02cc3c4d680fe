"""`wegwijs run`'s Rasa: a child that dies with it, and no server taken over unchecked. A
stand-in `rasa` command (tests/fakes/rasa_executable.py) plays the server, in real processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.learning import rasa_commands
from bot.settings import PROJECT_ROOT, Settings
from tests.fakes.rasa_executable import fake_rasa
from wegwijs.local_rasa import is_running, local_rasa


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        rasa_executable=fake_rasa(tmp_path),
        rasa_url=f"http://127.0.0.1:{rasa_commands.free_port()}",
        rasa_token="test-token",
        data_dir=tmp_path / "data",
        rasa_start_timeout_seconds=30,
    )


@pytest.fixture
def stranger(settings: Settings, tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A Rasa that someone else started at the configured URL, with the model `other`."""
    process = subprocess.Popen(rasa_commands.serve_command(settings, tmp_path / "other.tar.gz"))
    _wait(lambda: rasa_commands.is_up(settings))
    yield process
    process.kill()
    process.wait()


def _wait(condition: object, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "not in time"
        time.sleep(0.05)


def test_run_starts_rasa_with_the_live_model_and_stops_it(settings: Settings) -> None:
    model = Path("/models/nlu-live.tar.gz")
    with local_rasa(settings, model):
        assert rasa_commands.serves(settings, model)
        pid = int((settings.data_dir / "rasa.pid").read_text())
    _wait(lambda: not is_running(pid))
    assert not rasa_commands.is_up(settings)
    assert not (settings.data_dir / "rasa.pid").exists()


def test_rasa_dies_with_the_process_that_started_it_even_by_kill_9(settings: Settings) -> None:
    starter = subprocess.Popen(
        [sys.executable, "-c", (
            "import sys, time\n"
            "from pathlib import Path\n"
            "from bot.learning import rasa_commands\n"
            "from bot.settings import Settings\n"
            f"settings = Settings(rasa_executable={str(settings.rasa_executable)!r},"
            f" rasa_url={settings.rasa_url!r}, rasa_token='test-token')\n"
            "model, log = Path('/m/live.tar.gz'), Path(sys.argv[1])\n"
            "rasa = rasa_commands.start_server(settings, model, log)\n"
            "print(rasa.pid, flush=True)\n"
            "time.sleep(600)\n"
        ), str(settings.data_dir / "rasa.log")],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert starter.stdout is not None
    child = int(starter.stdout.readline())
    assert rasa_commands.is_up(settings)
    starter.send_signal(signal.SIGKILL)
    starter.wait()
    _wait(lambda: not is_running(child))
    assert not rasa_commands.is_up(settings)


def test_a_rasa_an_earlier_run_left_behind_is_replaced_by_a_supervised_one(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    model = Path("/models/nlu-live.tar.gz")
    left = subprocess.Popen(rasa_commands.serve_command(settings, model), start_new_session=True)
    _wait(lambda: rasa_commands.is_up(settings))
    settings.data_dir.mkdir(parents=True)
    (settings.data_dir / "rasa.pid").write_text(str(left.pid))
    with local_rasa(settings, model):
        assert left.poll() is not None  # stopped, and reaped here as its parent
        assert rasa_commands.serves(settings, model)
        assert int((settings.data_dir / "rasa.pid").read_text()) != left.pid
    assert "left behind" in capsys.readouterr().out
    assert not rasa_commands.is_up(settings)


def test_a_strangers_rasa_with_another_model_is_not_taken_over(
    settings: Settings, stranger: subprocess.Popen[bytes]
) -> None:
    refused = pytest.raises(SystemExit, match="does not serve Wegwijs's live model")
    with refused, local_rasa(settings, Path("/models/nlu-live.tar.gz")):
        pass
    assert stranger.poll() is None  # left alone


def test_a_strangers_rasa_with_the_live_model_is_used_and_left_running(
    settings: Settings, stranger: subprocess.Popen[bytes], tmp_path: Path
) -> None:
    with local_rasa(settings, tmp_path / "other.tar.gz"):
        assert not (settings.data_dir / "rasa.pid").exists()
    assert stranger.poll() is None
    os.kill(stranger.pid, 0)

"""The Rasa server `wegwijs run` starts beside itself on this machine: its child, which dies
with it (bot.learning.rasa_commands arms that), and never a stranger's server taken over
without checking which model it serves."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from bot.learning import rasa_commands
from bot.settings import Settings

STOP_SECONDS = 30


@contextlib.contextmanager
def local_rasa(settings: Settings, model: Path) -> Iterator[None]:
    """Rasa with the live `model` at the configured local URL while the block runs: started
    here and stopped afterwards, or one already running there that serves that model (then
    it is not ours to stop)."""
    pid_file = settings.data_dir / "rasa.pid"
    _stop_left_behind(settings, pid_file)
    if rasa_commands.is_up(settings):
        if not rasa_commands.serves(settings, model):
            raise SystemExit(
                f"Another Rasa server answers at {settings.rasa_url}, and it does not serve "
                f"Wegwijs's live model ({model.name}). Stop it, or set RASA_URL to a free port."
            )
        print(f"Using the Rasa server at {settings.rasa_url}: it serves the live model.")
        yield
        return
    print("Starting the Rasa server (about 25 seconds)...", flush=True)
    process = rasa_commands.start_server(settings, model, settings.data_dir / "rasa.log")
    pid_file.write_text(str(process.pid))
    try:
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        pid_file.unlink(missing_ok=True)


def _stop_left_behind(settings: Settings, pid_file: Path) -> None:
    """A Rasa an earlier `wegwijs run` started and did not stop (it was killed before it
    could, on a system without Linux's parent-death signal): stopped, so that the Rasa
    serving now is one this run supervises. A pid now used by another program is left."""
    try:
        pid = int(pid_file.read_text())
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError):
        pid_file.unlink(missing_ok=True)
        return
    if str(settings.rasa_executable).encode() in command:
        print(f"Stopping the Rasa server an earlier run left behind (pid {pid}).", flush=True)
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_SECONDS
        while is_running(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        if is_running(pid):
            os.kill(pid, signal.SIGKILL)
    pid_file.unlink(missing_ok=True)


def is_running(pid: int) -> bool:
    """Alive: a process that has not ended. A zombie has ended (it waits to be reaped, and
    PID 1 in a container may never do that)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1]
    except (OSError, IndexError):
        return False
    return not state.startswith("Z")

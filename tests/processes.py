"""Starting and stopping the real `python -m wegwijs ...` processes that tests and
benchmarks talk to."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx

from bot.settings import PROJECT_ROOT


def start_wegwijs(
    command: str, env: dict[str, str], log_file: Path, *, stdin: int | None = subprocess.DEVNULL
) -> subprocess.Popen[bytes]:
    """`python -m wegwijs <command>` from the clone, its output appended to `log_file`."""
    with log_file.open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "wegwijs", command],
            cwd=PROJECT_ROOT,
            env=env,
            stdin=stdin,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def wait_until_serving(
    base_url: str, process: subprocess.Popen[bytes], log_file: Path, timeout: float = 90
) -> None:
    """Until /healthz answers 200 (the database is reachable; Rasa or the bot may be down)."""
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None or time.monotonic() > deadline:
            problem = "stopped" if process.poll() is not None else "gave no /healthz in time"
            raise AssertionError(f"the app {problem}:\n{log_file.read_text(errors='replace')}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)


def stop(process: subprocess.Popen[bytes], timeout: float = 20) -> None:
    """SIGTERM, as a service manager would; SIGKILL if it does not go in time."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)

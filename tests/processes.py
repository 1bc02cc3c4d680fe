"""Starting and stopping the real `python -m wegwijs ...` processes that tests and
benchmarks talk to."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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


# A busy machine makes a process slower to start, never a failure: the tests wait while the
# process lives, up to this ceiling.
START_CEILING_SECONDS = 600.0


def wait_while_alive(
    ready: Callable[[], bool],
    process: subprocess.Popen[bytes],
    log_file: Path,
    what: str,
    ceiling: float = START_CEILING_SECONDS,
) -> None:
    """Until `ready()`; fails at once when the process stops, and after `ceiling` seconds."""
    deadline = time.monotonic() + ceiling
    while not ready():
        if process.poll() is not None or time.monotonic() > deadline:
            problem = "stopped" if process.poll() is not None else f"not {what} in {ceiling:.0f}s"
            raise AssertionError(f"{problem}:\n{log_file.read_text(errors='replace')}")
        time.sleep(0.2)


def wait_until_serving(base_url: str, process: subprocess.Popen[bytes], log_file: Path) -> None:
    """Until /healthz answers 200 (the database is reachable; Rasa or the bot may be down)."""

    def healthy() -> bool:
        try:
            return httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    wait_while_alive(healthy, process, log_file, "serving /healthz")


def stop(process: subprocess.Popen[bytes], timeout: float = 20) -> None:
    """SIGTERM, as a service manager would; SIGKILL if it does not go in time."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@contextmanager
def cpu_hog() -> Iterator[None]:
    """Every core busy with other work while the block runs, as on a shared CI machine."""
    spinners = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"])
        for _ in range(os.cpu_count() or 2)
    ]
    try:
        yield
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()

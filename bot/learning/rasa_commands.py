"""Running Rasa: it lives in its own Python 3.10 environment and is only ever started as a
separate process, never imported (it pins SQLAlchemy 1.4 and pydantic 1)."""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlparse

import httpx

from bot.settings import Settings

# tqdm's line while DIET trains: "Epochs:  13%|█▎   | 13/100 [...]".
EPOCH = re.compile(rb"Epochs:\s+\d+%\|[^|]*\|\s*(\d+)/(\d+)")


# prctl(2)'s option that sends the child a signal when the thread that started it ends.
PR_SET_PDEATHSIG = 1


class RasaFailed(RuntimeError):
    """A Rasa command ended with an error; the message holds the end of its output."""


def _rasa(settings: Settings, *args: str) -> list[str]:
    if not settings.rasa_executable.exists():
        raise SystemExit(
            f"Rasa is not installed at {settings.rasa_executable}. Run `make setup` first."
        )
    return [str(settings.rasa_executable), *args]


def environment(settings: Settings) -> dict[str, str]:
    """Rasa's environment: quiet, and with the project's own components
    (rasa_project/components) importable, for training and serving alike."""
    paths = [str(settings.rasa_project_dir), os.environ.get("PYTHONPATH", "")]
    return {
        **os.environ,
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "PYTHONWARNINGS": "ignore",
        "PYTHONPATH": os.pathsep.join(path for path in paths if path),
    }


def _dies_with_parent() -> Callable[[], None] | None:
    """For Popen's preexec_fn on Linux: the Rasa child gets SIGTERM when the process that
    started it dies, even by kill -9, so no orphaned Rasa keeps a port and 1 GB of memory.
    The libc function is looked up here, in the parent: after fork only the call runs."""
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    parent = os.getpid()

    def arm() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the parent died before the signal was armed
            os._exit(1)

    return arm


def _run(
    settings: Settings, command: list[str], on_output: Callable[[bytes], None] | None = None
) -> str:
    """Run a Rasa command, handing each output line (split at \\r too, for progress bars)
    to `on_output`; raise RasaFailed with the output's end when it fails."""
    output = bytearray()
    line = bytearray()
    with subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=environment(settings),
        preexec_fn=_dies_with_parent(),  # it only calls prctl and getppid: fork-safe
    ) as process:
        assert process.stdout is not None
        while chunk := process.stdout.read1(4096):  # type: ignore[attr-defined]
            output.extend(chunk)
            for byte in chunk:
                if byte in b"\r\n":
                    if line and on_output:
                        on_output(bytes(line))
                    line.clear()
                else:
                    line.append(byte)
    text = output.decode(errors="replace")
    if process.returncode != 0:
        raise RasaFailed(text[-4000:])
    return text


def _project(project: Path) -> list[str]:
    """The pipeline and domain of a rendered project (bot.learning.training_data)."""
    return ["--config", str(project / "config.yml"), "--domain", str(project / "domain.yml")]


def validate(settings: Settings, project: Path) -> str:
    """`rasa data validate` on a rendered project; RasaFailed lists what is wrong."""
    return _run(
        settings,
        _rasa(settings, "data", "validate", *_project(project), "--data", str(project / "data")),
    )


def train(
    settings: Settings,
    project: Path,
    model: Path,
    on_epoch: Callable[[int, int], None] | None = None,
) -> Path:
    """Train the NLU model of `project` into `model`, reporting (epoch, epochs)."""
    model.parent.mkdir(parents=True, exist_ok=True)

    def progress(line: bytes) -> None:
        if on_epoch and (match := EPOCH.search(line)):
            on_epoch(int(match.group(1)), int(match.group(2)))

    _run(
        settings,
        _rasa(
            settings,
            "train",
            "nlu",
            *_project(project),
            "--nlu",
            str(project / "data"),
            "--out",
            str(model.parent),
            "--fixed-model-name",
            model.name.removesuffix(".tar.gz"),
        ),
        progress,
    )
    return model


def cross_validate(settings: Settings, project: Path, out_dir: Path, folds: int = 5) -> None:
    """k-fold cross-validation of the project's data; the reports land in `out_dir`."""
    _run(
        settings,
        _rasa(
            settings,
            "test",
            "nlu",
            "--nlu",
            str(project / "data"),
            *_project(project),
            "--cross-validation",
            "--folds",
            str(folds),
            "--out",
            str(out_dir),
        ),
    )


def report_scores(out_dir: Path) -> dict[str, float]:
    scores: dict[str, float] = {}
    for name, file in (
        ("intent_f1", "intent_report.json"),
        ("entity_f1", "DIETClassifier_report.json"),
    ):
        path = out_dir / file
        if path.exists():
            scores[name] = round(json.loads(path.read_text())["weighted avg"]["f1-score"], 4)
    return scores


def intent_scores(out_dir: Path) -> dict[str, float]:
    """F1 per intent from an evaluation's intent report."""
    report = json.loads((out_dir / "intent_report.json").read_text())
    return {
        intent: round(values["f1-score"], 4)
        for intent, values in report.items()
        if isinstance(values, dict) and "f1-score" in values and not intent.endswith(" avg")
    }


def serve_command(settings: Settings, model: Path, url: str | None = None) -> list[str]:
    where = urlparse(url or settings.rasa_url)
    return _rasa(
        settings,
        "run",
        "--enable-api",
        "--auth-token",
        settings.rasa_token,
        "--model",
        str(model),
        "--interface",
        where.hostname or "127.0.0.1",
        "--port",
        str(where.port or 5005),
    )


def _loaded_model(settings: Settings, url: str | None = None) -> str | None:
    """The model file the Rasa server at `url` (default: the configured one) has loaded."""
    try:
        response = httpx.get(
            f"{url or settings.rasa_url}/status", params={"token": settings.rasa_token}, timeout=2
        )
        return response.json().get("model_file") if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        return None


def is_up(settings: Settings, url: str | None = None) -> bool:
    """True when the Rasa server at `url` (default: the configured one) has a model."""
    return bool(_loaded_model(settings, url))


def serves(settings: Settings, model: Path) -> bool:
    """True when the configured Rasa server is up with exactly this model loaded."""
    loaded = _loaded_model(settings)
    return bool(loaded) and Path(loaded or "").name == model.name


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(
    settings: Settings, model: Path, log_file: Path, url: str | None = None
) -> subprocess.Popen[bytes]:
    """Start Rasa in the background with `model` and wait until it answers. On a busy
    machine loading takes minutes: it waits as long as the process lives, up to
    `rasa_start_timeout_seconds`."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as log:
        process = subprocess.Popen(
            serve_command(settings, model, url),
            stdout=log,
            stderr=subprocess.STDOUT,
            env=environment(settings),
            preexec_fn=_dies_with_parent(),  # it only calls prctl and getppid: fork-safe
        )
    deadline = time.monotonic() + settings.rasa_start_timeout_seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"The Rasa server stopped while starting; see {log_file}")
        if is_up(settings, url):
            return process
        time.sleep(1)
    process.terminate()
    raise SystemExit(
        f"The Rasa server did not start within {settings.rasa_start_timeout_seconds:.0f}s"
    )


@contextlib.contextmanager
def temporary_server(settings: Settings, model: Path, log_file: Path) -> Iterator[str]:
    """A second Rasa server with `model` on a free local port, for testing a model before
    it is live; yields its URL and stops it afterwards."""
    url = f"http://127.0.0.1:{free_port()}"
    process = start_server(settings, model, log_file, url)
    try:
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

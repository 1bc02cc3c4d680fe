"""Training and serving the Rasa model: Rasa lives in its own Python 3.10 environment and is
only ever run as a separate process, never imported (it pins SQLAlchemy 1.4 and pydantic 1)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import httpx

from bot.settings import Settings

MODEL_PREFIX = "nlu-"
START_TIMEOUT_SECONDS = 180


def training_files(settings: Settings) -> list[Path]:
    project = settings.rasa_project_dir
    return sorted([project / "config.yml", project / "domain.yml", *project.glob("data/**/*.yml")])


def training_hash(settings: Settings) -> str:
    """Changes exactly when the training data or pipeline changes; names the cached model."""
    digest = hashlib.sha256()
    for path in training_files(settings):
        digest.update(str(path.relative_to(settings.rasa_project_dir)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def current_model(settings: Settings) -> Path:
    return settings.rasa_model_dir / f"{MODEL_PREFIX}{training_hash(settings)}.tar.gz"


def _rasa(settings: Settings, *args: str) -> list[str]:
    if not settings.rasa_executable.exists():
        raise SystemExit(
            f"Rasa is not installed at {settings.rasa_executable}. Run `make setup` first."
        )
    return [str(settings.rasa_executable), *args]


def environment() -> dict[str, str]:
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONWARNINGS": "ignore"}


def train(settings: Settings, *, force: bool = False) -> Path:
    """Train the NLU model unless a model for exactly this data is already cached."""
    model = current_model(settings)
    if model.exists() and not force:
        print(f"NLU model is up to date: {model}")
        return model
    settings.rasa_model_dir.mkdir(parents=True, exist_ok=True)
    project = settings.rasa_project_dir
    print("Training the NLU model (about a minute)...", flush=True)
    subprocess.run(
        _rasa(
            settings,
            "train",
            "nlu",
            "--config",
            str(project / "config.yml"),
            "--domain",
            str(project / "domain.yml"),
            "--nlu",
            str(project / "data"),
            "--out",
            str(settings.rasa_model_dir),
            "--fixed-model-name",
            model.name.removesuffix(".tar.gz"),
        ),
        check=True,
        env=environment(),
    )
    return model


def serve_command(settings: Settings, model: Path) -> list[str]:
    url = urlparse(settings.rasa_url)
    return _rasa(
        settings,
        "run",
        "--enable-api",
        "--auth-token",
        settings.rasa_token,
        "--model",
        str(model),
        "--interface",
        url.hostname or "127.0.0.1",
        "--port",
        str(url.port or 5005),
    )


def is_up(settings: Settings) -> bool:
    try:
        response = httpx.get(
            f"{settings.rasa_url}/status", params={"token": settings.rasa_token}, timeout=2
        )
    except httpx.HTTPError:
        return False
    return response.status_code == 200 and bool(response.json().get("model_file"))


def start_server(settings: Settings, log_file: Path) -> subprocess.Popen[bytes]:
    """Start Rasa in the background and wait until it answers with the model loaded."""
    model = current_model(settings)
    if not model.exists():
        model = train(settings)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as log:
        process = subprocess.Popen(
            serve_command(settings, model), stdout=log, stderr=subprocess.STDOUT, env=environment()
        )
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"The Rasa server stopped while starting; see {log_file}")
        if is_up(settings):
            return process
        time.sleep(1)
    process.terminate()
    raise SystemExit(f"The Rasa server did not start within {START_TIMEOUT_SECONDS}s")


def evaluate(settings: Settings, test_file: Path, out_dir: Path) -> dict[str, float]:
    """Run `rasa test nlu` on a held-out file and return weighted intent and entity F1."""
    model = train(settings)
    subprocess.run(
        _rasa(
            settings,
            "test",
            "nlu",
            "--nlu",
            str(test_file),
            "--model",
            str(model),
            "--out",
            str(out_dir),
        ),
        check=True,
        env=environment(),
        stdout=sys.stderr,
    )
    return report_scores(out_dir)


def cross_validate(settings: Settings, out_dir: Path, folds: int = 5) -> dict[str, float]:
    project = settings.rasa_project_dir
    subprocess.run(
        _rasa(
            settings,
            "test",
            "nlu",
            "--nlu",
            str(project / "data"),
            "--config",
            str(project / "config.yml"),
            "--domain",
            str(project / "domain.yml"),
            "--cross-validation",
            "--folds",
            str(folds),
            "--out",
            str(out_dir),
        ),
        check=True,
        env=environment(),
        stdout=sys.stderr,
    )
    return report_scores(out_dir)


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

"""How long the NLU model takes to train, and how fast the trained model parses.

Trains the shipped training data with `rasa_project/config.yml` from scratch (an empty Rasa
cache) into a temporary folder (the same command admins' retraining runs), timing the whole
`rasa train nlu`; then starts Rasa with that model and parses every blind-set message one at
a time over HTTP, as the bot does. Writes bench/results/nlu_speed.json and .md.

    .venv/bin/python -m bench.nlu_speed          # about 5 minutes on 2 cores
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

from bot.learning import evaluation, rasa_commands, training_data
from bot.nlu.client import RasaClient
from bot.settings import Settings
from wegwijs.assembly import default_bundle

RESULTS = Path(__file__).parent / "results"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def parse_times(url: str, token: str, texts: list[str]) -> list[float]:
    client = RasaClient(url, token, timeout=30)
    try:
        for text in texts[:20]:  # warm-up, not measured
            await client.parse(text)
        took = []
        for text in texts:
            start = time.perf_counter()
            await client.parse(text)
            took.append((time.perf_counter() - start) * 1000)
        return took
    finally:
        await client.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wegwijs-nlu-speed-") as work:
        folder = Path(work)
        # Rasa reuses trained components from its cache (~/.rasa/cache); an empty one makes
        # this a training from scratch, as after any change to the training data.
        os.environ["RASA_CACHE_DIRECTORY"] = str(folder / "rasa-cache")
        settings = Settings(rasa_model_dir=folder / "models", data_dir=folder / "data")
        bundle = default_bundle(settings)
        project = folder / "project"
        hash_ = training_data.render(bundle, settings, project)
        model = training_data.model_path(settings, hash_)
        print(f"Training {len(bundle.examples)} examples from scratch...", flush=True)
        start = time.monotonic()
        rasa_commands.train(settings, project, model)
        train_seconds = time.monotonic() - start
        texts = [case.text for case in evaluation.read_cases(settings.evaluation_file)]
        with rasa_commands.temporary_server(settings, model, folder / "rasa.log") as url:
            took = asyncio.run(parse_times(url, settings.rasa_token, texts))
    figures = {
        "date": date.today().isoformat(),
        "cores": os.cpu_count(),
        "examples": len(bundle.examples),
        "train_seconds": round(train_seconds, 1),
        "parses": len(took),
        "parse_ms_p50": round(statistics.median(took), 1),
        "parse_ms_p95": round(percentile(took, 0.95), 1),
        "parse_ms_max": round(max(took), 1),
    }
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "nlu_speed.json").write_text(json.dumps(figures, indent=2) + "\n")
    table = [
        "| measurement | value |",
        "| --- | ---: |",
        f"| training from scratch, {figures['examples']} examples | {train_seconds:.0f} s |",
        f"| parse, one at a time, p50 ({figures['parses']} blind messages) "
        f"| {figures['parse_ms_p50']} ms |",
        f"| parse, one at a time, p95 | {figures['parse_ms_p95']} ms |",
    ]
    (args.results / "nlu_speed.md").write_text("\n".join(table) + "\n")
    print("\n".join(table))


if __name__ == "__main__":
    main()

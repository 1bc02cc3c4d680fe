"""The pipeline's own Rasa component, run in Rasa's environment (the app never imports
Rasa): the average of DIET's ranking and the regression's."""

from __future__ import annotations

import json
import subprocess

import pytest

from bot.learning.rasa_commands import environment
from bot.settings import Settings

pytestmark = pytest.mark.rasa

# (DIET's ranking, the regression's probabilities, DIET's weight) → the blended ranking.
CASES = [
    # DIET reads a combination, the regression the single need: the average decides.
    (
        [("request_tools+request_permit", 0.7), ("request_permit", 0.3)],
        {"request_permit": 0.8, "request_tools+request_permit": 0.1, "request_tools": 0.1},
        0.6,
        [("request_permit", 0.5), ("request_tools+request_permit", 0.46), ("request_tools", 0.04)],
    ),
    # A label only one of them ranks counts as 0 in the other.
    ([("greet", 1.0)], {"goodbye": 1.0}, 0.5, [("goodbye", 0.5), ("greet", 0.5)]),
    # Without DIET's ranking (it is not in the pipeline) the regression stands alone.
    ([], {"greet": 0.9, "goodbye": 0.1}, 0.6, [("greet", 0.9), ("goodbye", 0.1)]),
]

SCRIPT = """
import json, sys
from components.blended_intents import blend
for earlier, own, weight in json.load(sys.stdin):
    ranking = blend([{"name": n, "confidence": c} for n, c in earlier], own, weight)
    print(json.dumps([[item["name"], round(item["confidence"], 4)] for item in ranking]))
"""


def test_blend_averages_the_two_rankings() -> None:
    settings = Settings()
    python = settings.rasa_executable.parent / "python"
    cases = [[earlier, own, weight] for earlier, own, weight, _ in CASES]
    result = subprocess.run(
        [str(python), "-c", SCRIPT],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        env=environment(settings),
        check=True,
        timeout=300,
    )
    rankings = [json.loads(line) for line in result.stdout.splitlines()]
    assert rankings == [[list(pair) for pair in expected] for *_, expected in CASES]

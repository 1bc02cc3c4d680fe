"""Accuracy against the amount of training data: is more data still paying off?

The training examples are thinned per intent (the same fixed seed every time, at least two
per intent so that every intent stays trainable), a model is trained on each share, and
every model is evaluated on the blind set the way `wegwijs nlu test` evaluates the live one.
"""

from __future__ import annotations

import dataclasses
import random
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.knowledge.bundle import Bundle, Example
from bot.learning import evaluation, rasa_commands, training_data
from bot.settings import Settings

SHARES = (0.25, 0.5, 0.75, 1.0)
SEED = 20261201


def thinned(bundle: Bundle, share: float) -> Bundle:
    """The bundle with `share` of each intent's examples, chosen with a fixed seed."""
    by_intent: dict[str, list[Example]] = defaultdict(list)
    for example in bundle.examples:
        by_intent[example.intent].append(example)
    chooser = random.Random(SEED)
    kept: list[Example] = []
    for intent in sorted(by_intent):
        examples = by_intent[intent]
        count = max(training_data.MIN_EXAMPLES, round(len(examples) * share))
        kept.extend(chooser.sample(examples, min(count, len(examples))))
    return dataclasses.replace(bundle, examples=kept)


def learning_curve(
    settings: Settings,
    bundle: Bundle,
    cases: list[evaluation.Case],
    work: Path,
    on_step: Callable[[str], None] = print,
) -> list[dict[str, Any]]:
    """One row per share: examples used, and the blind-set figures of its model."""
    rows = []
    knowledge = bundle.knowledge()
    for share in SHARES:
        part = thinned(bundle, share)
        project = work / f"share-{share:.2f}"
        hash_ = training_data.render(part, settings, project)
        model = training_data.model_path(settings, hash_)
        if not model.exists():
            on_step(f"{share:.0%} of the data ({len(part.examples)} examples): training")
            rasa_commands.train(settings, project, model)
        on_step(f"{share:.0%} of the data: evaluating on the blind set")
        figures = evaluation.evaluate_model(
            settings, knowledge, model, cases, work / f"rasa-{share:.2f}.log"
        )
        rows.append(
            {
                "share": share,
                "examples": len(part.examples),
                "model": model.name,
                **{key: figures[key] for key, _ in evaluation.SUMMARY_ROWS},
            }
        )
    return rows

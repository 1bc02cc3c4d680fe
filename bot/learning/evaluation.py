"""How well residents are understood, measured on messages the model never trained on.

The blind set (rasa_project/tests/blind.yml) was written by an author who never saw the
training data. Each message is parsed by a real Rasa server and then settled the way the bot
settles it (bot.nlu.needs), so the figures are those of what a resident gets, not of DIET
alone: accuracy, per-need precision/recall/F1, multi-need exact match, single needs read as
several, out-of-scope precision and recall, a confusion matrix and every error.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from bot.learning import rasa_commands
from bot.nlu.client import RasaClient
from bot.nlu.interpretation import MULTI_INTENT_SEPARATOR
from bot.nlu.needs import settle_needs
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.knowledge import Knowledge

MARKUP = re.compile(r"\[([^\[\]]+)\]\(([^()]+)\)")
OUT_OF_SCOPE = "out_of_scope"
NEED_PREFIX = "request_"
CONCURRENCY = 4


@dataclass(frozen=True)
class Case:
    text: str
    expected: str


@dataclass(frozen=True)
class Prediction:
    text: str
    expected: str
    predicted: str
    confidence: float


def read_cases(path: Path) -> list[Case]:
    """The messages of a Rasa NLU file with their intent; entity markup is taken out."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    cases = []
    for block in data.get("nlu") or []:
        if "intent" not in block:
            continue
        for line in str(block.get("examples") or "").splitlines():
            if line.strip().startswith("- "):
                text = MARKUP.sub(r"\1", line.strip()[2:].strip())
                cases.append(Case(text, str(block["intent"])))
    return cases


def needs_of(label: str) -> set[str]:
    """The request intents in a label: `request_room+request_budget` has two."""
    return {part for part in label.split(MULTI_INTENT_SEPARATOR) if part.startswith(NEED_PREFIX)}


async def predict(
    cases: list[Case], interpret: Callable[[str], Awaitable[tuple[str, float]]]
) -> list[Prediction]:
    """Run every case through `interpret` (text → settled label and confidence), a few at
    a time."""
    limit = asyncio.Semaphore(CONCURRENCY)

    async def one(case: Case) -> Prediction:
        async with limit:
            label, confidence = await interpret(case.text)
        return Prediction(case.text, case.expected, label, round(confidence, 4))

    return list(await asyncio.gather(*(one(case) for case in cases)))


def evaluate_model(
    settings: Settings,
    knowledge: Knowledge,
    model: Path,
    cases: list[Case],
    log_file: Path,
    served_at: str | None = None,
) -> dict[str, Any]:
    """The report of `model` on `cases`: parsed by the Rasa server at `served_at` when it
    already serves this model, otherwise by a temporary server of its own."""
    if served_at is not None:
        return asyncio.run(_evaluate_at(settings, knowledge, served_at, cases))
    with rasa_commands.temporary_server(settings, model, log_file) as url:
        return asyncio.run(_evaluate_at(settings, knowledge, url, cases))


async def _evaluate_at(
    settings: Settings, knowledge: Knowledge, url: str, cases: list[Case]
) -> dict[str, Any]:
    client = RasaClient(url, settings.rasa_token, timeout=60, busy_timeout=600)

    async def interpret(text: str) -> tuple[str, float]:
        settled = settle_needs(await client.parse(text), knowledge)
        return settled.intent, settled.confidence

    try:
        return report(await predict(cases, interpret))
    finally:
        await client.aclose()


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _f1(precision: float | None, recall: float | None) -> float | None:
    if not precision or not recall:
        return 0.0 if precision is not None and recall is not None else None
    return round(2 * precision * recall / (precision + recall), 4)


def report(predictions: list[Prediction]) -> dict[str, Any]:
    """All figures of one evaluation, as plain data for JSON and for the summary."""
    correct = sum(p.predicted == p.expected for p in predictions)
    per_need: dict[str, dict[str, Any]] = {}
    all_needs = sorted(set().union(*(needs_of(p.expected) for p in predictions)))
    pairs = [(needs_of(p.expected), needs_of(p.predicted)) for p in predictions]
    for need in all_needs:
        tp = sum(need in expected and need in predicted for expected, predicted in pairs)
        fp = sum(need not in expected and need in predicted for expected, predicted in pairs)
        fn = sum(need in expected and need not in predicted for expected, predicted in pairs)
        precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
        per_need[need] = {
            "precision": precision,
            "recall": recall,
            "f1": _f1(precision, recall),
            "support": tp + fn,
        }
    multi = [p for p in predictions if len(needs_of(p.expected)) > 1]
    single = [p for p in predictions if len(needs_of(p.expected)) == 1]
    requests = [p for p in predictions if needs_of(p.expected)]
    said_oos = [p for p in predictions if p.predicted == OUT_OF_SCOPE]
    real_oos = [p for p in predictions if p.expected == OUT_OF_SCOPE]
    confusion: dict[str, Counter[str]] = {}
    for p in predictions:
        confusion.setdefault(p.expected, Counter())[p.predicted] += 1
    per_label = _per_label_f1(predictions)
    return {
        "messages": len(predictions),
        "accuracy": _ratio(correct, len(predictions)),
        "intent_f1": round(
            sum(f1 * support for f1, support in per_label.values()) / len(predictions), 4
        )
        if predictions
        else None,
        "per_intent_f1": {label: f1 for label, (f1, _) in per_label.items()},
        "need_accuracy": _ratio(
            sum(needs_of(p.predicted) == needs_of(p.expected) for p in requests), len(requests)
        ),
        "per_need": per_need,
        "multi_need_exact_match": _ratio(sum(p.predicted == p.expected for p in multi), len(multi)),
        "multi_need_messages": len(multi),
        "single_read_as_multi": _ratio(
            sum(len(needs_of(p.predicted)) > 1 for p in single), len(single)
        ),
        "single_need_messages": len(single),
        "out_of_scope_precision": _ratio(
            sum(p.expected == OUT_OF_SCOPE for p in said_oos), len(said_oos)
        ),
        "out_of_scope_recall": _ratio(
            sum(p.predicted == OUT_OF_SCOPE for p in real_oos), len(real_oos)
        ),
        "requests_sent_out_of_scope": _ratio(
            sum(p.predicted == OUT_OF_SCOPE for p in requests), len(requests)
        ),
        "confusion": {
            expected: dict(sorted(row.items())) for expected, row in sorted(confusion.items())
        },
        "errors": [
            {
                "text": p.text,
                "expected": p.expected,
                "predicted": p.predicted,
                "confidence": p.confidence,
            }
            for p in predictions
            if p.predicted != p.expected
        ],
    }


def _per_label_f1(predictions: list[Prediction]) -> dict[str, tuple[float, int]]:
    """F1 and support per expected label, as Rasa's intent report has them."""
    scores = {}
    for label in sorted({p.expected for p in predictions}):
        tp = sum(p.expected == label == p.predicted for p in predictions)
        fp = sum(p.predicted == label != p.expected for p in predictions)
        support = sum(p.expected == label for p in predictions)
        precision, recall = _ratio(tp, tp + fp), _ratio(tp, support)
        scores[label] = (_f1(precision, recall) or 0.0, support)
    return scores


SUMMARY_ROWS = (
    ("intent_f1", "intent F1 (weighted)"),
    ("accuracy", "intent/need accuracy (all messages)"),
    ("need_accuracy", "need accuracy (request messages)"),
    ("multi_need_exact_match", "multi-need exact match"),
    ("single_read_as_multi", "single need read as several"),
    ("out_of_scope_precision", "out-of-scope precision"),
    ("out_of_scope_recall", "out-of-scope recall"),
    ("requests_sent_out_of_scope", "requests sent out of scope"),
)


def summary(figures: dict[str, Any]) -> str:
    """The headline figures and the per-need table as Markdown."""

    def show(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.3f}"

    lines = [f"{figures['messages']} messages", "", "| measure | value |", "| --- | ---: |"]
    lines += [f"| {name} | {show(figures[key])} |" for key, name in SUMMARY_ROWS]
    lines += ["", "| need | precision | recall | F1 | support |", "| --- |" + " ---: |" * 4]
    for need, row in figures["per_need"].items():
        lines.append(
            f"| {need} | {show(row['precision'])} | {show(row['recall'])} "
            f"| {show(row['f1'])} | {row['support']} |"
        )
    return "\n".join(lines)

"""Scripted conversations, kept as data in tests/bot/dialogue/conversations/*.yml, run against the
dialogue engine in-process (the whole suite takes about a second).

Each resident turn says what the resident typed or pressed and, where it matters, what the
model read in it (`nlu`: an intent, or intent, confidence and entities); without `nlu` a
typed answer reads as the model reads most answers, an unsure `inform`. tests/e2e runs a few
of the same kind through the real Rasa server and the real bot process.

What a turn may check, after the engine handled it:
- `asks`: the question now open; `summary: true`: the summary is shown;
- `says`: text or error keys, each of which a reply must be made of (placeholders match
  anything);
- `action`: what the service is asked to do (submit, handover, show_status);
- `needs`: the request's needs; `answers`: stored answers (a subset), `unanswered`: keys
  not answered (yet).
And for the whole conversation: `never_asks`, questions that must not be asked at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.dialogue.engine import DialogueEngine
from bot.dialogue.state import ConversationState, Phase
from bot.dialogue.turns import Outcome, Turn
from bot.knowledge import Knowledge
from bot.nlu.interpretation import Entity, Interpretation

FOLDER = Path(__file__).parent / "conversations"
TODAY = date(2026, 11, 23)  # a Monday
UNSURE = {"intent": "inform", "confidence": 0.3}
TURN_KEYS = {"resident", "press", "command", "media", "edited", "nlu", "contact"}
CHECK_KEYS = {"asks", "summary", "says", "action", "needs", "answers", "unanswered"}


@dataclass(frozen=True)
class Script:
    name: str
    source: str
    today: date
    language: str
    turns: list[dict[str, Any]]
    never_asks: list[str]


def _scripts() -> list[Script]:
    scripts = []
    for path in sorted(FOLDER.glob("*.yml")):
        for item in yaml.safe_load(path.read_text(encoding="utf-8"))["conversations"]:
            scripts.append(
                Script(
                    item["name"],
                    path.name,
                    date.fromisoformat(str(item.get("today", TODAY))),
                    item.get("language", "nl"),
                    item["turns"],
                    list(item.get("never_asks", [])),
                )
            )
    return scripts


SCRIPTS = _scripts()


def reading(text: str, nlu: str | dict[str, Any] | None) -> Interpretation:
    """What the model made of `text`, as the script says: the entities are found in it."""
    spec = UNSURE if nlu is None else {"intent": nlu} if isinstance(nlu, str) else nlu
    intent, confidence = spec["intent"], float(spec.get("confidence", 0.95))
    found = []
    for name, values in (spec.get("entities") or {}).items():
        for value in values if isinstance(values, list) else [values]:
            start = text.lower().find(str(value).lower())
            assert start >= 0, f"entity {value!r} is not in {text!r}"
            found.append(
                Entity(
                    name, text[start : start + len(value)], str(value), start, start + len(value)
                )
            )
    return Interpretation(text, intent, confidence, ((intent, confidence),), tuple(found))


def _made_of(template: str, text: str) -> bool:
    pattern = re.sub(r"\\\{\w+\\\}", ".*", re.escape(template))
    return re.search(pattern, text, re.DOTALL) is not None


def _turn(step: dict[str, Any]) -> Turn:
    contact = step.get("contact", {})
    if "resident" in step:
        text = str(step["resident"])
        return Turn(text=text, interpretation=reading(text, step.get("nlu")), known_contact=contact)
    if "press" in step:
        return Turn(button=step["press"], known_contact=contact)
    if "command" in step:
        return Turn(command=step["command"], known_contact=contact)
    if "edited" in step:  # what the edited message now says never reaches the engine
        return Turn(edited=True, known_contact=contact)
    return Turn(media=True)


def _check(
    step: dict[str, Any], state: ConversationState, outcome: Outcome, knowledge: Knowledge
) -> None:
    said = "\n---\n".join(r.text for r in outcome.replies + outcome.follow_up)
    if "asks" in step:
        assert state.phase == Phase.ASKING and state.current == step["asks"], (
            f"expected the question {step['asks']!r}, got {state.phase} {state.current!r}:\n{said}"
        )
    if step.get("summary"):
        assert state.phase == Phase.CONFIRM, f"expected the summary, got {state.phase}:\n{said}"
    for key in [step["says"]] if isinstance(step.get("says"), str) else step.get("says", []):
        texts = knowledge.texts.get(key) or knowledge.errors[key]  # a bot text or an error
        template = texts.get(state.language) or texts["nl"]
        assert _made_of(template, said), f"expected the text {key!r} in:\n{said}"
    if "action" in step:
        assert outcome.action == step["action"], f"expected {step['action']}, got {outcome.action}"
    if "needs" in step:
        assert state.needs == step["needs"]
    for key, value in (step.get("answers") or {}).items():
        assert state.answers.get(key, "<unanswered>") == value, (
            f"{key}: expected {value!r}, stored {state.answers.get(key, '<unanswered>')!r}"
        )
    for key in step.get("unanswered", []):
        assert key not in state.answers, f"{key} should be open, stored {state.answers[key]!r}"


def test_the_scripts_are_well_formed() -> None:
    assert len(SCRIPTS) >= 80
    names = [script.name for script in SCRIPTS]
    assert len(names) == len(set(names)), "two conversations share a name"
    for script in SCRIPTS:
        for step in script.turns:
            assert set(step) <= TURN_KEYS | CHECK_KEYS, f"{script.name}: unknown {set(step)}"
            assert len(set(step) & {"resident", "press", "command", "media", "edited"}) == 1, (
                script.name
            )


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda s: f"{s.source}: {s.name}")
def test_conversation(script: Script, knowledge: Knowledge) -> None:
    engine = DialogueEngine(knowledge, lambda: script.today)
    state = ConversationState(language=script.language)
    asked: list[str] = []
    for number, step in enumerate(script.turns, 1):
        outcome = engine.handle(state, _turn(step))
        if state.phase == Phase.ASKING and state.current:
            asked.append(state.current)
        try:
            _check(step, state, outcome, knowledge)
        except AssertionError as error:
            raise AssertionError(f"turn {number} ({_describe(step)}): {error}") from None
    repeated = sorted(set(asked) & set(script.never_asks))
    assert not repeated, f"asked although already known: {repeated}"


def _describe(step: dict[str, Any]) -> str:
    for key in ("resident", "press", "command"):
        if key in step:
            return f"{key} {step[key]!r}"
    return "edited" if "edited" in step else "media"

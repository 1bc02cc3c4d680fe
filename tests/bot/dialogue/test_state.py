"""The conversation's phases: one table of allowed changes, enforced in one place."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from bot.dialogue.state import TRANSITIONS, ConversationState, Phase, PhaseError
from bot.settings import PROJECT_ROOT


def test_a_change_the_table_does_not_allow_is_refused() -> None:
    state = ConversationState(phase=Phase.ASKING)
    with pytest.raises(PhaseError, match="asking to clarify"):
        state.move_to(Phase.CLARIFY)
    assert state.phase == Phase.ASKING
    state.move_to(Phase.ASKING)  # staying is always allowed
    state.move_to(Phase.CONFIRM)
    assert state.phase == Phase.CONFIRM


def test_every_phase_can_be_left_and_reached() -> None:
    assert set(TRANSITIONS) == set(Phase)
    reachable = {Phase.IDLE} | {phase for targets in TRANSITIONS.values() for phase in targets}
    assert reachable == set(Phase)


def test_a_cancel_goes_back_to_idle_from_anywhere() -> None:
    for phase in Phase:
        state = ConversationState(phase=phase, needs=["room"], reply_to=7, language="en")
        state.reset()
        assert (state.phase, state.needs, state.reply_to, state.language) == (
            Phase.IDLE,
            [],
            7,
            "en",
        )


def test_only_move_to_sets_the_phase() -> None:
    """Every phase change goes through ConversationState.move_to: no `….phase = …` elsewhere."""
    offenders = []
    paths = [
        *(PROJECT_ROOT / "bot" / "dialogue").rglob("*.py"),
        PROJECT_ROOT / "bot" / "conversation.py",
        *(PROJECT_ROOT / "handlers").rglob("*.py"),
    ]
    for path in sorted(paths):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            targets = node.targets if isinstance(node, ast.Assign) else []
            for target in targets:
                names = target.elts if isinstance(target, ast.Tuple) else [target]
                if any(isinstance(n, ast.Attribute) and n.attr == "phase" for n in names):
                    offenders.append(f"{Path(path).relative_to(PROJECT_ROOT)}:{node.lineno}")
    allowed = {"bot/dialogue/state.py"}
    assert {o.split(":")[0] for o in offenders} <= allowed, offenders

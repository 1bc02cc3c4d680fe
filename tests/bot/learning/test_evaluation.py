"""The evaluation's figures on predictions written out by hand, and the blind set itself:
big enough, labelled with known intents, and no near-copy of a training example."""

from __future__ import annotations

import re
from collections import Counter
from difflib import SequenceMatcher
from pathlib import Path

import pytest

from bot.knowledge.bundle import Bundle
from bot.learning.evaluation import Prediction, read_cases, report
from bot.settings import Settings

BLIND = Settings().evaluation_file
MARKUP = re.compile(r"\[([^\[\]]+)\]\(([^()]+)\)")
NEAR_COPY = 0.9


def p(expected: str, predicted: str) -> Prediction:
    return Prediction(f"{expected} -> {predicted}", expected, predicted, 0.9)


def test_the_figures_of_a_small_evaluation() -> None:
    figures = report(
        [
            p("request_room", "request_room"),
            p("request_room", "request_room+request_tools"),  # a single need read as two
            p("request_tools", "out_of_scope"),  # a request sent away
            p("request_room+request_budget", "request_room+request_budget"),
            p("request_tools+request_permit", "request_tools"),
            p("out_of_scope", "out_of_scope"),
            p("out_of_scope", "faq_costs"),
            p("greet", "greet"),
        ]
    )
    assert figures["messages"] == 8
    assert figures["accuracy"] == 0.5
    assert figures["need_accuracy"] == 0.4  # 2 of the 5 request messages
    assert figures["multi_need_exact_match"] == 0.5
    assert figures["single_read_as_multi"] == round(1 / 3, 4)
    assert figures["out_of_scope_precision"] == 0.5
    assert figures["out_of_scope_recall"] == 0.5
    assert figures["requests_sent_out_of_scope"] == 0.2
    room = figures["per_need"]["request_room"]
    assert (room["precision"], room["recall"], room["support"]) == (1.0, 1.0, 3)
    tools = figures["per_need"]["request_tools"]
    assert (tools["precision"], tools["recall"]) == (0.5, 0.5)  # 1 right, 1 extra, 1 missed
    assert figures["confusion"]["request_room"] == {
        "request_room": 1,
        "request_room+request_tools": 1,
    }
    assert len(figures["errors"]) == 4


def test_reading_cases_takes_the_entity_markup_out(tmp_path: Path) -> None:
    file = tmp_path / "cases.yml"
    file.write_text(
        'version: "3.1"\nnlu:\n- intent: request_tools\n  examples: |\n'
        "    - [20](quantity) [hekken](item) lenen\n    - een tent\n"
    )
    assert [(c.text, c.expected) for c in read_cases(file)] == [
        ("20 hekken lenen", "request_tools"),
        ("een tent", "request_tools"),
    ]


# -- the blind set -----------------------------------------------------------------------


def plain(text: str) -> str:
    return " ".join(re.sub(r"[^\w€]+", " ", MARKUP.sub(r"\1", text).lower()).split())


def test_the_blind_set_is_big_and_broad_enough(bundle: Bundle) -> None:
    counts = Counter(case.expected for case in read_cases(BLIND))
    assert sum(counts.values()) >= 500
    assert set(counts) <= set(bundle.intents)
    for need in ("request_room", "request_tools", "request_budget", "request_permit"):
        assert counts[need] >= 70, need
    assert sum(n for label, n in counts.items() if "+" in label) >= 60
    assert counts["out_of_scope"] >= 60
    assert counts["check_status"] >= 20
    assert "written blind" in BLIND.read_text(encoding="utf-8").split("nlu:")[0]


def test_no_blind_message_is_a_near_copy_of_a_training_example(bundle: Bundle) -> None:
    """The blind set measures understanding only while the model never saw its messages,
    not even with a word changed."""
    training = {plain(example.text) for example in bundle.examples}
    by_length: dict[int, list[str]] = {}
    for text in training:
        by_length.setdefault(len(text), []).append(text)
    copies = []
    for case in read_cases(BLIND):
        text = plain(case.text)
        matcher = SequenceMatcher(None, text, autojunk=False)
        # Only strings of about the same length can be this similar.
        lengths = range(int(len(text) * 0.8), int(len(text) * 1.25) + 2)
        for other in (o for n in lengths for o in by_length.get(n, ())):
            matcher.set_seq1(other)
            if (
                matcher.real_quick_ratio() >= NEAR_COPY
                and matcher.quick_ratio() >= NEAR_COPY
                and matcher.ratio() >= NEAR_COPY
            ):
                copies.append((case.text, other))
    assert copies == [], f"{len(copies)} near-copies, e.g. {copies[:5]}"


@pytest.mark.parametrize("file", [BLIND], ids=["blind"])
def test_the_blind_set_has_no_duplicates(file: Path) -> None:
    texts = [plain(case.text) for case in read_cases(file)]
    assert [t for t, n in Counter(texts).items() if n > 1] == []

"""What the resident sees: prompts, the summary, the edit menu and the buttons.

The engine decides what happens; this module only words it, in the conversation's language,
from the texts admins keep."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from bot.contact import CONTACT_FIELDS
from bot.dialogue.presentation import format_day, format_value, need_label, need_list
from bot.dialogue.state import ConversationState
from bot.dialogue.turns import Button, Expectation, Reply
from bot.knowledge import NEED_ORDER, POINTER_PREFIX, Knowledge, Question
from bot.nlu.cues import mentions
from bot.nlu.interpretation import Interpretation

# The answers an answer must come before: the day of the activity, or the loan's pick-up day.
DEADLINE_KEYS = ("date", "pickup_date")


class Replies:
    def __init__(
        self,
        knowledge: Knowledge,
        expectations: Callable[[ConversationState], list[Expectation]] = lambda state: [],
    ) -> None:
        self.knowledge = knowledge
        # Who will answer the request as it stands, and by when (the service routes it).
        self.expectations = expectations

    def text(self, state: ConversationState, key: str, **values: Any) -> str:
        return self.knowledge.text(key, state.language, **values)

    def say(
        self,
        state: ConversationState,
        key: str,
        buttons: list[list[Button]] | None = None,
        **values: Any,
    ) -> Reply:
        return Reply(self.text(state, key, **values), buttons or [])

    def error(self, state: ConversationState, key: str, **values: Any) -> str:
        return self.knowledge.error(key, state.language, **values)

    def prompt(
        self,
        state: ConversationState,
        question: Question,
        prefix: str | None,
        skippable: bool = True,
        extra: list[Button] | None = None,
    ) -> Reply:
        parts = [prefix] if prefix else []
        if question.key in CONTACT_FIELDS and not state.privacy_notice_shown:
            state.privacy_notice_shown = True
            parts.append(self.text(state, "privacy_notice"))
        parts.append(question.prompt.get(state.language) or question.prompt["nl"])
        buttons: list[list[Button]] = []
        if question.type == "choice":
            row: list[Button] = []
            for choice in question.choices:
                row.append(Button(choice.value, f"choice:{choice.value}"))
                if len(row) == 2:
                    buttons.append(row)
                    row = []
            if row:
                buttons.append(row)
        buttons.extend([button] for button in extra or [])
        if question.optional and skippable:
            buttons.append([Button(self.text(state, "skip"), "skip")])
        return Reply(" ".join(parts), buttons)

    def summary(self, state: ConversationState) -> Reply:
        language = state.language
        lines = [self.text(state, "summary_title")]
        for need in state.needs:
            definition = self.knowledge.needs[need]
            lines.append("")
            lines.append(definition.label.get(language) or definition.label["nl"])
            lines.extend(self._summary_line(state, question) for question in definition.questions)
        if state.recurrence:
            lines.append(self.text(state, "summary_recurrence", recurrence=state.recurrence))
        lines.append("")
        lines.append(self.text(state, "summary_contact"))
        lines.extend(self._summary_line(state, q) for q in self.knowledge.contact)
        lines.append("")
        expectations = self.expectations(state)
        lines.extend(
            self.text(
                state,
                "summary_expected",
                department=e.department,
                due=format_day(e.due, state.language),
            )
            for e in expectations
        )
        late = self._too_late(state, expectations)
        if late and state.urgent:
            lines.append(self.text(state, "marked_urgent"))
        elif late:
            deadline, expectation = late
            lines.append(
                self.text(
                    state,
                    "answer_after_event",
                    due=format_day(expectation.due, state.language),
                    date=format_day(deadline, state.language),
                    department=expectation.department,
                    contact=expectation.contact or self.text(state, "contact_unknown"),
                )
            )
        lines.append("")
        lines.append(self.text(state, "summary_question"))
        buttons = [
            [
                Button(self.text(state, "button_send"), "confirm:send"),
                Button(self.text(state, "button_edit"), "confirm:edit"),
                Button(self.text(state, "button_cancel"), "confirm:cancel"),
            ]
        ]
        if late and not state.urgent:
            buttons.append([Button(self.text(state, "button_urgent"), "confirm:urgent")])
        return Reply("\n".join(lines), buttons)

    def _too_late(
        self, state: ConversationState, expectations: list[Expectation]
    ) -> tuple[date, Expectation] | None:
        """The first deadline (the activity's day) and the answer that would come on or
        after it, if one would."""
        deadlines = [
            date.fromisoformat(state.answers[key])
            for key in DEADLINE_KEYS
            if state.answers.get(key)
        ]
        if not deadlines or not expectations:
            return None
        deadline = min(deadlines)
        latest = max(expectations, key=lambda e: e.due)
        return (deadline, latest) if latest.due >= deadline else None

    def _summary_line(self, state: ConversationState, question: Question) -> str:
        label = question.label.get(state.language) or question.label["nl"]
        value = format_value(
            question, state.answers.get(question.key), state.language, self.knowledge
        )
        return f"• {label}: {value}"

    def edit_menu(self, state: ConversationState, key: str = "edit_menu") -> Reply:
        language = state.language
        rows = [
            [Button(q.label.get(language) or q.label["nl"], f"edit:{q.key}")]
            for q in self.knowledge.questions_for(state.needs)
        ]
        for need in NEED_ORDER:
            label = need_label(self.knowledge, need, language)
            if need not in state.needs:
                rows.append([Button(self.text(state, "add_need", need=label), f"need:{need}")])
            elif len(state.needs) > 1:
                rows.append([Button(self.text(state, "remove_need", need=label), f"remove:{need}")])
        rows.append([Button(self.text(state, "button_back"), "back")])
        return self.say(state, key, buttons=rows)

    def handover_offer(self, state: ConversationState, key: str = "handover_offer") -> Reply:
        return self.say(
            state,
            key,
            buttons=[
                [Button(self.text(state, "handover_yes"), "handover:yes")],
                [Button(self.text(state, "handover_no"), "handover:no")],
            ],
        )

    def need_buttons(self, state: ConversationState) -> list[list[Button]]:
        return [
            [Button(need_label(self.knowledge, need, state.language), f"need:{need}")]
            for need in NEED_ORDER
            if need in self.knowledge.needs
        ]

    def guess_buttons(
        self, state: ConversationState, interpretation: Interpretation
    ) -> list[list[Button]]:
        """The model's best guesses first, then the four needs, then "something else"."""
        rows: list[list[Button]] = []
        seen: set[str] = set()
        for intent, confidence in interpretation.ranking[:4]:
            if confidence < self.knowledge.threshold("guess_button"):
                continue
            needs = [n for n in (self.knowledge.need_for_intent(i) for i in intent.split("+")) if n]
            if needs and len(needs) == len(intent.split("+")):
                data = "need:" + ",".join(needs)
                label = need_list(self.knowledge, needs, state.language).capitalize()
            elif f"label_{intent}" in self.knowledge.texts:
                data, label = f"intent:{intent}", self.text(state, f"label_{intent}")
            else:
                continue
            if data not in seen:
                seen.add(data)
                rows.append([Button(label, data)])
        for row in self.need_buttons(state):
            if row[0].data not in seen:
                rows.append(row)
        rows.append([Button(self.text(state, "something_else"), "else")])
        return rows

    def facts(self, state: ConversationState, filled: dict[str, Any]) -> str:
        """Answers taken from a message, as words: "datum zaterdag 12 december 2026"."""
        facts = []
        for key, value in filled.items():
            question = self.knowledge.question(key)
            label = (question.label.get(state.language) or question.label["nl"]).lower()
            facts.append(f"{label} {format_value(question, value, state.language, self.knowledge)}")
        return ", ".join(facts)

    def suggestion(self, state: ConversationState, needs: list[str]) -> Reply:
        """Offer needs the resident may also want, with a button each to add it."""
        return self.say(
            state,
            "need_suggestion",
            buttons=[
                [
                    Button(
                        self.text(
                            state, "add_need", need=need_label(self.knowledge, need, state.language)
                        ),
                        f"need:{need}",
                    )
                ]
                for need in needs
            ],
            needs=need_list(self.knowledge, needs, state.language),
        )

    def pointer(self, text: str) -> str:
        """The text that says where to go with a question Wegwijs does not handle: that of
        the first topic whose vocabulary the message uses, or the general one."""
        for key in sorted(self.knowledge.texts):
            if key.startswith(POINTER_PREFIX) and mentions(text, self.knowledge.cues.get(key, ())):
                return key
        return "out_of_scope"

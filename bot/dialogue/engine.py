"""The conversation engine: one resident message in, replies out.

It is channel-independent (Telegram and the terminal chat use it alike) and pure: it changes
the ConversationState it is given and returns replies plus, at most, one action for the
service to carry out (send the request, hand over to a person, show the resident's requests).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from bot.dialogue import confirmation
from bot.dialogue.confirmation import Answer, readable
from bot.dialogue.presentation import format_value, need_label, need_list
from bot.dialogue.slots import fill_from_entities
from bot.dialogue.state import ConversationState, Phase
from bot.dialogue.validators import Invalid, is_skip, still_consistent, validate
from bot.knowledge import NEED_ORDER, POINTER_PREFIX, Knowledge, Question
from bot.nlu.cues import mentions
from bot.nlu.interpretation import MULTI_INTENT_SEPARATOR, Entity, Interpretation
from bot.nlu.patterns import merge_entities, pattern_entities

MAX_TRIES = 3
# How sure the model must be before a message in the middle of the questions is taken as
# something other than an answer. Below these, the message is treated as the answer.
SIDE_QUESTION_CONFIDENCE = 0.75
NEW_NEED_CONFIDENCE = 0.8
CANCEL_CONFIDENCE = 0.85
GUESS_CONFIDENCE = 0.1
CONTACT_KEYS = ("name", "phone", "email")
SIDE_INTENTS_WHILE_ASKING = {"help", "check_status"}


class Action(StrEnum):
    SUBMIT = "submit"
    HANDOVER = "handover"
    SHOW_STATUS = "show_status"
    ADD_TO_THREAD = "add_to_thread"  # a reply to an official's message


@dataclass(frozen=True)
class Button:
    label: str
    data: str


@dataclass
class Reply:
    text: str
    buttons: list[list[Button]] = field(default_factory=list)


@dataclass
class Turn:
    """One thing the resident did: typed text, pressed a button, sent a command or media."""

    text: str | None = None
    button: str | None = None
    command: str | None = None
    media: bool = False
    interpretation: Interpretation | None = None
    known_contact: dict[str, Any] = field(default_factory=dict)


@dataclass
class Outcome:
    replies: list[Reply] = field(default_factory=list)
    action: Action | None = None
    follow_up: list[Reply] = field(default_factory=list)  # shown after the action's result


class DialogueEngine:
    def __init__(
        self,
        knowledge: Knowledge,
        today: Callable[[], date] = date.today,
        max_message_length: int = 1000,
    ) -> None:
        self.knowledge = knowledge
        self.today = today
        self.max_message_length = max_message_length

    # -- entry point --------------------------------------------------------------------

    def handle(self, state: ConversationState, turn: Turn) -> Outcome:
        out = Outcome()
        self._forget_removed_question(state)
        if turn.command:
            self._command(state, turn, out)
        elif turn.media:
            out.replies.append(self._say(state, "media_not_supported"))
            self._resume(state, out)
        elif turn.button:
            self._button(state, turn, out)
        else:
            self._message(state, turn, out)
        return out

    # -- commands and buttons -----------------------------------------------------------

    def _command(self, state: ConversationState, turn: Turn, out: Outcome) -> None:
        match turn.command:
            case "start":
                state.reply_to = None  # the resident starts something new
                if state.in_progress:
                    out.replies.append(self._say(state, "welcome"))
                    self._resume(state, out, announce=True)
                else:
                    out.replies.append(
                        self._say(state, "welcome", buttons=self._need_buttons(state))
                    )
            case "help":
                out.replies.append(self._say(state, "help"))
                self._resume(state, out, announce=True)
            case "status":
                out.action = Action.SHOW_STATUS
                self._resume(state, out.follow_up, announce=True)
            case _:
                self._cancel(state, out)

    def _button(self, state: ConversationState, turn: Turn, out: Outcome) -> None:
        kind, _, value = (turn.button or "").partition(":")
        question = self._current_question(state)
        if not self._known_button(state, kind, value):
            kind = "expired"
        if kind == "need":
            needs = [n for n in value.split(",") if n in self.knowledge.needs]
            entities = [Entity.from_dict(e) for e in state.carry_entities]
            self._start(state, needs, entities, state.carry_text, turn.known_contact, out)
        elif kind == "intent":
            self._side_intent(state, value, out, state.carry_text or "")
            self._resume(state, out, announce=True)
        elif kind == "else":
            state.carry_text, state.carry_entities = None, []
            if state.phase == Phase.CLARIFY:
                state.phase = Phase.IDLE
            out.replies.append(self._say(state, "something_else_answer"))
        elif kind == "confirm" and state.phase in (Phase.CONFIRM, Phase.EDIT_MENU):
            if value == "send":
                out.action = Action.SUBMIT
            elif value == "edit":
                self._edit_menu(state, out)
            else:
                self._cancel(state, out)
        elif kind == "edit" and state.phase in (Phase.CONFIRM, Phase.EDIT_MENU):
            self._ask(state, self.knowledge.question(value), out)
        elif kind == "remove" and state.phase == Phase.EDIT_MENU and value in state.needs:
            self._remove_need(state, value, out)
        elif kind == "back" and state.phase == Phase.EDIT_MENU:
            self._advance(state, out)
        elif kind == "skip" and question and question.optional:
            self._answer(state, question, None, [], out)
        elif kind == "choice" and question and question.type == "choice":
            self._answer(state, question, value, [], out)
        elif kind == "handover" and state.phase == Phase.HANDOVER_OFFER:
            if value == "yes":
                out.action = Action.HANDOVER
            else:
                out.replies.append(self._say(state, "try_again"))
                self._ask(state, self._current_question(state), out)
        else:
            out.replies.append(self._say(state, "button_expired"))
            self._resume(state, out)

    def _known_button(self, state: ConversationState, kind: str, value: str) -> bool:
        """Button data comes back from the resident's client: a need or question that does
        not exist (an old button, one removed since, forged data) is an expired button."""
        if kind == "need":
            return any(n in self.knowledge.needs for n in value.split(","))
        if kind == "edit":
            return value in {q.key for q in self.knowledge.questions_for(state.needs)}
        return True

    # -- typed messages -----------------------------------------------------------------

    def _message(self, state: ConversationState, turn: Turn, out: Outcome) -> None:
        text = turn.text or ""
        if not text.strip():
            out.replies.append(self._say(state, "empty_message"))
            self._resume(state, out)
            return
        if len(text) > self.max_message_length:
            out.replies.append(
                self._say(state, "too_long", length=len(text), max=self.max_message_length)
            )
            self._resume(state, out)
            return
        if not readable(text):  # only emoji, punctuation or another script: nothing to read
            out.replies.append(self._say(state, "unreadable_message"))
            self._resume(state, out)
            return
        interpretation = turn.interpretation
        entities = merge_entities(interpretation.entities if interpretation else (), text)
        if state.phase == Phase.ASKING:
            self._while_asking(state, text, interpretation, entities, turn, out)
        elif state.phase in (Phase.CONFIRM, Phase.EDIT_MENU):
            self._while_reviewing(state, text, interpretation, entities, turn, out)
        elif state.phase == Phase.HANDOVER_OFFER:
            self._while_offering_handover(state, text, interpretation, entities, turn, out)
        elif state.reply_to is not None and state.phase == Phase.IDLE:
            out.action = Action.ADD_TO_THREAD
        else:
            self._opening(state, text, interpretation, entities, turn, out)

    def _opening(
        self,
        state: ConversationState,
        text: str,
        interpretation: Interpretation | None,
        entities: list[Entity],
        turn: Turn,
        out: Outcome,
    ) -> None:
        """The first message of a request: find the needs, or help the resident choose."""
        if interpretation is None:
            self._carry(state, text, entities)
            state.phase = Phase.CLARIFY
            out.replies.append(
                self._say(state, "nlu_unavailable", buttons=self._need_buttons(state))
            )
            return
        needs = self._needs_in(interpretation)
        if needs and not interpretation.is_fallback:
            if state.carry_text:  # what the resident said before we asked what they meant
                carried = [Entity.from_dict(e) for e in state.carry_entities]
                entities = [*entities, *carried]
                text = f"{text}\n{state.carry_text}"
            self._start(state, needs, entities, text, turn.known_contact, out)
            # A need the model read but the text gives no evidence for is offered, not added.
            unsure = [n for n in self._needs_of(interpretation.model_intent) if n not in needs]
            if unsure and out.replies:
                out.replies.insert(len(out.replies) - 1, self._suggest(state, unsure))
        elif interpretation.is_fallback:
            self._carry(state, text, entities)
            state.phase = Phase.CLARIFY
            out.replies.append(
                self._say(state, "did_you_mean", buttons=self._guess_buttons(state, interpretation))
            )
        else:
            self._side_intent(state, interpretation.intent, out, text)

    def _while_asking(
        self,
        state: ConversationState,
        text: str,
        interpretation: Interpretation | None,
        entities: list[Entity],
        turn: Turn,
        out: Outcome,
    ) -> None:
        """An answer to the open question, unless the model is sure it is something else."""
        question = self._current_question(state)
        if question is None:
            self._advance(state, out)
            return
        if question.type == "text":
            # A free-text answer is kept whole. Other details are taken from it only where a
            # fixed pattern finds them ("40 mensen"), not where the model guesses: in
            # "Lindelaan 1 tot 40" the 40 is a house number, not 40 visitors.
            entities = pattern_entities(text)
        if interpretation is not None:
            intent, confidence = interpretation.intent, interpretation.confidence
            free_text = question.type == "text"
            if (
                intent == "cancel"
                and confidence >= CANCEL_CONFIDENCE
                and (not free_text or len(text.split()) <= 4)
            ):
                self._cancel(state, out)
                return
            is_side = intent in SIDE_INTENTS_WHILE_ASKING or intent in self.knowledge.faq
            if (
                is_side
                and confidence >= SIDE_QUESTION_CONFIDENCE
                and (not free_text or "?" in text)
                and not self._is_valid(state, question, text)
            ):
                self._side_intent(state, intent, out)
                self._resume(state, out, announce=True)
                return
            new_needs = [n for n in self._needs_in(interpretation) if n not in state.needs]
            if confidence < NEW_NEED_CONFIDENCE:
                new_needs = []
            # A message that is no answer to a typed question is clearly about a new need.
            # A free-text answer may merely sound like one ("Straatfeest"): keep it as the
            # answer and offer the need instead of assuming it.
            if new_needs and not free_text and not self._is_valid(state, question, text):
                self._start(state, new_needs, entities, text, turn.known_contact, out)
                return
            if new_needs and free_text:
                self._answer(state, question, text, entities, out)
                out.replies.insert(len(out.replies) - 1, self._suggest(state, new_needs))
                return
        if question.optional and is_skip(text):
            self._answer(state, question, None, [], out)
        else:
            self._answer(state, question, text, entities, out)

    def _while_reviewing(
        self,
        state: ConversationState,
        text: str,
        interpretation: Interpretation | None,
        entities: list[Entity],
        turn: Turn,
        out: Outcome,
    ) -> None:
        said = confirmation.answer(text, interpretation, self.knowledge)
        intent = interpretation.intent if interpretation else None
        sure = interpretation is not None and interpretation.confidence >= CANCEL_CONFIDENCE
        if said in (Answer.EDIT, Answer.NO):
            self._edit_menu(state, out)
        elif state.phase == Phase.CONFIRM and said is Answer.YES:
            out.action = Action.SUBMIT
        elif intent == "cancel" and sure:
            self._cancel(state, out)
        elif interpretation and (
            new := [n for n in self._needs_in(interpretation) if n not in state.needs]
        ):
            self._start(state, new, entities, text, turn.known_contact, out)
        elif intent in SIDE_INTENTS_WHILE_ASKING or intent in self.knowledge.faq:
            self._side_intent(state, intent or "", out)
            self._resume(state, out, announce=True)
        else:
            self._resume(state, out)

    def _while_offering_handover(
        self,
        state: ConversationState,
        text: str,
        interpretation: Interpretation | None,
        entities: list[Entity],
        turn: Turn,
        out: Outcome,
    ) -> None:
        said = confirmation.answer(text, interpretation, self.knowledge)
        if said is Answer.YES:
            out.action = Action.HANDOVER
        elif said is Answer.NO:
            out.replies.append(self._say(state, "try_again"))
            self._ask(state, self._current_question(state), out)
        else:  # one more attempt at the answer itself
            state.phase, state.tries = Phase.ASKING, MAX_TRIES - 1
            self._while_asking(state, text, interpretation, entities, turn, out)

    # -- the request being built --------------------------------------------------------

    def _start(
        self,
        state: ConversationState,
        needs: list[str],
        entities: list[Entity],
        text: str | None,
        known_contact: dict[str, Any],
        out: Outcome,
    ) -> None:
        """Add needs, fill what the message already says, then ask the first open question."""
        added = [n for n in needs if n not in state.needs]
        first = not state.needs
        state.needs = sorted({*state.needs, *needs}, key=NEED_ORDER.index)
        for key in CONTACT_KEYS:
            if key in known_contact and key not in state.answers:
                state.answers[key] = known_contact[key]
        filled = self._fill(state, entities, text)
        state.carry_text, state.carry_entities = None, []
        if added:
            key = "needs_recognised" if first else "need_added"
            text = self._text(state, key, needs=need_list(self.knowledge, added, state.language))
            facts = self._facts(state, filled)
            if facts:
                text += " " + self._text(state, "already_known", facts=facts)
            out.replies.append(Reply(text))
        self._advance(state, out)

    def _fill(
        self,
        state: ConversationState,
        entities: list[Entity],
        text: str | None,
        exclude: str | None = None,
    ) -> dict[str, Any]:
        """Answer open questions from entities; remember why an unusable one was skipped."""
        questions = self.knowledge.questions_for(state.needs)
        if exclude:  # the entity type that just answered the current question
            questions = [q for q in questions if q.from_entity != exclude or q.entity_index > 0]
        filled, problems = fill_from_entities(
            questions, entities, state.answers, self.today(), text
        )
        state.answers.update(filled)
        for key, problem in problems.items():
            state.problems[key] = {"key": problem.key, "params": problem.params}
        return filled

    def _answer(
        self,
        state: ConversationState,
        question: Question,
        text: str | None,
        entities: list[Entity],
        out: Outcome,
    ) -> None:
        if text is None:
            if "required_without" in question.validation and (
                state.answers.get(question.validation["required_without"]) is None
            ):
                self._reject(state, question, Invalid("required_without"), out)
                return
            value: Any = None
        else:
            try:
                value = self._validated(state, question, text, entities)
            except Invalid as problem:
                self._reject(state, question, problem, out)
                return
        state.answers[question.key] = value
        state.problems.pop(question.key, None)
        self._drop_invalidated(state, question.key)
        self._fill(state, entities, None, exclude=question.from_entity)
        self._advance(state, out)

    def _validated(
        self, state: ConversationState, question: Question, text: str, entities: list[Entity]
    ) -> Any:
        """The whole text as the answer, or else the matching detail the model found in it."""
        try:
            return validate(question, text, state.answers, self.today())
        except Invalid as problem:
            for entity in entities:
                if entity.name == question.from_entity:
                    try:
                        return validate(question, entity.value, state.answers, self.today())
                    except Invalid:
                        continue
            raise problem from None

    def _is_valid(self, state: ConversationState, question: Question, text: str) -> bool:
        try:
            validate(question, text, state.answers, self.today())
        except Invalid:
            return False
        return True

    def _drop_invalidated(self, state: ConversationState, changed: str) -> None:
        """After a change, drop answers whose cross-check no longer holds (an end time now
        before the new start time): they will be asked again."""
        for question in self.knowledge.questions_for(state.needs):
            if question.key != changed and not still_consistent(question, state.answers):
                del state.answers[question.key]

    def _reject(
        self, state: ConversationState, question: Question, problem: Invalid, out: Outcome
    ) -> None:
        state.tries += 1
        if state.tries >= MAX_TRIES:
            state.phase = Phase.HANDOVER_OFFER
            out.replies.append(self._handover_offer(state))
            return
        error = self.knowledge.error(problem.key, state.language, **problem.params)
        out.replies.append(self._prompt(state, question, prefix=error))

    def _remove_need(self, state: ConversationState, need: str, out: Outcome) -> None:
        state.needs.remove(need)
        keep = {q.key for q in self.knowledge.questions_for(state.needs)}
        state.answers = {k: v for k, v in state.answers.items() if k in keep}
        out.replies.append(
            self._say(state, "need_removed", need=need_list(self.knowledge, [need], state.language))
        )
        if state.needs:
            self._advance(state, out)
        else:
            state.reset()
            out.replies.append(self._say(state, "choose_need", buttons=self._need_buttons(state)))

    def _advance(self, state: ConversationState, out: Outcome) -> None:
        """Ask the first open question, or show the summary when everything is known."""
        for question in self.knowledge.questions_for(state.needs):
            if question.key not in state.answers:
                self._ask(state, question, out)
                return
        state.phase, state.current = Phase.CONFIRM, None
        out.replies.append(self._summary(state))

    def _ask(self, state: ConversationState, question: Question | None, out: Outcome) -> None:
        if question is None:
            self._advance(state, out)
            return
        state.phase, state.current, state.tries = Phase.ASKING, question.key, 0
        problem = state.problems.pop(question.key, None)
        prefix = (
            self.knowledge.error(problem["key"], state.language, **problem["params"])
            if problem
            else None
        )
        out.replies.append(self._prompt(state, question, prefix=prefix))

    def _cancel(self, state: ConversationState, out: Outcome) -> None:
        had_request = state.in_progress or state.phase != Phase.IDLE
        state.reset()
        out.replies.append(self._say(state, "cancelled" if had_request else "nothing_to_cancel"))

    def _side_intent(
        self, state: ConversationState, intent: str, out: Outcome, text: str = ""
    ) -> None:
        """Answer a question that is not part of the request itself."""
        if intent in self.knowledge.faq:
            language = state.language
            faq = self.knowledge.faq[intent]
            out.replies.append(Reply(faq.get(language) or faq["nl"]))
            return
        match intent:
            case "greet":
                buttons = [] if state.in_progress else self._need_buttons(state)
                out.replies.append(self._say(state, "welcome", buttons=buttons))
            case "help":
                out.replies.append(self._say(state, "help"))
            case "check_status":
                out.action = Action.SHOW_STATUS
            case "goodbye":
                out.replies.append(self._say(state, "goodbye"))
            case "affirm":
                out.replies.append(self._say(state, "affirm_idle"))
            case "deny":
                out.replies.append(
                    self._say(state, "choose_need", buttons=self._need_buttons(state))
                )
            case "cancel":
                self._cancel(state, out)
            case "out_of_scope":
                out.replies.append(self._say(state, self._pointer(text)))
            case _:
                out.replies.append(self._say(state, "something_else_answer"))

    # -- what the resident sees ---------------------------------------------------------

    def _resume(
        self, state: ConversationState, out: Outcome | list[Reply], announce: bool = False
    ) -> None:
        """Show again where we were, after a side question, a command or a stale button."""
        replies = out.replies if isinstance(out, Outcome) else out
        question = self._current_question(state)
        prefix = self._text(state, "resume") if announce else None
        if state.phase == Phase.ASKING and question:
            replies.append(self._prompt(state, question, prefix=prefix))
        elif state.phase == Phase.CONFIRM:
            replies.append(self._summary(state))
        elif state.phase == Phase.EDIT_MENU:
            replies.append(self._edit_menu_reply(state))
        elif state.phase == Phase.HANDOVER_OFFER:
            replies.append(self._handover_offer(state))
        elif state.phase == Phase.CLARIFY and not announce:
            replies.append(self._say(state, "choose_need", buttons=self._need_buttons(state)))

    def _prompt(self, state: ConversationState, question: Question, prefix: str | None) -> Reply:
        parts = [prefix] if prefix else []
        if question.key in CONTACT_KEYS and not state.privacy_notice_shown:
            state.privacy_notice_shown = True
            parts.append(self._text(state, "privacy_notice"))
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
        if question.optional:
            buttons.append([Button(self._text(state, "skip"), "skip")])
        return Reply(" ".join(parts), buttons)

    def _summary(self, state: ConversationState) -> Reply:
        language = state.language
        lines = [self._text(state, "summary_title")]
        shown: set[str] = set()
        for need in state.needs:
            definition = self.knowledge.needs[need]
            lines.append("")
            lines.append(definition.label.get(language) or definition.label["nl"])
            for question in definition.questions:
                lines.append(self._summary_line(state, question))
                shown.add(question.key)
        lines.append("")
        lines.append(self._text(state, "summary_contact"))
        lines.extend(self._summary_line(state, q) for q in self.knowledge.contact)
        lines.append("")
        lines.append(self._text(state, "summary_question"))
        buttons = [
            [
                Button(self._text(state, "button_send"), "confirm:send"),
                Button(self._text(state, "button_edit"), "confirm:edit"),
                Button(self._text(state, "button_cancel"), "confirm:cancel"),
            ]
        ]
        return Reply("\n".join(lines), buttons)

    def _summary_line(self, state: ConversationState, question: Question) -> str:
        label = question.label.get(state.language) or question.label["nl"]
        value = format_value(
            question, state.answers.get(question.key), state.language, self.knowledge
        )
        return f"• {label}: {value}"

    def _edit_menu(self, state: ConversationState, out: Outcome) -> None:
        state.phase = Phase.EDIT_MENU
        out.replies.append(self._edit_menu_reply(state))

    def _edit_menu_reply(self, state: ConversationState) -> Reply:
        language = state.language
        rows = [
            [Button(q.label.get(language) or q.label["nl"], f"edit:{q.key}")]
            for q in self.knowledge.questions_for(state.needs)
        ]
        for need in NEED_ORDER:
            label = need_label(self.knowledge, need, language)
            if need not in state.needs:
                rows.append([Button(self._text(state, "add_need", need=label), f"need:{need}")])
            elif len(state.needs) > 1:
                rows.append(
                    [Button(self._text(state, "remove_need", need=label), f"remove:{need}")]
                )
        rows.append([Button(self._text(state, "button_back"), "back")])
        return self._say(state, "edit_menu", buttons=rows)

    def _handover_offer(self, state: ConversationState) -> Reply:
        return self._say(
            state,
            "handover_offer",
            buttons=[
                [Button(self._text(state, "handover_yes"), "handover:yes")],
                [Button(self._text(state, "handover_no"), "handover:no")],
            ],
        )

    def _need_buttons(self, state: ConversationState) -> list[list[Button]]:
        return [
            [Button(need_label(self.knowledge, need, state.language), f"need:{need}")]
            for need in NEED_ORDER
            if need in self.knowledge.needs
        ]

    def _guess_buttons(
        self, state: ConversationState, interpretation: Interpretation
    ) -> list[list[Button]]:
        """The model's best guesses first, then the four needs, then "something else"."""
        rows: list[list[Button]] = []
        seen: set[str] = set()
        for intent, confidence in interpretation.ranking[:4]:
            if confidence < GUESS_CONFIDENCE:
                continue
            needs = [n for n in (self.knowledge.need_for_intent(i) for i in intent.split("+")) if n]
            if needs and len(needs) == len(intent.split("+")):
                data = "need:" + ",".join(needs)
                label = need_list(self.knowledge, needs, state.language).capitalize()
            elif f"label_{intent}" in self.knowledge.texts:
                data, label = f"intent:{intent}", self._text(state, f"label_{intent}")
            else:
                continue
            if data not in seen:
                seen.add(data)
                rows.append([Button(label, data)])
        for row in self._need_buttons(state):
            if row[0].data not in seen:
                rows.append(row)
        rows.append([Button(self._text(state, "something_else"), "else")])
        return rows

    def _facts(self, state: ConversationState, filled: dict[str, Any]) -> str:
        facts = []
        for key, value in filled.items():
            question = self.knowledge.question(key)
            label = (question.label.get(state.language) or question.label["nl"]).lower()
            facts.append(f"{label} {format_value(question, value, state.language, self.knowledge)}")
        return ", ".join(facts)

    # -- small helpers ------------------------------------------------------------------

    def _forget_removed_question(self, state: ConversationState) -> None:
        """An admin removed the question this resident was answering: go on with the next
        open one (or the summary), keeping every answer already given."""
        if state.current and not self.knowledge.has_question(state.current):
            state.tries = 0
            state.current = next(
                (
                    q.key
                    for q in self.knowledge.questions_for(state.needs)
                    if q.key not in state.answers
                ),
                None,
            )
            if state.current is None and state.phase in (Phase.ASKING, Phase.HANDOVER_OFFER):
                state.phase = Phase.CONFIRM

    def _current_question(self, state: ConversationState) -> Question | None:
        if state.phase not in (Phase.ASKING, Phase.HANDOVER_OFFER) or not state.current:
            return None
        return self.knowledge.question(state.current)

    def _needs_in(self, interpretation: Interpretation) -> list[str]:
        return self._needs_of(interpretation.intent)

    def _needs_of(self, intent: str | None) -> list[str]:
        parts = (intent or "").split(MULTI_INTENT_SEPARATOR)
        return [n for n in map(self.knowledge.need_for_intent, parts) if n]

    def _suggest(self, state: ConversationState, needs: list[str]) -> Reply:
        """Offer needs the resident may also want, with a button each to add it."""
        return self._say(
            state,
            "need_suggestion",
            buttons=[
                [
                    Button(
                        self._text(
                            state, "add_need", need=need_label(self.knowledge, need, state.language)
                        ),
                        f"need:{need}",
                    )
                ]
                for need in needs
            ],
            needs=need_list(self.knowledge, needs, state.language),
        )

    def _carry(self, state: ConversationState, text: str, entities: list[Entity]) -> None:
        state.carry_text = text
        state.carry_entities = [entity.to_dict() for entity in entities]

    def _text(self, state: ConversationState, key: str, **values: Any) -> str:
        return self.knowledge.text(key, state.language, **values)

    def _pointer(self, text: str) -> str:
        """The text that says where to go with a question Wegwijs does not handle: that of
        the first topic whose vocabulary the message uses, or the general one."""
        for key in sorted(self.knowledge.texts):
            if key.startswith(POINTER_PREFIX) and mentions(text, self.knowledge.cues.get(key, ())):
                return key
        return "out_of_scope"

    def _say(
        self,
        state: ConversationState,
        key: str,
        buttons: list[list[Button]] | None = None,
        **values: Any,
    ) -> Reply:
        return Reply(self._text(state, key, **values), buttons or [])

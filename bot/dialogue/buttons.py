"""What the resident's buttons do: one handler per kind of button, in one table."""

from __future__ import annotations

from collections.abc import Callable

from bot.dialogue.form import Form
from bot.dialogue.replies import Replies
from bot.dialogue.state import ConversationState, Phase
from bot.dialogue.steps import Steps
from bot.dialogue.turns import Action, Outcome, Turn
from bot.knowledge import Knowledge, Question
from bot.nlu.interpretation import Entity

# The phases in which the summary or the edit menu is on screen.
REVIEWING = (Phase.CONFIRM, Phase.EDIT_MENU)

ButtonHandler = Callable[[ConversationState, str, Turn, Outcome], bool]


class Buttons:
    def __init__(self, knowledge: Knowledge, replies: Replies, form: Form, steps: Steps) -> None:
        self.knowledge, self.replies, self.form, self.steps = knowledge, replies, form, steps
        # What each kind of button does (its data is "kind:value"). A handler returns False
        # when its button no longer fits where the conversation is: it has expired then.
        self._handlers: dict[str, ButtonHandler] = {
            "need": self._on_need,
            "thread": self._on_thread,
            "intent": self._on_intent,
            "else": self._on_else,
            "confirm": self._on_confirm,
            "edit": self._on_edit,
            "remove": self._on_remove,
            "back": self._on_back,
            "skip": self._on_skip,
            "unlisted": self._on_unlisted,
            "choice": self._on_choice,
            "handover": self._on_handover,
        }

    def press(self, state: ConversationState, turn: Turn, out: Outcome) -> bool:
        """Carry out the button; False when it has expired (an old message's button, one
        for a need or question that no longer exists, forged data)."""
        kind, _, value = (turn.button or "").partition(":")
        handler = self._handlers.get(kind) if self._known(state, kind, value) else None
        return handler is not None and handler(state, value, turn, out)

    def _on_need(self, state: ConversationState, value: str, turn: Turn, out: Outcome) -> bool:
        needs = [n for n in value.split(",") if n in self.knowledge.needs]
        entities = [Entity.from_dict(e) for e in state.carry_entities]
        self.form.start(state, needs, entities, state.carry_text, turn.known_contact, out)
        return True

    def _on_thread(self, state: ConversationState, value: str, turn: Turn, out: Outcome) -> bool:
        """ "Your answer, or something new?" after a message to an official's thread."""
        if state.reply_to is None or not state.carry_text:
            return False
        if value == "reply":
            out.action, out.thread_text = Action.ADD_TO_THREAD, state.carry_text
            state.carry_text, state.carry_entities = None, []
        else:  # something new: which need, with what was said kept for it
            state.reply_to = None
            state.move_to(Phase.CLARIFY)
            out.replies.append(
                self.replies.say(state, "choose_need", buttons=self.replies.need_buttons(state))
            )
        return True

    def _on_intent(self, state: ConversationState, value: str, turn: Turn, out: Outcome) -> bool:
        self.steps.side_intent(state, value, out, state.carry_text or "")
        self.steps.resume(state, out, announce=True)
        return True

    def _on_else(self, state: ConversationState, value: str, turn: Turn, out: Outcome) -> bool:
        state.carry_text, state.carry_entities = None, []
        if state.phase == Phase.CLARIFY:
            state.move_to(Phase.IDLE)
        out.replies.append(self.replies.say(state, "something_else_answer"))
        return True

    def _on_confirm(self, state: ConversationState, value: str, turn: Turn, out: Outcome) -> bool:
        if state.phase not in REVIEWING:
            return False
        if value == "send":
            out.action = Action.SUBMIT
        elif value == "urgent":
            state.urgent = True
            state.move_to(Phase.CONFIRM)
            out.replies.append(self.replies.summary(state))
        elif value == "edit":
            self.steps.edit_menu(state, out)
        else:
            self.steps.cancel(state, out)
        return True

    def _on_edit(self, state: ConversationState, value: str, turn: Turn, out: Outcome) -> bool:
        if state.phase not in REVIEWING:
            return False
        self.form.ask(state, self.knowledge.question(value), out)
        return True

    def _on_remove(self, state: ConversationState, value: str, turn: Turn, out: Outcome) -> bool:
        if state.phase != Phase.EDIT_MENU or value not in state.needs:
            return False
        self.form.remove_need(state, value, out)
        return True

    def _on_back(self, state: ConversationState, value: str, turn: Turn, out: Outcome) -> bool:
        if state.phase != Phase.EDIT_MENU:
            return False
        self.form.advance(state, out)
        return True

    def _on_skip(self, state: ConversationState, value: str, turn: Turn, out: Outcome) -> bool:
        question = self.steps.current_question(state)
        return bool(question and question.optional) and self._answer(state, question, None, out)

    def _on_unlisted(self, state: ConversationState, value: str, turn: Turn, out: Outcome) -> bool:
        """The typed name that is not on the question's list, confirmed."""
        question = self.steps.current_question(state)
        unlisted = state.unlisted
        return bool(question and unlisted) and self._answer(state, question, unlisted, out)

    def _on_choice(self, state: ConversationState, value: str, turn: Turn, out: Outcome) -> bool:
        question = self.steps.current_question(state)
        is_choice = bool(question and question.type == "choice")
        return is_choice and self._answer(state, question, value, out)

    def _answer(
        self, state: ConversationState, question: Question | None, value: str | None, out: Outcome
    ) -> bool:
        if question is None:
            return False
        self.form.answer(state, question, value, [], out)
        return True

    def _on_handover(self, state: ConversationState, value: str, turn: Turn, out: Outcome) -> bool:
        if state.phase != Phase.HANDOVER_OFFER:
            return False
        if value == "yes":
            out.action = Action.HANDOVER
        else:
            self.form.decline_handover(state, out)
        return True

    def _known(self, state: ConversationState, kind: str, value: str) -> bool:
        """Button data comes back from the resident's client: a need or question that does
        not exist (an old button, one removed since, forged data) is an expired button."""
        if kind == "need":
            return any(n in self.knowledge.needs for n in value.split(","))
        if kind == "edit":
            return value in {q.key for q in self.knowledge.questions_for(state.needs)}
        return True

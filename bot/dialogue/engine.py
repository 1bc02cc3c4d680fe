"""The conversation engine: one resident message in, replies out.

It is channel-independent (Telegram and the terminal chat use it alike) and pure: it changes
the ConversationState it is given and returns replies plus, at most, one action for the
service to carry out (send the request, hand over to a person, show the resident's requests).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import NamedTuple

from bot.dialogue import confirmation
from bot.dialogue.buttons import Buttons
from bot.dialogue.confirmation import Answer, readable
from bot.dialogue.context import Context, activity_entities
from bot.dialogue.form import MAX_TRIES, Form
from bot.dialogue.replies import Replies
from bot.dialogue.state import ConversationState, Phase
from bot.dialogue.steps import Steps
from bot.dialogue.turns import Action, Button, Expectation, Outcome, Turn
from bot.knowledge import Knowledge, Question
from bot.nlu.dates import is_holiday_name
from bot.nlu.interpretation import Entity, Interpretation
from bot.nlu.needs import is_evidenced
from bot.nlu.patterns import merge_entities, pattern_entities

SIDE_INTENTS_WHILE_ASKING = {"help", "check_status"}


class Message(NamedTuple):
    """A typed message as the engine reads it: the text, the model's reading (None when
    Rasa could not be reached), the details found in it, and the turn it came in."""

    text: str
    interpretation: Interpretation | None
    entities: list[Entity]
    turn: Turn


MessageHandler = Callable[[ConversationState, Message, Outcome], None]


class DialogueEngine:
    def __init__(
        self,
        knowledge: Knowledge,
        today: Callable[[], date] = date.today,
        max_message_length: int = 1000,
        expectations: Callable[[ConversationState], list[Expectation]] = lambda state: [],
    ) -> None:
        self.knowledge = knowledge
        self.replies = Replies(knowledge, expectations)
        self.context = Context(knowledge)
        self.form = Form(knowledge, self.replies, self.context, today)
        self.steps = Steps(knowledge, self.replies)
        self.buttons = Buttons(knowledge, self.replies, self.form, self.steps)
        self.today = today
        self.max_message_length = max_message_length
        # Who reads a typed message, by phase (after asking for a person, at any phase).
        self._by_phase: dict[Phase, MessageHandler] = {
            Phase.IDLE: self._while_idle,
            Phase.CLARIFY: self._opening,
            Phase.ASKING: self._while_asking,
            Phase.CONFIRM: self._while_reviewing,
            Phase.EDIT_MENU: self._while_reviewing,
            Phase.HANDOVER_OFFER: self._while_offering_handover,
        }

    # -- entry point --------------------------------------------------------------------

    def handle(self, state: ConversationState, turn: Turn) -> Outcome:
        out = Outcome()
        self.form.forget_removed_question(state)
        if turn.command:
            self._command(state, turn, out)
        elif turn.media or turn.edited:
            key = "media_not_supported" if turn.media else "edit_not_applied"
            out.replies.append(self.replies.say(state, key))
            self.steps.resume(state, out)
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
                    out.replies.append(self.replies.say(state, "welcome"))
                    self.steps.resume(state, out, announce=True)
                else:
                    out.replies.append(
                        self.replies.say(state, "welcome", buttons=self.replies.need_buttons(state))
                    )
            case "help":
                out.replies.append(self.replies.say(state, "help"))
                self.steps.resume(state, out, announce=True)
            case "status":
                out.action = Action.SHOW_STATUS
                self.steps.resume(state, out.follow_up, announce=True)
            case _:
                self.steps.cancel(state, out)

    def _button(self, state: ConversationState, turn: Turn, out: Outcome) -> None:
        if not self.buttons.press(state, turn, out):
            out.replies.append(self.replies.say(state, "button_expired"))
            self.steps.resume(state, out)

    # -- typed messages -----------------------------------------------------------------

    def _message(self, state: ConversationState, turn: Turn, out: Outcome) -> None:
        text = turn.text or ""
        if not text.strip():
            out.replies.append(self.replies.say(state, "empty_message"))
            self.steps.resume(state, out)
            return
        if len(text) > self.max_message_length:
            out.replies.append(
                self.replies.say(state, "too_long", length=len(text), max=self.max_message_length)
            )
            self.steps.resume(state, out)
            return
        if not readable(text):  # only emoji, punctuation or another script: nothing to read
            out.replies.append(self.replies.say(state, "unreadable_message"))
            self.steps.resume(state, out)
            return
        interpretation = turn.interpretation
        entities = merge_entities(interpretation.entities if interpretation else (), text)
        entities += activity_entities(text, self.knowledge)
        question = self.steps.current_question(state)
        if self.context.asks_for_person(text, free_text=bool(question and question.type == "text")):
            state.move_to(Phase.HANDOVER_OFFER)
            out.replies.append(self.replies.handover_offer(state, "person_offer"))
        else:
            message = Message(text, interpretation, entities, turn)
            self._by_phase[state.phase](state, message, out)

    def _while_idle(self, state: ConversationState, message: Message, out: Outcome) -> None:
        if state.reply_to is not None:
            self._reply_or_new(state, message, out)
        else:
            self._opening(state, message, out)

    def _opening(self, state: ConversationState, message: Message, out: Outcome) -> None:
        """The first message of a request: find the needs, or help the resident choose."""
        text, interpretation, entities, turn = message
        if interpretation is None:
            self.steps.carry(state, text, entities)
            state.move_to(Phase.CLARIFY)
            out.replies.append(
                self.replies.say(state, "nlu_unavailable", buttons=self.replies.need_buttons(state))
            )
            return
        out.intent = interpretation.intent
        needs = self.context.needs_in(interpretation)
        pointer, state.pointer = state.pointer, None
        if pointer and self.context.follows_up(pointer, text, interpretation, needs):
            state.pointer = pointer  # "en hoe vraag ik die aan?" after the parking pointer
            out.replies.append(self.replies.say(state, pointer))
        elif needs and not interpretation.is_fallback:
            if state.carry_text:  # what the resident said before we asked what they meant
                carried = [Entity.from_dict(e) for e in state.carry_entities]
                entities = [*entities, *carried]
                text = f"{text}\n{state.carry_text}"
            self.form.start(state, needs, entities, text, turn.known_contact, out)
            # A need the model read but the text gives no evidence for is offered, not added;
            # and only when the model was sure ("nieuwjaarsborrel" is no loan request).
            read = self.context.needs_of(interpretation.model_intent)
            unsure = [n for n in read if n not in needs]
            sure = interpretation.confidence >= self.knowledge.threshold("new_need")
            if unsure and out.replies and sure:
                out.replies.insert(len(out.replies) - 1, self.replies.suggestion(state, unsure))
        elif interpretation.is_fallback:
            self.steps.carry(state, text, entities)
            state.move_to(Phase.CLARIFY)
            out.replies.append(
                self.replies.say(
                    state, "did_you_mean", buttons=self.replies.guess_buttons(state, interpretation)
                )
            )
        else:
            self.steps.side_intent(state, interpretation.intent, out, text)

    def _reply_or_new(self, state: ConversationState, message: Message, out: Outcome) -> None:
        """An official waits for the resident's answer: a message is that answer, unless it
        looks like a new request or question; then the resident is asked which it is."""
        text, interpretation, entities, _ = message
        if interpretation is None or not self.context.sounds_new(interpretation):
            out.action = Action.ADD_TO_THREAD
            return
        out.intent = interpretation.intent
        self.steps.carry(state, text, entities)
        out.replies.append(
            self.replies.say(
                state,
                "reply_or_new",
                buttons=[
                    [Button(self.replies.text(state, "button_reply"), "thread:reply")],
                    [Button(self.replies.text(state, "button_new"), "thread:new")],
                ],
            )
        )

    def _while_asking(self, state: ConversationState, message: Message, out: Outcome) -> None:
        """An answer to the open question, unless the message is clearly something else:
        first what its words say (bot.dialogue.context), then what the model is sure of."""
        text, interpretation, entities, turn = message
        question = self.steps.current_question(state)
        if question is None:
            self.form.advance(state, out)
            return
        if self.context.already_said(text):  # never an answer: the bot missed it
            out.replies.append(
                self.replies.prompt(state, question, self.replies.text(state, "already_said"))
            )
            return
        change = self.context.need_change(text, state.needs, free_text=question.type == "text")
        if change is not None:
            self.form.change_needs(state, change, entities, text, turn, out)
            return
        if self.form.corrected(state, question, text, entities, out):
            return
        if question.type == "text":
            # A free-text answer is kept whole. Other details are taken from it only where a
            # fixed pattern finds them ("40 mensen"), not where the model guesses: in
            # "Lindelaan 1 tot 40" the 40 is a house number, not 40 visitors; and in
            # "Christmas carol singing" Christmas is what, not when.
            entities = [
                e
                for e in pattern_entities(text)
                if not (e.name == "date" and is_holiday_name(e.text))
            ]
        if interpretation is not None and self._not_an_answer(
            state, question, text, interpretation, entities, turn, out
        ):
            return
        if question.optional and self.context.is_skip(text):
            self.form.answer(state, question, None, [], out)
        else:
            self.form.answer(state, question, text, entities, out)

    def _not_an_answer(
        self,
        state: ConversationState,
        question: Question,
        text: str,
        interpretation: Interpretation,
        entities: list[Entity],
        turn: Turn,
        out: Outcome,
    ) -> bool:
        """Handle what the model is sure is no answer: a cancel, a side question, a denial
        of what the bot understood, a new need. False: it is the answer after all."""
        intent, confidence = interpretation.intent, interpretation.confidence
        free_text = question.type == "text"
        # A message with the open question's own kind of detail (a date at the date
        # question) answers it, also when the answer is wrong (a date in the past).
        answering = not free_text and any(e.name == question.from_entity for e in entities)
        valid = not free_text and self.form.is_valid(state, question, text)
        if (
            intent == "cancel"
            and confidence >= self.knowledge.threshold("cancel")
            and (not free_text or len(text.split()) <= 4 or self.context.cancels(text))
        ):
            self.steps.cancel(state, out)
            return True
        is_side = intent in SIDE_INTENTS_WHILE_ASKING or intent in self.knowledge.faq
        # Any text answers a free-text question, so there a side question must also look
        # like a question; a typed question's valid answer is never a side question.
        if (
            is_side
            and confidence >= self.knowledge.threshold("side_question")
            and (self.context.is_question(text) if free_text else not (valid or answering))
        ):
            out.intent = intent
            self.steps.side_intent(state, intent, out)
            self.steps.resume(state, out, announce=True)
            return True
        skipping = question.optional and self.context.is_skip(text)  # "nee" to the phone
        if self.context.denies(text, interpretation) and not (answering or skipping or valid):
            # "Nee, dat bedoel ik niet": something the bot understood is wrong.
            state.move_to(Phase.EDIT_MENU)
            out.replies.append(self.replies.edit_menu(state, "misunderstood"))
            return True
        read = self.context.needs_in(interpretation)
        if confidence < self.knowledge.threshold("new_need"):
            read = self.context.weakly_read(interpretation)
        new_needs = [n for n in read if n not in state.needs]
        # A message that is no answer to a typed question is about a new need when it also
        # has a word for it: an e-mail address with a typo is no loan request. A free-text
        # answer may merely sound like one ("Straatfeest"): keep it as the answer and offer
        # the need instead of assuming it.
        evidenced = [n for n in new_needs if is_evidenced(n, interpretation, self.knowledge)]
        if evidenced and not free_text and not (valid or answering):
            self.form.start(state, evidenced, entities, text, turn.known_contact, out)
            return True
        if new_needs and free_text:
            self.form.answer(state, question, text, entities, out)
            out.replies.insert(len(out.replies) - 1, self.replies.suggestion(state, new_needs))
            return True
        return False

    def _while_reviewing(self, state: ConversationState, message: Message, out: Outcome) -> None:
        text, interpretation, entities, turn = message
        said = confirmation.answer(text, interpretation, self.knowledge)
        intent = interpretation.intent if interpretation else None
        sure = bool(
            interpretation and interpretation.confidence >= self.knowledge.threshold("cancel")
        )
        change = self.context.need_change(text, state.needs, free_text=False)
        if change is not None:
            self.form.change_needs(state, change, entities, text, turn, out)
        elif self.form.corrected(state, None, text, entities, out):
            return
        elif said in (Answer.EDIT, Answer.NO):
            self.steps.edit_menu(state, out)
        elif state.phase == Phase.CONFIRM and said is Answer.YES:
            out.action = Action.SUBMIT
        elif intent == "cancel" and sure:
            self.steps.cancel(state, out)
        elif interpretation and (
            new := [n for n in self.context.needs_in(interpretation) if n not in state.needs]
        ):
            self.form.start(state, new, entities, text, turn.known_contact, out)
        elif intent in SIDE_INTENTS_WHILE_ASKING or intent in self.knowledge.faq:
            self.steps.side_intent(state, intent or "", out)
            self.steps.resume(state, out, announce=True)
        else:
            self.steps.resume(state, out)

    def _while_offering_handover(
        self, state: ConversationState, message: Message, out: Outcome
    ) -> None:
        text, interpretation, _, _ = message
        said = confirmation.answer(text, interpretation, self.knowledge)
        if said is Answer.YES:
            out.action = Action.HANDOVER
        elif said is Answer.NO:
            self.form.decline_handover(state, out)
        elif state.current is None and state.in_progress:  # offered at the summary
            self.form.advance(state, out)
        elif state.current is None:  # offered on request, before any question
            state.move_to(Phase.IDLE)
            self._opening(state, message, out)
        else:  # one more attempt at the answer itself
            state.tries = MAX_TRIES - 1
            state.move_to(Phase.ASKING)
            self._while_asking(state, message, out)

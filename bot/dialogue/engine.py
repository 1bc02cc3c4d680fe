"""The conversation engine: one resident message in, replies out.

It is channel-independent (Telegram and the terminal chat use it alike) and pure: it changes
the ConversationState it is given and returns replies plus, at most, one action for the
service to carry out (send the request, hand over to a person, show the resident's requests).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from bot.dialogue import confirmation
from bot.dialogue.confirmation import Answer, readable
from bot.dialogue.context import NEW_NEED_CONFIDENCE, Context, activity_entities
from bot.dialogue.form import MAX_TRIES, Form
from bot.dialogue.replies import Replies
from bot.dialogue.state import ConversationState, Phase
from bot.dialogue.turns import Action, Button, Expectation, Outcome, Reply, Turn
from bot.knowledge import Knowledge, Question
from bot.nlu.dates import is_holiday_name
from bot.nlu.interpretation import Entity, Interpretation
from bot.nlu.needs import is_evidenced
from bot.nlu.patterns import merge_entities, pattern_entities

# How sure the model must be before a message in the middle of the questions is taken as
# something other than an answer. Below these, the message is treated as the answer.
SIDE_QUESTION_CONFIDENCE = 0.75
CANCEL_CONFIDENCE = 0.85
SIDE_INTENTS_WHILE_ASKING = {"help", "check_status"}


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
        self.today = today
        self.max_message_length = max_message_length

    # -- entry point --------------------------------------------------------------------

    def handle(self, state: ConversationState, turn: Turn) -> Outcome:
        out = Outcome()
        self.form.forget_removed_question(state)
        if turn.command:
            self._command(state, turn, out)
        elif turn.media:
            out.replies.append(self.replies.say(state, "media_not_supported"))
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
                    out.replies.append(self.replies.say(state, "welcome"))
                    self._resume(state, out, announce=True)
                else:
                    out.replies.append(
                        self.replies.say(state, "welcome", buttons=self.replies.need_buttons(state))
                    )
            case "help":
                out.replies.append(self.replies.say(state, "help"))
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
            self.form.start(state, needs, entities, state.carry_text, turn.known_contact, out)
        elif kind == "thread" and state.reply_to is not None and state.carry_text:
            if value == "reply":
                out.action, out.thread_text = Action.ADD_TO_THREAD, state.carry_text
                state.carry_text, state.carry_entities = None, []
            else:  # something new: which need, with what was said kept for it
                state.reply_to, state.phase = None, Phase.CLARIFY
                out.replies.append(
                    self.replies.say(state, "choose_need", buttons=self.replies.need_buttons(state))
                )
        elif kind == "intent":
            self._side_intent(state, value, out, state.carry_text or "")
            self._resume(state, out, announce=True)
        elif kind == "else":
            state.carry_text, state.carry_entities = None, []
            if state.phase == Phase.CLARIFY:
                state.phase = Phase.IDLE
            out.replies.append(self.replies.say(state, "something_else_answer"))
        elif kind == "confirm" and state.phase in (Phase.CONFIRM, Phase.EDIT_MENU):
            if value == "send":
                out.action = Action.SUBMIT
            elif value == "urgent":
                state.urgent = True
                state.phase = Phase.CONFIRM
                out.replies.append(self.replies.summary(state))
            elif value == "edit":
                self._edit_menu(state, out)
            else:
                self._cancel(state, out)
        elif kind == "edit" and state.phase in (Phase.CONFIRM, Phase.EDIT_MENU):
            self.form.ask(state, self.knowledge.question(value), out)
        elif kind == "remove" and state.phase == Phase.EDIT_MENU and value in state.needs:
            self.form.remove_need(state, value, out)
        elif kind == "back" and state.phase == Phase.EDIT_MENU:
            self.form.advance(state, out)
        elif kind == "skip" and question and question.optional:
            self.form.answer(state, question, None, [], out)
        elif kind == "unlisted" and question and state.unlisted:
            self.form.answer(state, question, state.unlisted, [], out)
        elif kind == "choice" and question and question.type == "choice":
            self.form.answer(state, question, value, [], out)
        elif kind == "handover" and state.phase == Phase.HANDOVER_OFFER:
            if value == "yes":
                out.action = Action.HANDOVER
            else:
                self.form.decline_handover(state, out)
        else:
            out.replies.append(self.replies.say(state, "button_expired"))
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
            out.replies.append(self.replies.say(state, "empty_message"))
            self._resume(state, out)
            return
        if len(text) > self.max_message_length:
            out.replies.append(
                self.replies.say(state, "too_long", length=len(text), max=self.max_message_length)
            )
            self._resume(state, out)
            return
        if not readable(text):  # only emoji, punctuation or another script: nothing to read
            out.replies.append(self.replies.say(state, "unreadable_message"))
            self._resume(state, out)
            return
        interpretation = turn.interpretation
        entities = merge_entities(interpretation.entities if interpretation else (), text)
        entities += activity_entities(text, self.knowledge)
        question = self._current_question(state)
        if self.context.asks_for_person(text, free_text=bool(question and question.type == "text")):
            state.phase = Phase.HANDOVER_OFFER
            out.replies.append(self.replies.handover_offer(state, "person_offer"))
        elif state.phase == Phase.ASKING:
            self._while_asking(state, text, interpretation, entities, turn, out)
        elif state.phase in (Phase.CONFIRM, Phase.EDIT_MENU):
            self._while_reviewing(state, text, interpretation, entities, turn, out)
        elif state.phase == Phase.HANDOVER_OFFER:
            self._while_offering_handover(state, text, interpretation, entities, turn, out)
        elif state.reply_to is not None and state.phase == Phase.IDLE:
            self._reply_or_new(state, text, interpretation, entities, out)
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
                self.replies.say(state, "nlu_unavailable", buttons=self.replies.need_buttons(state))
            )
            return
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
            if unsure and out.replies and interpretation.confidence >= NEW_NEED_CONFIDENCE:
                out.replies.insert(len(out.replies) - 1, self.replies.suggestion(state, unsure))
        elif interpretation.is_fallback:
            self._carry(state, text, entities)
            state.phase = Phase.CLARIFY
            out.replies.append(
                self.replies.say(
                    state, "did_you_mean", buttons=self.replies.guess_buttons(state, interpretation)
                )
            )
        else:
            self._side_intent(state, interpretation.intent, out, text)

    def _reply_or_new(
        self,
        state: ConversationState,
        text: str,
        interpretation: Interpretation | None,
        entities: list[Entity],
        out: Outcome,
    ) -> None:
        """An official waits for the resident's answer: a message is that answer, unless it
        looks like a new request or question; then the resident is asked which it is."""
        if interpretation is None or not self.context.sounds_new(interpretation):
            out.action = Action.ADD_TO_THREAD
            return
        self._carry(state, text, entities)
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

    def _while_asking(
        self,
        state: ConversationState,
        text: str,
        interpretation: Interpretation | None,
        entities: list[Entity],
        turn: Turn,
        out: Outcome,
    ) -> None:
        """An answer to the open question, unless the message is clearly something else:
        first what its words say (bot.dialogue.context), then what the model is sure of."""
        question = self._current_question(state)
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
            and confidence >= CANCEL_CONFIDENCE
            and (not free_text or len(text.split()) <= 4 or self.context.cancels(text))
        ):
            self._cancel(state, out)
            return True
        is_side = intent in SIDE_INTENTS_WHILE_ASKING or intent in self.knowledge.faq
        # Any text answers a free-text question, so there a side question must also look
        # like a question; a typed question's valid answer is never a side question.
        if (
            is_side
            and confidence >= SIDE_QUESTION_CONFIDENCE
            and (self.context.is_question(text) if free_text else not (valid or answering))
        ):
            self._side_intent(state, intent, out)
            self._resume(state, out, announce=True)
            return True
        skipping = question.optional and self.context.is_skip(text)  # "nee" to the phone
        if self.context.denies(text, interpretation) and not (answering or skipping or valid):
            # "Nee, dat bedoel ik niet": something the bot understood is wrong.
            state.phase = Phase.EDIT_MENU
            out.replies.append(self.replies.edit_menu(state, "misunderstood"))
            return True
        read = self.context.needs_in(interpretation)
        if confidence < NEW_NEED_CONFIDENCE:
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
        change = self.context.need_change(text, state.needs, free_text=False)
        if change is not None:
            self.form.change_needs(state, change, entities, text, turn, out)
        elif self.form.corrected(state, None, text, entities, out):
            return
        elif said in (Answer.EDIT, Answer.NO):
            self._edit_menu(state, out)
        elif state.phase == Phase.CONFIRM and said is Answer.YES:
            out.action = Action.SUBMIT
        elif intent == "cancel" and sure:
            self._cancel(state, out)
        elif interpretation and (
            new := [n for n in self.context.needs_in(interpretation) if n not in state.needs]
        ):
            self.form.start(state, new, entities, text, turn.known_contact, out)
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
            self.form.decline_handover(state, out)
        elif state.current is None and state.in_progress:  # offered at the summary
            self.form.advance(state, out)
        elif state.current is None:  # offered on request, before any question
            state.phase = Phase.IDLE
            self._opening(state, text, interpretation, entities, turn, out)
        else:  # one more attempt at the answer itself
            state.phase, state.tries = Phase.ASKING, MAX_TRIES - 1
            self._while_asking(state, text, interpretation, entities, turn, out)

    # -- the request being built --------------------------------------------------------

    def _cancel(self, state: ConversationState, out: Outcome) -> None:
        had_request = state.in_progress or state.phase != Phase.IDLE
        state.reset()
        out.replies.append(
            self.replies.say(state, "cancelled" if had_request else "nothing_to_cancel")
        )

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
                buttons = [] if state.in_progress else self.replies.need_buttons(state)
                out.replies.append(self.replies.say(state, "welcome", buttons=buttons))
            case "help":
                out.replies.append(self.replies.say(state, "help"))
            case "check_status":
                out.action = Action.SHOW_STATUS
            case "goodbye":
                out.replies.append(self.replies.say(state, "goodbye"))
            case "affirm":
                out.replies.append(self.replies.say(state, "affirm_idle"))
            case "deny":
                out.replies.append(
                    self.replies.say(state, "choose_need", buttons=self.replies.need_buttons(state))
                )
            case "cancel":
                self._cancel(state, out)
            case "out_of_scope":
                state.pointer = self.replies.pointer(text)
                out.replies.append(self.replies.say(state, state.pointer))
            case _:
                out.replies.append(self.replies.say(state, "something_else_answer"))

    # -- what the resident sees ---------------------------------------------------------

    def _resume(
        self, state: ConversationState, out: Outcome | list[Reply], announce: bool = False
    ) -> None:
        """Show again where we were, after a side question, a command or a stale button."""
        replies = out.replies if isinstance(out, Outcome) else out
        question = self._current_question(state)
        prefix = self.replies.text(state, "resume") if announce else None
        if state.phase == Phase.ASKING and question:
            replies.append(self.replies.prompt(state, question, prefix=prefix))
        elif state.phase == Phase.CONFIRM:
            replies.append(self.replies.summary(state))
        elif state.phase == Phase.EDIT_MENU:
            replies.append(self.replies.edit_menu(state))
        elif state.phase == Phase.HANDOVER_OFFER:
            replies.append(self.replies.handover_offer(state))
        elif state.phase == Phase.CLARIFY and not announce:
            replies.append(
                self.replies.say(state, "choose_need", buttons=self.replies.need_buttons(state))
            )

    def _edit_menu(self, state: ConversationState, out: Outcome) -> None:
        state.phase = Phase.EDIT_MENU
        out.replies.append(self.replies.edit_menu(state))

    # -- small helpers ------------------------------------------------------------------

    def _current_question(self, state: ConversationState) -> Question | None:
        if state.phase not in (Phase.ASKING, Phase.HANDOVER_OFFER) or not state.current:
            return None
        return self.knowledge.question(state.current)

    def _carry(self, state: ConversationState, text: str, entities: list[Entity]) -> None:
        state.carry_text = text
        state.carry_entities = [entity.to_dict() for entity in entities]

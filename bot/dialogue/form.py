"""The request's form: which question comes next, what a message already answers, and
what a changed answer or need does to the rest.

The engine decides what a message is (an answer, a side question, a command); the form
keeps the answers consistent: one fact is asked once, an answer that no longer fits is asked
again, removing a need takes its answers with it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from bot.contact import CONTACT_FIELDS
from bot.dialogue.context import Context, NeedChange
from bot.dialogue.presentation import need_list
from bot.dialogue.replies import Replies
from bot.dialogue.slots import fill_from_entities
from bot.dialogue.state import ConversationState, Phase
from bot.dialogue.turns import Button, Outcome, Reply, Turn
from bot.dialogue.validators import Invalid, still_consistent, validate
from bot.knowledge import NEED_ORDER, Knowledge, Question
from bot.nlu.interpretation import Entity

# After this many answers that could not be used, a person is offered.
MAX_TRIES = 3
# The problem of a date that recurs: no failure, but something to keep.
RECURRING = "date_recurring"


class Form:
    def __init__(
        self, knowledge: Knowledge, replies: Replies, context: Context, today: Callable[[], date]
    ) -> None:
        self.knowledge = knowledge
        self.replies = replies
        self.context = context
        self.today = today

    def start(
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
        for key in CONTACT_FIELDS:
            if key in known_contact and key not in state.answers:
                state.answers[key] = known_contact[key]
        filled = self.fill(state, entities, text)
        state.carry_text, state.carry_entities = None, []
        if added:
            key = "needs_recognised" if first else "need_added"
            text = self.replies.text(
                state, key, needs=need_list(self.knowledge, added, state.language)
            )
            facts = self.replies.facts(state, filled)
            if facts:
                text += " " + self.replies.text(state, "already_known", facts=facts)
            out.replies.append(Reply(text))
        self.advance(state, out)

    def fill(
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
            self._note_recurrence(state, problem)
        return filled

    def _note_recurrence(self, state: ConversationState, problem: Invalid) -> None:
        """A recurring date ("elke dinsdag vanaf januari") is kept with the request; the
        date question then asks for the first one."""
        if problem.key == RECURRING:
            state.recurrence = problem.params.get("recurrence") or state.recurrence

    def answer(
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
                if not self._listed(question, value) and self.context.is_skip(text):
                    raise Invalid("choice_unknown")  # "weet ik niet" is no neighbourhood
            except Invalid as problem:
                self._reject(state, question, problem, out)
                return
            if not self._listed(question, value) and state.unlisted != value:
                self._confirm_unlisted(state, question, value, out)
                return
        state.unlisted = None
        self._store(state, question, value, overwrite=False)
        state.problems.pop(question.key, None)
        self._drop_invalidated(state, question.key)
        self.fill(state, entities, None, exclude=question.from_entity)
        self.advance(state, out)

    def _confirm_unlisted(
        self, state: ConversationState, question: Question, value: str, out: Outcome
    ) -> None:
        """A name not on an open list ("Kanaleneiland", or "ergens") is kept only once the
        resident confirms it: with the button, or by typing it again."""
        state.unlisted = value
        prefix = self.replies.text(state, "choice_unlisted_confirm", value=value)
        keep = Button(self.replies.text(state, "button_keep_typed", value=value), "unlisted:keep")
        out.replies.append(self.replies.prompt(state, question, prefix, extra=[keep]))

    def _listed(self, question: Question, value: Any) -> bool:
        """Whether a choice answer is one of the choices (an open list also takes others)."""
        return question.type != "choice" or value in {c.value for c in question.choices}

    def _store(
        self, state: ConversationState, question: Question, value: Any, *, overwrite: bool
    ) -> None:
        """Store an answer, and the same fact asked under another name (the number of people
        is the number of visitors): where still open, or everywhere for a correction."""
        state.answers[question.key] = value
        for other in self.knowledge.same_fact(question, state.needs):
            if other.key in state.answers and not overwrite:
                continue
            try:
                same = validate(other, str(value), state.answers, self.today())
            except Invalid:
                continue
            state.answers[other.key] = same

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

    def is_valid(self, state: ConversationState, question: Question, text: str) -> bool:
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
        self._note_recurrence(state, problem)
        if problem.key != RECURRING:  # noted, not a failed answer
            state.tries += 1
        if state.tries >= MAX_TRIES:
            state.move_to(Phase.HANDOVER_OFFER)
            out.replies.append(self.replies.handover_offer(state))
            return
        error = self.knowledge.error(problem.key, state.language, **problem.params)
        # "Without a phone number the e-mail address is needed": no skip button then.
        skippable = problem.key != "required_without"
        out.replies.append(self.replies.prompt(state, question, error, skippable=skippable))

    def decline_handover(self, state: ConversationState, out: Outcome) -> None:
        """Back to where the conversation was when the person was offered."""
        out.replies.append(self.replies.say(state, "try_again"))
        if state.current is not None:
            self.ask(state, self.knowledge.question(state.current), out)
        elif state.in_progress:
            self.advance(state, out)
        else:
            state.move_to(Phase.IDLE)
            out.replies.append(
                self.replies.say(state, "choose_need", buttons=self.replies.need_buttons(state))
            )

    def change_needs(
        self,
        state: ConversationState,
        change: NeedChange,
        entities: list[Entity],
        text: str,
        turn: Turn,
        out: Outcome,
    ) -> None:
        """Take needs out of the request (and put one in, for "alleen een zaal") during the
        questions; the answers the remaining needs still ask for are kept."""
        for need in change.remove:
            if len(state.needs) > 1 or change.add:
                state.needs.remove(need)
                out.replies.append(
                    self.replies.say(
                        state,
                        "need_removed",
                        need=need_list(self.knowledge, [need], state.language),
                    )
                )
            else:
                self.remove_need(state, need, out)
                return
        keep = {q.key for q in self.knowledge.questions_for([*state.needs, *change.add])}
        state.answers = {k: v for k, v in state.answers.items() if k in keep}
        if change.add:
            self.start(state, change.add, entities, text, turn.known_contact, out)
        else:
            self.advance(state, out)

    def corrected(
        self,
        state: ConversationState,
        question: Question | None,
        text: str,
        entities: list[Entity],
        out: Outcome,
    ) -> bool:
        """Whether the message corrects an earlier answer ("sorry, het zijn er 60"): it
        names that question, or says it corrects and only that question takes the value.
        `question` is the open one, or None at the summary (then any answer may change)."""
        answered = [
            q
            for q in self.knowledge.questions_for(state.needs)
            if q.key in state.answers and (question is None or q.key != question.key)
        ]
        cue = self.context.corrects(text)
        named = self.context.named(text, answered, state.language)
        short = self.context.is_short(text)
        if (question is None or question.type == "text") and not (cue or (named and short)):
            return False  # a free-text answer may name another detail ("voor 30 mensen")
        found = {entity.name for entity in entities}
        own = question is not None and question.from_entity in found
        if named:
            candidates = named
        elif not cue or own:
            return False  # no correction, or the open question's own detail: its answer
        else:
            candidates = [q for q in answered if q.from_entity in found]
            if not candidates and question and not self.is_valid(state, question, text):
                candidates = answered
        target = self._one_fitting(state, candidates, text, entities)
        if target is None:
            return False
        key, value = target
        self._store(state, self.knowledge.question(key), value, overwrite=True)
        self._drop_invalidated(state, key)
        changed = self.replies.text(
            state, "answer_changed", facts=self.replies.facts(state, {key: value})
        )
        if question is None:
            out.replies.append(Reply(changed))
            self.advance(state, out)  # the summary again, or what no longer fits
        else:
            self.ask(state, question, out, prefix=changed)
        return True

    def _one_fitting(
        self,
        state: ConversationState,
        candidates: list[Question],
        text: str,
        entities: list[Entity],
    ) -> tuple[str, Any] | None:
        """The one question (one fact) the message gives a new value for, or None."""
        fitting: dict[str, Any] = {}
        for candidate in candidates:
            same = {q.key for q in self.knowledge.same_fact(candidate, state.needs)}
            if same & set(fitting):
                continue  # one fact under two names counts once
            others = {k: v for k, v in state.answers.items() if k != candidate.key}
            value = self._value_in(candidate, text, entities, others)
            if value is not None and value != state.answers.get(candidate.key):
                fitting[candidate.key] = value
        return next(iter(fitting.items())) if len(fitting) == 1 else None

    def _value_in(
        self, question: Question, text: str, entities: list[Entity], answers: dict[str, Any]
    ) -> Any:
        """The value for `question` in a message that is not its answer: from an entity it
        takes, else the whole text if that is a valid answer (never for free text)."""
        candidates = [e.value for e in entities if e.name == question.from_entity]
        if question.type != "text":
            candidates.append(text)
        for raw in candidates:
            try:
                return validate(question, raw, answers, self.today())
            except Invalid:
                continue
        return None

    def remove_need(self, state: ConversationState, need: str, out: Outcome) -> None:
        state.needs.remove(need)
        keep = {q.key for q in self.knowledge.questions_for(state.needs)}
        state.answers = {k: v for k, v in state.answers.items() if k in keep}
        out.replies.append(
            self.replies.say(
                state, "need_removed", need=need_list(self.knowledge, [need], state.language)
            )
        )
        if state.needs:
            self.advance(state, out)
        else:
            state.reset()
            out.replies.append(
                self.replies.say(state, "choose_need", buttons=self.replies.need_buttons(state))
            )

    def advance(self, state: ConversationState, out: Outcome) -> None:
        """Ask the first open question, or show the summary when everything is known."""
        for question in self.knowledge.questions_for(state.needs):
            if question.key not in state.answers:
                self.ask(state, question, out)
                return
        state.current = None
        state.move_to(Phase.CONFIRM)
        out.replies.append(self.replies.summary(state))

    def ask(
        self,
        state: ConversationState,
        question: Question | None,
        out: Outcome,
        prefix: str | None = None,
    ) -> None:
        if question is None:
            self.advance(state, out)
            return
        state.current, state.tries = question.key, 0
        state.move_to(Phase.ASKING)
        problem = state.problems.pop(question.key, None)
        if problem:
            prefix = self.knowledge.error(problem["key"], state.language, **problem["params"])
        out.replies.append(self.replies.prompt(state, question, prefix=prefix))

    def forget_removed_question(self, state: ConversationState) -> None:
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
                state.move_to(Phase.CONFIRM)

"""The moves that typed messages and buttons share: cancel, answer a side question, show
again where the conversation was, open the edit menu."""

from __future__ import annotations

from bot.dialogue.replies import Replies
from bot.dialogue.state import ConversationState, Phase
from bot.dialogue.turns import Action, Outcome, Reply
from bot.knowledge import Knowledge, Question
from bot.nlu.interpretation import Entity


class Steps:
    def __init__(self, knowledge: Knowledge, replies: Replies) -> None:
        self.knowledge, self.replies = knowledge, replies

    def cancel(self, state: ConversationState, out: Outcome) -> None:
        had_request = state.in_progress or state.phase != Phase.IDLE
        state.reset()
        out.replies.append(
            self.replies.say(state, "cancelled" if had_request else "nothing_to_cancel")
        )

    def side_intent(
        self, state: ConversationState, intent: str, out: Outcome, text: str = ""
    ) -> None:
        """Answer a question that is not part of the request itself."""
        if intent in self.knowledge.faq:
            language = state.language
            faq = self.knowledge.faq[intent]
            out.replies.append(Reply(faq.get(language) or faq["nl"]))
            return
        reply = self.knowledge.intent_replies.get(intent)
        match intent:  # the intents the dialogue acts on itself (ACTED_ON_INTENTS)
            case "check_status":
                out.action = Action.SHOW_STATUS
            case "cancel":
                self.cancel(state, out)
            case "out_of_scope":
                state.pointer = self.replies.pointer(text)
                out.replies.append(self.replies.say(state, state.pointer))
            case _ if reply is not None:  # the admins' table (knowledge/dialogue.yml)
                with_needs = reply.need_buttons == "always" or (
                    reply.need_buttons == "when_idle" and not state.in_progress
                )
                buttons = self.replies.need_buttons(state) if with_needs else []
                out.replies.append(self.replies.say(state, reply.text, buttons=buttons))
            case _:
                out.replies.append(self.replies.say(state, "something_else_answer"))

    def resume(
        self, state: ConversationState, out: Outcome | list[Reply], announce: bool = False
    ) -> None:
        """Show again where we were, after a side question, a command or a stale button."""
        replies = out.replies if isinstance(out, Outcome) else out
        question = self.current_question(state)
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

    def edit_menu(self, state: ConversationState, out: Outcome) -> None:
        state.move_to(Phase.EDIT_MENU)
        out.replies.append(self.replies.edit_menu(state))

    def current_question(self, state: ConversationState) -> Question | None:
        if state.phase not in (Phase.ASKING, Phase.HANDOVER_OFFER) or not state.current:
            return None
        return self.knowledge.question(state.current)

    def carry(self, state: ConversationState, text: str, entities: list[Entity]) -> None:
        state.carry_text = text
        state.carry_entities = [entity.to_dict() for entity in entities]

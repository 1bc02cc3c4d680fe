"""The dialogue engine on its own: which question comes next, what is never asked twice,
side questions, changes, cancelling and the hand-over to a person.

The model's output is written out by hand here; tests/integration and tests/e2e run the
same conversations through the real Rasa server."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from bot.dialogue.engine import DialogueEngine
from bot.dialogue.state import ConversationState, Phase
from bot.dialogue.turns import Action, Outcome, Turn
from bot.knowledge import IntentReply, Knowledge
from bot.nlu.interpretation import Entity, Interpretation

TODAY = date(2026, 11, 23)


def said(text: str, intent: str, confidence: float = 0.95, **entities: str) -> Interpretation:
    found = []
    for name, value in entities.items():
        start = text.find(value)
        assert start >= 0, f"{value!r} not in {text!r}"
        found.append(Entity(name, value, value, start, start + len(value)))
    return Interpretation(text, intent, confidence, ((intent, confidence),), tuple(found))


class Chat:
    """A conversation with the engine, keeping the state between turns like the service."""

    def __init__(self, knowledge: Knowledge) -> None:
        self.engine = DialogueEngine(knowledge, lambda: TODAY)
        self.state = ConversationState()
        self.asked: list[str] = []

    def turn(self, turn: Turn) -> Outcome:
        outcome = self.engine.handle(self.state, turn)
        if self.state.phase == Phase.ASKING:
            self.asked.append(self.state.current)
        return outcome

    def text(self, text: str, intent: str = "inform", confidence: float = 0.3, **entities: str):
        return self.turn(Turn(text=text, interpretation=said(text, intent, confidence, **entities)))

    def press(self, data: str) -> Outcome:
        return self.turn(Turn(button=data))

    def button_data(self, outcome: Outcome) -> list[str]:
        return [b.data for reply in outcome.replies for row in reply.buttons for b in row]


def test_first_message_details_are_not_asked_again(knowledge: Knowledge) -> None:
    chat = Chat(knowledge)
    outcome = chat.text(
        "Ik wil zaterdag 12 december een zaal voor 40 mensen in Centrum",
        "request_room",
        0.97,
        date="zaterdag 12 december",
        people="40",
        neighbourhood="Centrum",
    )
    assert chat.state.needs == ["room"]
    assert chat.state.answers == {"date": "2026-12-12", "people": 40, "neighbourhood": "Centrum"}
    assert chat.state.current == "start_time"
    assert "zaterdag 12 december 2026" in outcome.replies[0].text
    chat.text("van 14:00 tot 17:00")  # both times in one answer
    assert chat.state.answers["end_time"] == "17:00"
    chat.text("Repair café voor de buurt")
    chat.text("Jan Jansen")
    chat.text("0612345678")
    outcome = chat.press("skip")  # email may be skipped once a phone number is known
    assert chat.state.phase == Phase.CONFIRM
    assert chat.asked == ["start_time", "purpose", "name", "phone", "email"]
    assert "confirm:send" in chat.button_data(outcome)
    assert chat.press("confirm:send").action == Action.SUBMIT


def test_several_needs_share_questions(knowledge: Knowledge) -> None:
    chat = Chat(knowledge)
    chat.text("we need a hall and some money for snacks", "request_room+request_budget", 0.9)
    assert chat.state.needs == ["room", "budget"]
    for answer in [
        "zaterdag 12 december",
        "14:00",
        "18:00",
        "30",
        "Noord",
        "buurtfeest",
        "€ 300",
        "hapjes en drinken",
        "Buurtfeest Noord",
        "Jan",
        "0612345678",
    ]:
        chat.text(answer)
    chat.press("skip")
    assert chat.state.phase == Phase.CONFIRM
    assert chat.asked.count("neighbourhood") == 1
    assert len(chat.asked) == len(set(chat.asked))


def test_invalid_answers_explain_and_offer_a_person_after_three(knowledge: Knowledge) -> None:
    chat = Chat(knowledge)
    chat.text("zaal nodig", "request_room")
    first = chat.text("31 februari")
    assert first.replies[0].text.startswith("31 februari bestaat niet.")
    second = chat.text("1 januari 2020")
    assert "al voorbij" in second.replies[0].text
    third = chat.text("geen flauw idee")
    assert chat.state.phase == Phase.HANDOVER_OFFER
    assert "handover:yes" in chat.button_data(third)
    assert chat.press("handover:yes").action == Action.HANDOVER


def _at_summary(knowledge: Knowledge) -> Chat:
    chat = Chat(knowledge)
    text = "Ik wil zaterdag 12 december een zaal voor 40 mensen in Centrum"
    chat.text(text, "request_room", 0.97, date="zaterdag 12 december", people="40")
    for answer in ["Centrum", "van 14:00 tot 17:00", "Repair café", "Jan Jansen", "0612345678"]:
        chat.text(answer)
    chat.press("skip")
    assert chat.state.phase == Phase.CONFIRM, chat.asked
    return chat


@pytest.mark.parametrize(
    ("text", "intent", "confidence", "submits"),
    [
        ("ja", "affirm", 0.99, True),
        ("Ja!", "greet", 0.3, True),  # the word alone is enough, whatever the model says
        ("oké", "affirm", 0.5, True),
        ("ja hoor, stuur maar op", "affirm", 0.9, True),
        ("yes please send it", "affirm", 0.95, True),
        ("ja hoor, stuur maar op", "affirm", 0.6, False),  # the model is not sure
        ("klinkt prima eigenlijk", "greet", 0.9, False),  # a yes word, but not affirm
        ("👍", "affirm", 0.68, False),  # no word at all
        ("👎", "affirm", 0.68, False),
        ("❌", "affirm", 0.68, False),
        ("?", "affirm", 0.68, False),
        ("...", "affirm", 0.68, False),
        ("/", "affirm", 0.68, False),
        ("\x01\x02", "affirm", 0.68, False),
        ("שלום", "affirm", 0.68, False),
        ("asdfgh qwerty", "affirm", 0.85, False),  # affirm, but no yes word
        ("januari", "affirm", 0.9, False),  # "ja" is not a word in it
        ("ja nee weet niet", "affirm", 0.9, False),  # yes and no at once
    ],
)
def test_only_a_clear_yes_sends_the_request(
    knowledge: Knowledge, text: str, intent: str, confidence: float, submits: bool
) -> None:
    chat = _at_summary(knowledge)
    outcome = chat.text(text, intent, confidence)
    assert (outcome.action == Action.SUBMIT) is submits
    if not submits:  # the choice is shown again, nothing given is lost
        assert chat.state.phase in (Phase.CONFIRM, Phase.EDIT_MENU)
        assert chat.state.answers["people"] == 40
        assert any(reply.buttons for reply in outcome.replies)


@pytest.mark.parametrize("text", ["😀😀😀", "?!", "…", "שלום"])
def test_a_message_without_words_is_not_read_as_an_answer(knowledge: Knowledge, text: str) -> None:
    chat = Chat(knowledge)
    chat.text("zaal nodig", "request_room")
    outcome = chat.text(text, "affirm", 0.68)
    assert "kan ik niet lezen" in outcome.replies[0].text
    assert chat.state.phase == Phase.ASKING and chat.state.current == "date"
    assert chat.state.tries == 0 and len(outcome.replies) == 2  # and the question again


@pytest.mark.parametrize("data", ["need:", "need:rocket", "need:,,", "edit:unknown", "edit:"])
def test_unknown_button_data_is_an_expired_button(knowledge: Knowledge, data: str) -> None:
    chat = _at_summary(knowledge)
    outcome = chat.press(data)
    assert outcome.action is None and chat.state.needs == ["room"]
    assert chat.state.phase == Phase.CONFIRM and chat.state.answers["people"] == 40
    assert outcome.replies[0].text == knowledge.text("button_expired", "nl")


def test_garbage_at_the_handover_offer_hands_nothing_over(knowledge: Knowledge) -> None:
    chat = Chat(knowledge)
    chat.text("zaal nodig", "request_room")
    for _ in range(3):
        chat.text("nonsense")
    assert chat.state.phase == Phase.HANDOVER_OFFER
    assert chat.text("🙂", "affirm", 0.68).action is None
    assert chat.text("ja graag", "affirm", 0.97).action == Action.HANDOVER


def test_declining_the_handover_asks_again(knowledge: Knowledge) -> None:
    chat = Chat(knowledge)
    chat.text("zaal nodig", "request_room")
    for _ in range(3):
        chat.text("nonsense")
    chat.press("handover:no")
    assert chat.state.phase == Phase.ASKING and chat.state.current == "date"
    assert chat.state.tries == 0


def test_side_question_answers_and_resumes(knowledge: Knowledge) -> None:
    chat = Chat(knowledge)
    chat.text("hekken lenen", "request_tools")
    assert chat.state.current == "items"
    chat.text("20 dranghekken")
    outcome = chat.text("wat kost het?", "faq_costs", 0.93)
    assert "gratis" in outcome.replies[0].text
    assert chat.state.current == "pickup_date"
    assert outcome.replies[-1].text.endswith(knowledge.question("pickup_date").prompt["nl"])


def test_the_side_question_threshold_is_the_admins(knowledge: Knowledge) -> None:
    """Above the side_question threshold the model's reading wins, below it the message is
    the answer (here to the pick-up date, which it is not: asked again)."""
    careful = replace(knowledge, thresholds={**knowledge.thresholds, "side_question": 0.95})
    chat = Chat(careful)
    chat.text("hekken lenen", "request_tools")
    chat.text("20 dranghekken")
    outcome = chat.text("wat kost het?", "faq_costs", 0.93)
    assert "gratis" not in outcome.replies[0].text
    assert chat.state.current == "pickup_date" and chat.state.tries == 1


def test_a_conversation_intent_gets_the_reply_of_the_admins_table(knowledge: Knowledge) -> None:
    chat = Chat(knowledge)
    outcome = chat.text("hoi", "greet", 0.95)
    assert outcome.replies[0].text == knowledge.text("welcome", "nl")
    assert "need:room" in chat.button_data(outcome)  # no request yet: the needs come along
    reply = IntentReply("help", "never")
    chat = Chat(replace(knowledge, intent_replies={**knowledge.intent_replies, "greet": reply}))
    outcome = chat.text("hoi", "greet", 0.95)
    assert outcome.replies[0].text == knowledge.text("help", "nl")
    assert chat.button_data(outcome) == []


def test_a_free_text_answer_is_not_mistaken_for_a_side_question(knowledge: Knowledge) -> None:
    chat = Chat(knowledge)
    chat.text("zaal op zaterdag 12 december", "request_room", date="zaterdag 12 december")
    chat.text("14:00")
    chat.text("16:00")
    chat.text("12")
    chat.text("Oost")
    chat.text("uitleg over hoe de gemeente werkt", "help", 0.8)  # no question mark
    assert chat.state.answers["purpose"] == "uitleg over hoe de gemeente werkt"


def test_a_number_in_a_free_text_answer_is_not_taken_for_another_detail(
    knowledge: Knowledge,
) -> None:
    chat = Chat(knowledge)
    chat.text("mogen we de straat afsluiten", "request_permit")
    chat.text("Buurtfeest voor 60 mensen")
    assert chat.state.answers["visitors"] == 60  # a pattern finds "60 mensen"
    chat.state.answers.pop("visitors")
    chat.text("Lindelaan 1 tot 40", "request_permit", 0.9, location="Lindelaan 1", people="40")
    assert chat.state.answers["location"] == "Lindelaan 1 tot 40"
    assert "visitors" not in chat.state.answers  # the model's guess; a house number


def test_adding_a_second_need_in_the_middle(knowledge: Knowledge) -> None:
    chat = Chat(knowledge)
    chat.text("ik wil een vergunning voor een straatfeest", "request_permit")
    chat.text("Straatfeest")
    chat.text("Kerkstraat")
    assert chat.state.current == "date"
    outcome = chat.text(
        "o ja, en ook 20 dranghekken lenen",
        "request_tools",
        0.92,
        quantity="20",
        item="dranghekken",
    )
    assert chat.state.needs == ["tools", "permit"]
    assert chat.state.answers["items"] == "20 dranghekken"
    assert "toegevoegd" in outcome.replies[0].text
    assert chat.state.current == "pickup_date"


def test_a_date_answer_that_sounds_like_a_need_is_an_answer(knowledge: Knowledge) -> None:
    chat = Chat(knowledge)
    chat.text("hekken lenen", "request_tools")
    chat.text("20 dranghekken")
    chat.text("zaterdag 19 december")
    chat.text("maandag 21 december", "request_room", 0.9)
    assert chat.state.needs == ["tools"]
    assert chat.state.answers["return_date"] == "2026-12-21"


def test_a_free_text_answer_that_sounds_like_a_need_offers_it(knowledge: Knowledge) -> None:
    chat = Chat(knowledge)
    chat.text("zaal", "request_room")
    for answer in ["12 december", "14:00", "17:00", "40", "Zuid"]:
        chat.text(answer)
    outcome = chat.text("Straatfeest", "request_permit", 0.9)
    assert chat.state.answers["purpose"] == "Straatfeest"
    assert chat.state.needs == ["room"]
    assert "need:permit" in chat.button_data(outcome)
    chat.press("need:permit")
    assert chat.state.needs == ["room", "permit"]
    assert chat.state.current == "activity"


def test_change_an_answer_from_the_summary(knowledge: Knowledge) -> None:
    chat = Chat(knowledge)
    chat.text("zaal", "request_room")
    for answer in ["12 december", "14:00", "17:00", "40", "Zuid", "bingo", "Jan", "0612345678"]:
        chat.text(answer)
    chat.press("skip")
    chat.press("confirm:edit")
    assert chat.state.phase == Phase.EDIT_MENU
    chat.press("edit:start_time")
    outcome = chat.text("18:00")  # now after the end time: the end time is asked again
    assert chat.state.current == "end_time"
    chat.text("21:00")
    assert chat.state.phase == Phase.CONFIRM
    assert "18:00" in chat.engine.replies.summary(chat.state).text
    del outcome


def test_remove_a_need_from_the_summary(knowledge: Knowledge) -> None:
    chat = Chat(knowledge)
    chat.text("zaal en geld", "request_room+request_budget")
    for answer in [
        "12 december",
        "14:00",
        "17:00",
        "40",
        "Zuid",
        "bingo",
        "€ 100",
        "prijzen",
        "Bingo Zuid",
        "Jan",
        "0612345678",
    ]:
        chat.text(answer)
    chat.press("skip")
    chat.press("confirm:edit")
    chat.press("remove:budget")
    assert chat.state.needs == ["room"]
    assert "amount" not in chat.state.answers
    assert chat.state.phase == Phase.CONFIRM


def test_cancel_forgets_the_request(knowledge: Knowledge) -> None:
    chat = Chat(knowledge)
    chat.text("zaal", "request_room")
    outcome = chat.turn(Turn(command="cancel"))
    assert chat.state.needs == [] and chat.state.phase == Phase.IDLE
    assert "niets verstuurd" in outcome.replies[0].text


def test_low_confidence_asks_did_you_mean(knowledge: Knowledge) -> None:
    chat = Chat(knowledge)
    text = "iets voor de buurt op 12 december"
    interpretation = Interpretation(
        text,
        "nlu_fallback",
        0.4,
        (("nlu_fallback", 0.4), ("request_room", 0.35), ("faq_costs", 0.2)),
        (),
    )
    outcome = chat.turn(Turn(text=text, interpretation=interpretation))
    data = chat.button_data(outcome)
    assert data[:2] == ["need:room", "intent:faq_costs"]
    assert {"need:tools", "need:budget", "need:permit", "else"} <= set(data)
    chat.press("need:room")
    assert chat.state.answers["date"] == "2026-12-12"  # the first message is not lost


def test_a_new_message_after_did_you_mean_keeps_the_first(knowledge: Knowledge) -> None:
    chat = Chat(knowledge)
    text = "iets voor 40 mensen in Noord"
    chat.turn(Turn(text=text, interpretation=Interpretation(text, "nlu_fallback", 0.3, (), ())))
    chat.text("een zaal bedoel ik", "request_room", 0.9)
    assert chat.state.answers == {"people": 40, "neighbourhood": "Noord"}


def test_without_nlu_the_needs_are_offered_and_details_kept(knowledge: Knowledge) -> None:
    chat = Chat(knowledge)
    outcome = chat.turn(Turn(text="zaal voor 40 mensen op 12 december in Noord"))
    assert chat.button_data(outcome) == ["need:room", "need:tools", "need:budget", "need:permit"]
    chat.press("need:room")
    assert chat.state.answers == {"date": "2026-12-12", "people": 40, "neighbourhood": "Noord"}


@pytest.mark.parametrize("turn", [Turn(media=True), Turn(text="x" * 10_000), Turn(text="   ")])
def test_odd_input_keeps_the_conversation(knowledge: Knowledge, turn: Turn) -> None:
    chat = Chat(knowledge)
    chat.text("zaal", "request_room")
    chat.text("12 december")
    before = dict(chat.state.answers)
    outcome = chat.turn(turn)
    assert chat.state.answers == before
    assert chat.state.current == "start_time"
    assert outcome.replies[-1].text.endswith(knowledge.question("start_time").prompt["nl"])


def test_stale_buttons_are_explained(knowledge: Knowledge) -> None:
    chat = Chat(knowledge)
    chat.text("zaal", "request_room")
    outcome = chat.press("confirm:send")
    assert outcome.action is None
    assert "eerder moment" in outcome.replies[0].text


def test_known_contact_details_are_not_asked(knowledge: Knowledge) -> None:
    chat = Chat(knowledge)
    contact = {"name": "Jan", "phone": "+31612345678", "email": None}
    chat.turn(
        Turn(
            text="20 tafels lenen",
            interpretation=said("20 tafels lenen", "request_tools", quantity="20", item="tafels"),
            known_contact=contact,
        )
    )
    for answer in ["12 december", "13 december", "West", "burendag"]:
        chat.text(answer)
    assert chat.state.phase == Phase.CONFIRM
    assert not {"name", "phone", "email"} & set(chat.asked)


def test_state_survives_json(knowledge: Knowledge) -> None:
    chat = Chat(knowledge)
    chat.text("zaal op 12 december", "request_room", date="12 december")
    restored = ConversationState.from_json(chat.state.to_json())
    assert restored == chat.state


def test_english(knowledge: Knowledge) -> None:
    chat = Chat(knowledge)
    chat.state.language = "en"
    outcome = chat.text("I need a room", "request_room")
    assert outcome.replies[-1].text == knowledge.question("date").prompt["en"]


@pytest.mark.parametrize(
    ("text", "pointer", "language"),
    [
        ("ik wil een parkeervergunning voor mijn auto", "Parkeren", "nl"),
        ("Mijn paspoort is verlopen", "Burgerzaken", "nl"),
        ("de lantaarnpaal in onze straat is kapot", "Melding openbare ruimte", "nl"),
        ("my neighbours make so much noise, a real nuisance", "Buurtbemiddeling", "en"),
        ("wat vind jij van voetbal", "14 0123", "nl"),  # no topic: the general pointer
    ],
)
def test_out_of_scope_says_where_to_go(
    knowledge: Knowledge, text: str, pointer: str, language: str
) -> None:
    chat = Chat(knowledge)
    chat.state.language = language
    outcome = chat.text(text, "out_of_scope", 0.9)
    assert pointer in outcome.replies[0].text
    assert chat.state.phase == Phase.IDLE and not chat.state.needs


def test_a_need_without_evidence_is_offered_not_added(knowledge: Knowledge) -> None:
    chat = Chat(knowledge)
    text = "Mogen we 20 dranghekken lenen voor het straatfeest?"
    model = said(text, "request_tools+request_permit", 0.9, quantity="20", item="dranghekken")
    settled = Interpretation(
        text, "request_tools", 0.9, model.ranking, model.entities, "request_tools+request_permit"
    )
    outcome = chat.turn(Turn(text=text, interpretation=settled))
    assert chat.state.needs == ["tools"]
    assert "need:permit" in chat.button_data(outcome)
    chat.press("need:permit")
    assert chat.state.needs == ["tools", "permit"]


def test_a_reply_to_an_official_or_something_new(knowledge: Knowledge) -> None:
    chat = Chat(knowledge)
    chat.state.reply_to = 7  # an official asked the resident something
    assert chat.text("ja dat klopt, het zijn 40 stoelen").action == Action.ADD_TO_THREAD

    asked = chat.text("kunnen we ook tafels lenen voor de kerstmarkt", "request_tools", 0.93)
    assert asked.action is None and "thread:reply" in chat.button_data(asked)
    reply = chat.press("thread:reply")
    assert reply.action == Action.ADD_TO_THREAD
    assert reply.thread_text == "kunnen we ook tafels lenen voor de kerstmarkt"

    chat.text("en wat kost een zaal huren eigenlijk?", "faq_costs", 0.9)
    new = chat.press("thread:new")
    assert new.action is None and chat.state.reply_to is None
    assert "need:room" in chat.button_data(new)


def test_an_unsure_combination_offers_nothing_it_has_no_word_for(knowledge: Knowledge) -> None:
    chat = Chat(knowledge)
    text = "we willen een vergunning voor de nieuwjaarsborrel op het plein"
    model = said(text, "request_tools+request_permit", 0.62)
    settled = Interpretation(
        text, "request_permit", 0.62, model.ranking, (), "request_tools+request_permit"
    )
    outcome = chat.turn(Turn(text=text, interpretation=settled))
    assert chat.state.needs == ["permit"]
    assert "need:tools" not in chat.button_data(outcome)

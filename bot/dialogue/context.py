"""Reading a typed message in the context of the open question.

Before a message counts as the answer to the open question it may be something else: a
request for a person, "I said that already", a change of the needs ("ik wil niks lenen"), or
a correction of an earlier answer ("de datum moet 12 december zijn"). Each is recognised by
the words of a vocabulary (the lookup tables in rasa_project/data/nlu/cues.yml, which admins
keep), so what counts is data; the engine decides what to do with it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.knowledge import NEED_ORDER, QUESTION_NAMES_PREFIX, Knowledge, Question
from bot.nlu.cues import is_one_of, mentions, occurrences, words
from bot.nlu.interpretation import MULTI_INTENT_SEPARATOR, Entity, Interpretation
from bot.nlu.needs import is_evidenced

PERSON_WORDS = "person_words"
PERSON_NOUNS = "person_nouns"
CONTACT_VERBS = "contact_verbs"
ALREADY_SAID_WORDS = "already_said_words"
NEGATION_WORDS = "negation_words"
NOT_NEEDED_WORDS = "not_needed_words"
ONLY_WORDS = "only_words"
CORRECTION_WORDS = "correction_words"
NEEDED_WORDS = "needed_words"
CANCEL_WORDS = "cancel_words"
QUESTION_WORDS = "question_words"
SKIP_WORDS = "skip_words"
NO_WORDS = "no_words"
# Below the new_need threshold, a need among the model's first readings (with at least the
# weak_need threshold) counts when the text names it.
WEAK_READINGS = 2
# A question word this near the start makes a message a question.
QUESTION_START_WORDS = 2
# A denial is short, and the model must be sure of it (the deny threshold).
DENIAL_WORDS = 6
ACTIVITY = "activity"  # the vocabulary, and the entity the app finds with it
# How close (in words) a negation or "alleen" must stand before a need's word, and "niet
# nodig" after it: "we hebben geen subsidie nodig", "de vergunning is niet meer nodig".
NEAR = 3
# How far apart (in words) a person and a way of talking may stand: "iemand van de gemeente
# spreken".
PERSON_DISTANCE = 5
# A free-text answer longer than this is an answer that happens to mention a person or a
# need ("er is geen ruimte bij ons thuis"), not a request about them.
SHORT_MESSAGE_WORDS = 10


@dataclass(frozen=True)
class NeedChange:
    """Needs to take out of the request, and needs to put in (for "alleen een zaal")."""

    remove: list[str] = field(default_factory=list)
    add: list[str] = field(default_factory=list)


class Context:
    def __init__(self, knowledge: Knowledge) -> None:
        self.knowledge = knowledge

    def _table(self, name: str) -> tuple[str, ...]:
        return self.knowledge.cues.get(name, ())

    def is_short(self, text: str) -> bool:
        return len(words(text)) <= SHORT_MESSAGE_WORDS

    def asks_for_person(self, text: str, free_text: bool) -> bool:
        if free_text and not self.is_short(text):
            return False
        if mentions(text, self._table(PERSON_WORDS), exact=True):
            return True
        typed = words(text)
        people = self._starts(typed, PERSON_NOUNS)
        return any(
            abs(verb - person) <= PERSON_DISTANCE
            for verb in self._starts(typed, CONTACT_VERBS)
            for person in people
        )

    def already_said(self, text: str) -> bool:
        return mentions(text, self._table(ALREADY_SAID_WORDS), exact=True) is not None

    def corrects(self, text: str) -> bool:
        return mentions(text, self._table(CORRECTION_WORDS), exact=True) is not None

    def is_skip(self, text: str) -> bool:
        """The whole message skips an optional question ("nee", "liever niet", "-")."""
        return text.strip().rstrip(".!") in ("-", "") or is_one_of(text, self._table(SKIP_WORDS))

    def denies(self, text: str, interpretation: Interpretation) -> bool:
        """A short "no" on its own ("nee, dat bedoel ik niet"): no answer to any question.
        It takes the model reading it as deny and a word of no_words in it."""
        return (
            interpretation.intent == "deny"
            and interpretation.confidence >= self.knowledge.threshold("deny")
            and len(words(text)) <= DENIAL_WORDS
            and mentions(text, self._table(NO_WORDS), exact=True) is not None
        )

    def cancels(self, text: str) -> bool:
        return mentions(text, self._table(CANCEL_WORDS), exact=True) is not None

    def is_question(self, text: str) -> bool:
        """A question mark, or a question word at the start ("hoe lang duurt het", "tot hoe
        laat zijn jullie open")."""
        opening = words(text)[:QUESTION_START_WORDS]
        return "?" in text or bool(occurrences(opening, self._table(QUESTION_WORDS), exact=True))

    def need_change(self, text: str, needs: list[str], free_text: bool) -> NeedChange | None:
        """Which needs the message takes out, or keeps alone. Only a need's own words count
        (lenen, subsidie, vergunning, zaal), not its items: "geen tafels maar stoelen" is an
        answer about the items."""
        typed = words(text)
        short = not free_text or self.is_short(text)
        negations = self._ends(typed, NEGATION_WORDS)
        only = self._ends(typed, ONLY_WORDS)
        not_needed = self._starts(typed, NOT_NEEDED_WORDS)
        needed = self._starts(typed, NEEDED_WORDS)
        remove, keep = [], []
        for need in NEED_ORDER:
            if need not in self.knowledge.needs:
                continue
            for start, _ in occurrences(typed, self._table(need)):
                negated = any(0 <= start - end < NEAR for end in negations)
                confirmed = any(abs(other - start) <= NEAR + 1 for other in needed)
                if (negated and (short or confirmed)) or any(
                    0 < later - start <= NEAR + 1 for later in not_needed
                ):
                    remove.append(need)
                elif short and any(0 <= start - end < NEAR for end in only):
                    keep.append(need)
        remove = [n for n in dict.fromkeys(remove) if n in needs]
        keep = [n for n in dict.fromkeys(keep) if n not in remove]
        if keep:
            return NeedChange(
                remove=[n for n in needs if n not in keep],
                add=[n for n in keep if n not in needs],
            )
        return NeedChange(remove=remove) if remove else None

    def named_needs(self, text: str) -> set[str]:
        """The needs whose own words the text uses ("lenen", "subsidie"), not negated."""
        typed = words(text)
        negations = self._ends(typed, NEGATION_WORDS)
        return {
            need
            for need in NEED_ORDER
            for start, _ in occurrences(typed, self._table(need))
            if not any(0 <= start - end < NEAR for end in negations)
        }

    def _starts(self, typed: list[str], table: str) -> list[int]:
        return [start for start, _ in occurrences(typed, self._table(table), exact=True)]

    def _ends(self, typed: list[str], table: str) -> list[int]:
        """The word index just after each occurrence of the table's entries."""
        return [
            start + len(words(entry))
            for start, entry in occurrences(typed, self._table(table), exact=True)
        ]

    def named(self, text: str, questions: list[Question], language: str) -> list[Question]:
        """The questions the message names: by label ("de datum") or by the words residents
        use for them ("het begint om")."""
        names = {
            question.key: [
                question.label.get(language) or question.label["nl"],
                question.label["nl"],
                *self._table(QUESTION_NAMES_PREFIX + question.key),
            ]
            for question in questions
        }
        # Whole words first: "ophaaldatum" names the pick-up date, not also the date.
        for exact in (True, False):
            named = [q for q in questions if mentions(text, names[q.key], exact=exact)]
            if named:
                return named
        return []

    def sounds_new(self, interpretation: Interpretation) -> bool:
        """A confident need with a word for it, or a confident question for the bot."""
        if interpretation.confidence < self.knowledge.threshold("new_need"):
            return False
        needs = self.needs_in(interpretation)
        if any(is_evidenced(n, interpretation, self.knowledge) for n in needs):
            return True
        intent = interpretation.intent
        return intent == "check_status" or intent in self.knowledge.faq

    def weakly_read(self, interpretation: Interpretation) -> list[str]:
        """Needs the model reads with some confidence only, and the text names with the
        need's own words ("en we willen ook tafels lenen"): with a word, that is enough."""
        needs = [
            need
            for intent, confidence in interpretation.ranking[:WEAK_READINGS]
            if confidence >= self.knowledge.threshold("weak_need")
            for need in self.needs_of(intent)
        ]
        named = self.named_needs(interpretation.text)
        return [need for need in dict.fromkeys(needs) if need in named]

    def follows_up(
        self, pointer: str, text: str, interpretation: Interpretation, needs: list[str]
    ) -> bool:
        """Whether a message right after an out-of-scope answer is about the same topic: it
        uses the topic's words, or the model reads a request into a question that has no
        word for it ("en hoe vraag ik die aan?" is no permit request)."""
        if mentions(text, self.knowledge.cues.get(pointer, ())):
            return True
        evidenced = [n for n in needs if is_evidenced(n, interpretation, self.knowledge)]
        return bool(needs) and not evidenced and self.is_question(text)

    def needs_in(self, interpretation: Interpretation) -> list[str]:
        return self.needs_of(interpretation.intent)

    def needs_of(self, intent: str | None) -> list[str]:
        parts = (intent or "").split(MULTI_INTENT_SEPARATOR)
        return [n for n in map(self.knowledge.need_for_intent, parts) if n]


def activity_entities(text: str, knowledge: Knowledge) -> list[Entity]:
    """The activities the message names ("een bingo"), as entities for the questions about
    the purpose and the activity."""
    entry = mentions(text, knowledge.cues.get(ACTIVITY, ()))
    if entry is None:
        return []
    match = re.search(r"\w*" + re.escape(entry) + r"\w*", text, re.IGNORECASE)
    start, end = match.span() if match else (0, 0)
    value = text[start:end] if match else entry
    return [Entity(ACTIVITY, value, value, start, end)]

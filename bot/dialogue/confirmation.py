"""What a typed message at a confirmation means: yes, no, or neither.

Sending a request and handing over to a person are done with buttons; typing is allowed,
but only a clear yes or no counts. The model alone is not enough: text with no word it
knows (emoji, "?", "...", control characters, another script) comes back as affirm with
some confidence. So a typed message is a yes only when it is one of the yes words, or when
the model is sure it is affirm AND it contains a yes word and no no-word; the same for no.
Anything else re-shows the choice. The words are the lookup tables `yes_words`, `no_words`
and `edit_words` (rasa_project/data/nlu/cues.yml), which admins edit under Woordenlijsten.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import TYPE_CHECKING

from bot.nlu.cues import is_one_of, mentions

if TYPE_CHECKING:
    from bot.knowledge import Knowledge
    from bot.nlu.interpretation import Interpretation

YES_WORDS, NO_WORDS, EDIT_WORDS = "yes_words", "no_words", "edit_words"
# A letter of a Latin script or a digit: a message without one is not read at all.
_READABLE = re.compile(r"[0-9A-Za-z\u00c0-\u024f]")


class Answer(StrEnum):
    YES = "yes"
    NO = "no"
    EDIT = "edit"


def readable(text: str) -> bool:
    """Whether the message has anything in it to understand (a letter or a digit)."""
    return bool(_READABLE.search(text))


def answer(text: str, interpretation: Interpretation | None, knowledge: Knowledge) -> Answer | None:
    """Yes, no or edit, when the message clearly says so; otherwise None."""
    yes, no = knowledge.cues.get(YES_WORDS, ()), knowledge.cues.get(NO_WORDS, ())
    if is_one_of(text, knowledge.cues.get(EDIT_WORDS, ())):
        return Answer.EDIT
    if is_one_of(text, yes):
        return Answer.YES
    if is_one_of(text, no):
        return Answer.NO
    if interpretation is None or interpretation.confidence < knowledge.threshold("confirm"):
        return None
    said_yes, said_no = mentions(text, yes, exact=True), mentions(text, no, exact=True)
    if interpretation.intent == "affirm" and said_yes and not said_no:
        return Answer.YES
    if interpretation.intent == "deny" and said_no:
        return Answer.NO
    return None

"""The vocabularies admins keep: the lookup tables of the training data.

One table is one vocabulary, used in two places: as a feature for the model (after the next
training) and by the app at once (bot.nlu.needs settles the needs a message asks for with a
need's table; an out-of-scope question gets the pointer of the topic whose table it uses).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.knowledge import NEED_ORDER, POINTER_PREFIX, QUESTION_NAMES_PREFIX, store
from bot.knowledge.editing.common import EditError
from bot.storage.knowledge_tables import NluResource
from bot.storage.models import User

LOOKUP = "lookup"
MAX_WORDS = 2000
MAX_WORD_LENGTH = 80


@dataclass(frozen=True)
class Vocabulary:
    name: str
    words: list[str]
    purpose: str


# The tables the conversation reads words from (bot/dialogue/confirmation.py and context.py).
# Except the first three (which also help the model tell yes from no), they are the app's
# words only, not features for the model: a change works at once, without retraining.
MODEL_FEATURES = {"yes_words", "no_words", "edit_words"}
DIALOGUE_PURPOSES = {
    "yes_words": "Woorden die 'ja' zeggen bij een bevestiging (versturen, een medewerker).",
    "no_words": "Woorden die 'nee' zeggen bij een bevestiging.",
    "edit_words": "Woorden die bij de samenvatting het wijzigmenu openen.",
    "skip_words": "Een bericht van alleen zo'n woord slaat een vraag over die niet verplicht is.",
    "cancel_words": (
        "Met zo'n woord stopt een bewoner ook midden in een open vraag ('laat maar')."
    ),
    "question_words": (
        "Eerste woorden van een vraag: bij een open vraag is een bericht dat zo begint "
        "(of een vraagteken heeft) een tussenvraag, geen antwoord."
    ),
    "needed_words": (
        "'Nodig' na een behoefte met een ontkenning ervoor ('geen vergunning nodig'): die "
        "behoefte gaat eruit, ook in een lang bericht."
    ),
    "person_words": "Zo vragen bewoners om een mens: de bot biedt meteen een medewerker aan.",
    "person_nouns": (
        "Een persoon ('iemand', 'medewerker'): samen met een woord uit contact_verbs vlak "
        "erbij vraagt de bewoner om een mens."
    ),
    "contact_verbs": "Spreken, praten, bellen: zie person_nouns.",
    "already_said_words": (
        "'Dat zei ik al': nooit een antwoord; de bot verontschuldigt zich en vraagt opnieuw."
    ),
    "negation_words": (
        "Ontkenningen vlak vóór een woord van een behoefte ('niks lenen'): die behoefte gaat eruit."
    ),
    "not_needed_words": (
        "'Niet nodig' vlak na een woord van een behoefte: die behoefte gaat eruit."
    ),
    "only_words": "'Alleen' vóór een woord van een behoefte: alleen die behoefte blijft.",
    "correction_words": (
        "Woorden waarmee een bewoner een eerder antwoord verbetert ('sorry, de datum moet ...')."
    ),
    "activity": (
        "Wat bewoners organiseren: noemt het eerste bericht er een, dan zijn de vragen naar "
        "het doel en de activiteit al beantwoord."
    ),
}


def conversation_only(name: str) -> bool:
    """Whether a lookup table is the conversation's own vocabulary, left out of training."""
    return (name in DIALOGUE_PURPOSES and name not in MODEL_FEATURES) or name.startswith(
        QUESTION_NAMES_PREFIX
    )


def purpose(name: str) -> str:
    """What the table does, for the admin page."""
    at_once = ""
    if conversation_only(name):
        at_once = " Werkt meteen; het model gebruikt deze lijst niet."
    if name in DIALOGUE_PURPOSES:
        return DIALOGUE_PURPOSES[name] + at_once
    if name.startswith(QUESTION_NAMES_PREFIX):
        return (
            f"Hoe bewoners de vraag '{name.removeprefix(QUESTION_NAMES_PREFIX)}' noemen: een "
            "verbetering die deze woorden gebruikt, past dat antwoord aan." + at_once
        )
    if name in NEED_ORDER:
        return (
            f"Woorden voor de behoefte '{name}': noemt het model meerdere behoeften, dan blijft "
            "deze alleen staan als het bericht een van deze woorden gebruikt."
        )
    if name.startswith(POINTER_PREFIX):
        return (
            "Een onderwerp waarvoor bewoners elders terecht moeten: bij een vraag buiten "
            f"Wegwijs met een van deze woorden wijst de bot de weg met de tekst '{name}'."
        )
    return f"Een kenmerk voor het model bij de entiteit '{name}'."


def vocabularies(session: Session) -> list[Vocabulary]:
    rows = session.scalars(
        select(NluResource).where(NluResource.kind == LOOKUP).order_by(NluResource.name)
    )
    return [Vocabulary(row.name, list(row.examples), purpose(row.name)) for row in rows]


def _row(session: Session, name: str) -> NluResource:
    row = session.scalar(
        select(NluResource).where(NluResource.kind == LOOKUP, NluResource.name == name)
    )
    if row is None:
        raise EditError("Deze woordenlijst bestaat niet (meer).")
    return row


def vocabulary(session: Session, name: str) -> Vocabulary:
    row = _row(session, name)
    return Vocabulary(row.name, list(row.examples), purpose(row.name))


def edit_vocabulary(session: Session, actor: User, name: str, text: str) -> None:
    """Replace a table's words with the lines of `text` (blank lines and repeats dropped)."""
    row = _row(session, name)
    words = list(dict.fromkeys(line.strip() for line in text.splitlines() if line.strip()))
    if not words:
        raise EditError("Een woordenlijst heeft minstens één woord nodig.")
    if len(words) > MAX_WORDS:
        raise EditError(f"Een woordenlijst heeft hoogstens {MAX_WORDS} woorden.")
    if too_long := [word for word in words if len(word) > MAX_WORD_LENGTH]:
        raise EditError(
            f"'{too_long[0][:40]}…' is te lang: hoogstens {MAX_WORD_LENGTH} tekens per regel."
        )
    before = list(row.examples)
    if words == before:
        return
    row.examples = words
    session.flush()
    store.record(session, actor, "resource", f"{LOOKUP}:{name}", before, words)

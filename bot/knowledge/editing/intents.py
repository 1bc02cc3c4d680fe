"""Changes to the intents and their training examples, and the frequently asked questions
(an intent with its answer). The model learns them at the next training."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from bot.knowledge import LANGUAGES, intent_kind, store
from bot.knowledge.bundle import ENTITIES, example_key
from bot.knowledge.editing.common import MAX_LABEL_LENGTH, EditError, slug
from bot.knowledge.editing.texts import _translations, text_value
from bot.storage.knowledge_tables import BotText, Intent, TrainingExample
from bot.storage.models import User

MAX_EXAMPLE_LENGTH = 300
MIN_EXAMPLES = 2  # fewer, and Rasa never predicts the intent
FAQ_PREFIX = "faq_"
ENTITY_MARKUP = re.compile(r"\[([^\[\]]+)\]\(([^()\[\]]*)\)")


@dataclass(frozen=True)
class IntentSummary:
    """An intent as the overview shows it: its kind, its examples per language and how
    well the last cross-validation recognised it."""

    name: str
    kind: str
    examples: dict[str, int]
    cv_f1: float | None
    cv_measured_at: datetime | None

    @property
    def total(self) -> int:
        return sum(self.examples.values())


def intent_summaries(session: Session) -> list[IntentSummary]:
    counts: dict[str, dict[str, int]] = {}
    for intent, language, count in session.execute(
        select(TrainingExample.intent, TrainingExample.language, func.count()).group_by(
            TrainingExample.intent, TrainingExample.language
        )
    ):
        counts.setdefault(intent, {})[language] = count
    return [
        IntentSummary(
            intent.name,
            intent_kind(intent.name),
            counts.get(intent.name, {}),
            intent.cv_f1,
            intent.cv_measured_at,
        )
        for intent in session.scalars(select(Intent).order_by(Intent.name))
    ]


def example_value(example: TrainingExample) -> dict[str, str]:
    return {"intent": example.intent, "language": example.language, "text": example.text}


def known_entities(session: Session) -> set[str]:
    """The entities an example may mark: the model's own and those examples already use."""
    marked = session.scalars(
        select(TrainingExample.text).where(TrainingExample.text.contains("]("))
    )
    return {*ENTITIES, *(name for text in marked for _, name in ENTITY_MARKUP.findall(text))}


def _plain(text: str) -> str:
    """An example without its markup, as the model compares it: case and spaces ignored."""
    return " ".join(ENTITY_MARKUP.sub(r"\1", text).split()).casefold()


class _ExampleCheck:
    """Checks new or changed examples against the known entities and every example already
    there, in any intent (and against the others in the same list)."""

    def __init__(self, session: Session, ignore_id: int | None = None) -> None:
        self.entities = known_entities(session)
        rows = session.execute(
            select(TrainingExample.id, TrainingExample.intent, TrainingExample.text)
        )
        self.taken = {_plain(text): intent for id_, intent, text in rows if id_ != ignore_id}
        self.listed: set[str] = set()

    def __call__(self, text: str) -> str:
        """The example as it is stored (spaces folded), or EditError."""
        if "\n" in text.strip() or "\r" in text.strip():
            raise EditError("Een voorbeeld is één regel; zet elk voorbeeld op een eigen regel.")
        text = " ".join(text.split())
        if not text:
            raise EditError("Een voorbeeld mag niet leeg zijn.")
        if len(text) > MAX_EXAMPLE_LENGTH:
            raise EditError(
                f"Een voorbeeld mag hoogstens {MAX_EXAMPLE_LENGTH} tekens hebben; "
                f"dit heeft er {len(text)}."
            )
        rest = ENTITY_MARKUP.sub("", text)
        if "[" in rest or "]" in rest:
            raise EditError(
                f"De opmaak van een entiteit klopt niet in '{text}'. Schrijf [tekst](entiteit), "
                "bijvoorbeeld 'een zaal voor [40](people) mensen'."
            )
        unknown = sorted({name for _, name in ENTITY_MARKUP.findall(text)} - self.entities)
        if unknown:
            raise EditError(
                f"Onbekende entiteit {', '.join(repr(n) for n in unknown)} in '{text}'. "
                f"Bekend zijn: {', '.join(sorted(self.entities))}."
            )
        plain = _plain(text)
        if plain in self.taken:
            raise EditError(f"'{text}' staat al als voorbeeld bij {self.taken[plain]}.")
        if plain in self.listed:
            raise EditError(f"'{text}' staat twee keer in uw lijst.")
        self.listed.add(plain)
        return text


def _checked_lines(check: _ExampleCheck, texts: Sequence[str]) -> list[str]:
    """Every non-empty line checked; all problems at once, by line number."""
    numbered = [(number, text) for number, text in enumerate(texts, 1) if text.strip()]
    checked, problems = [], []
    for number, text in numbered:
        try:
            checked.append(check(text))
        except EditError as problem:
            problems.append(f"Regel {number}: {problem}" if len(numbered) > 1 else str(problem))
    if problems:
        raise EditError("\n".join(problems))
    return checked


def _intent(session: Session, name: str) -> Intent:
    intent = session.get(Intent, name)
    if intent is None:
        raise EditError(f"De intentie '{name}' bestaat niet (meer).")
    return intent


def _language(language: str) -> str:
    if language not in LANGUAGES:
        raise EditError("Kies Nederlands of Engels als taal.")
    return language


def count_examples(session: Session, intent: str) -> int:
    return session.scalar(select(func.count()).where(TrainingExample.intent == intent)) or 0


def _keep_enough(session: Session, intent: str) -> None:
    """Refuse taking an example away from an intent that would then have too few."""
    left = count_examples(session, intent) - 1
    if left < MIN_EXAMPLES:
        raise EditError(
            f"{intent} houdt dan {left} voorbeeld over; het model heeft er minstens "
            f"{MIN_EXAMPLES} nodig. Voeg eerst een ander voorbeeld toe."
        )


def _add_examples(
    session: Session, actor: User, intent: str, language: str, texts: Iterable[str]
) -> None:
    for text in texts:
        value = {"intent": intent, "language": language, "text": text}
        session.add(TrainingExample(source="admin", **value))
        store.record(session, actor, "example", example_key(value), None, value)
    session.flush()


def add_examples(
    session: Session, actor: User, intent: str, language: str, texts: Sequence[str]
) -> list[str]:
    """Add examples (one per line; empty lines skipped) to an intent; returns them as stored.
    The model learns them at the next training."""
    _intent(session, intent)
    _language(language)
    if not any(text.strip() for text in texts):
        raise EditError("Geef minstens één voorbeeldzin, één per regel.")
    checked = _checked_lines(_ExampleCheck(session), texts)
    _add_examples(session, actor, intent, language, checked)
    return checked


def _example(session: Session, example_id: int) -> TrainingExample:
    example = session.get(TrainingExample, example_id)
    if example is None:
        raise EditError("Dit voorbeeld bestaat niet meer.")
    return example


def edit_example(
    session: Session, actor: User, example_id: int, *, text: str, language: str, intent: str
) -> TrainingExample:
    """Change an example's text or language, or move it to another intent."""
    example = _example(session, example_id)
    _language(language)
    _intent(session, intent)
    checked = _ExampleCheck(session, ignore_id=example.id)(text)
    before = example_value(example)
    after = {"intent": intent, "language": language, "text": checked}
    if after == before:
        return example
    moved = intent != example.intent
    if moved:
        _keep_enough(session, example.intent)
    example.intent, example.language, example.text = intent, language, checked
    session.flush()
    store.record(
        session,
        actor,
        "example",
        example_key(after),
        before,
        after,
        action="moved" if moved else None,
    )
    return example


def delete_example(session: Session, actor: User, example_id: int) -> str:
    """Remove an example; returns its intent."""
    example = _example(session, example_id)
    _keep_enough(session, example.intent)
    before = example_value(example)
    session.delete(example)
    session.flush()
    store.record(session, actor, "example", example_key(before), before, None)
    return before["intent"]


def create_faq_intent(
    session: Session,
    actor: User,
    name: str,
    *,
    answer_nl: str,
    answer_en: str,
    examples: Sequence[str],
    language: str,
) -> str:
    """A new frequently asked question: its intent `faq_<slug>`, its answer and its first
    examples. Returns the intent's name. The bot answers it once the model is retrained."""
    base = slug(name).removeprefix(FAQ_PREFIX)
    if not base:
        raise EditError("Geef de vraag een naam van letters of cijfers, bijvoorbeeld 'parkeren'.")
    intent = FAQ_PREFIX + base
    if len(intent) > MAX_LABEL_LENGTH:
        raise EditError(
            f"De naam mag hoogstens {MAX_LABEL_LENGTH - len(FAQ_PREFIX)} tekens hebben."
        )
    if session.get(Intent, intent) or session.get(BotText, ("faq", intent)):
        raise EditError(f"Er is al een intentie {intent}; kies een andere naam.")
    answer = _translations(
        answer_nl, answer_en, what="het antwoord", formatted=False, before=None, key=intent
    )
    _language(language)
    if sum(1 for text in examples if text.strip()) < MIN_EXAMPLES:
        raise EditError(
            f"Geef minstens {MIN_EXAMPLES} voorbeeldzinnen, één per regel, zodat het model de "
            "vraag kan leren herkennen."
        )
    checked = _checked_lines(_ExampleCheck(session), examples)
    session.add(Intent(name=intent))
    session.add(BotText(group="faq", key=intent, nl=answer["nl"], en=answer.get("en")))
    session.flush()
    store.record(session, actor, "intent", intent, None, {"intent": intent})
    store.record(session, actor, "text", f"faq.{intent}", None, answer)
    _add_examples(session, actor, intent, language, checked)
    return intent


def delete_faq_intent(session: Session, actor: User, name: str) -> None:
    """Remove a FAQ intent with its examples, its answer and its button label."""
    intent = _intent(session, name)
    if intent_kind(name) != "faq":
        raise EditError(
            "Alleen veelgestelde vragen (faq_…) kunnen weg; de andere intenties horen bij wat "
            "de bot doet."
        )
    for example in session.scalars(
        select(TrainingExample).where(TrainingExample.intent == name).order_by(TrainingExample.id)
    ):
        before = example_value(example)
        session.delete(example)
        store.record(session, actor, "example", example_key(before), before, None)
    texts = session.scalars(
        select(BotText).where(
            or_(
                (BotText.group == "faq") & (BotText.key == name),
                (BotText.group == "text") & (BotText.key == f"label_{name}"),
            )
        )
    )
    for text in texts:
        store.record(session, actor, "text", f"{text.group}.{text.key}", text_value(text), None)
        session.delete(text)
    session.flush()
    session.delete(intent)
    session.flush()
    store.record(session, actor, "intent", name, {"intent": name}, None)

"""What the bot knows: the needs and their follow-up questions, and every sentence it says.

Admins edit this knowledge in the database (bot.knowledge.store); `knowledge/` seeds it. The
rest of the bot only sees the typed, checked objects below, built from plain data, so a
mistake fails when it is saved, not in the middle of a conversation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.knowledge.validation import rules_for

LANGUAGES = ("nl", "en")
ANSWER_TYPES = {"date", "time", "integer", "amount", "text", "choice", "email", "phone"}
NEED_ORDER = ("room", "tools", "budget", "permit")
# The confidence thresholds the conversation reads (knowledge/dialogue.yml holds their
# values and what each is for; admins change them under Drempels en antwoorden).
THRESHOLDS = ("side_question", "cancel", "confirm", "new_need", "weak_need", "deny", "guess_button")
# Conversation intents the dialogue acts on itself (bot.dialogue.steps): they get no reply
# from the intent_replies table.
ACTED_ON_INTENTS = ("check_status", "cancel", "out_of_scope")
# When a conversation intent's reply comes with the four needs as buttons (as the admin page
# says it).
NEED_BUTTONS = {"never": "nooit", "when_idle": "als er nog geen aanvraag loopt", "always": "altijd"}
# Text groups: where each kind of sentence is used. faq's keys are FAQ intent names.
TEXT_GROUPS = ("text", "faq", "status", "status_message", "error")
# A text "out_of_scope_<topic>" says where a question of that topic goes; the lookup table of
# the same name holds the topic's words.
POINTER_PREFIX = "out_of_scope_"
# A lookup table "question_<key>" holds the words residents use for that question
# ("begint" for start_time): a correction that uses them changes that answer.
QUESTION_NAMES_PREFIX = "question_"
# The answer key under which a request keeps how its activity recurs (no question asks it:
# it comes with a recurring date, "elke dinsdag vanaf januari").
RECURRENCE = "recurrence"


class KnowledgeError(ValueError):
    """The knowledge is inconsistent; the message says where."""


def intent_kind(name: str) -> str:
    """need (one request), combined (several at once), faq, or conversation (greet, ...)."""
    if "+" in name:
        return "combined"
    if name.startswith("request_"):
        return "need"
    if name.startswith("faq_"):
        return "faq"
    return "conversation"


@dataclass(frozen=True)
class Choice:
    value: str
    synonyms: tuple[str, ...] = ()


@dataclass(frozen=True)
class Question:
    key: str
    label: dict[str, str]
    prompt: dict[str, str]
    type: str
    optional: bool = False
    validation: dict[str, Any] = field(default_factory=dict)
    choices: tuple[Choice, ...] = ()
    from_entity: str | None = None
    entity_index: int = 0


@dataclass(frozen=True)
class Need:
    key: str
    intent: str
    label: dict[str, str]
    questions: tuple[Question, ...]


@dataclass(frozen=True)
class IntentReply:
    """What the bot answers to a conversation intent: a text, perhaps with the needs."""

    text: str  # a key of the text group "text"
    need_buttons: str = "never"  # one of NEED_BUTTONS


@dataclass(frozen=True)
class Knowledge:
    needs: dict[str, Need]
    contact: tuple[Question, ...]
    texts: dict[str, dict[str, str]]
    statuses: dict[str, dict[str, str]]
    status_messages: dict[str, dict[str, str]]
    errors: dict[str, dict[str, str]]
    faq: dict[str, dict[str, str]]
    # The training data's lookup tables by name: vocabularies the app checks messages
    # against (a need's table has the need's key; see bot.nlu.needs).
    cues: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # How sure the model must be before the conversation acts on it, by name (THRESHOLDS).
    thresholds: dict[str, float] = field(default_factory=dict)
    # What the bot answers to a conversation intent (greet, goodbye, ...), by intent.
    intent_replies: dict[str, IntentReply] = field(default_factory=dict)

    def threshold(self, name: str) -> float:
        return self.thresholds[name]

    def text(self, key: str, language: str, **values: Any) -> str:
        """A bot sentence in the resident's language, with placeholders filled in."""
        return _pick(self.texts[key], language).format(**values)

    def status_name(self, status: str, language: str) -> str:
        """The status as the resident sees it ("wacht op uw reactie")."""
        return _pick(self.statuses[status], language) if status in self.statuses else status

    def status_message(self, status: str, language: str) -> str:
        """The standard text an official starts from when telling the resident about it."""
        return (
            _pick(self.status_messages[status], language) if status in self.status_messages else ""
        )

    def error(self, key: str, language: str, **values: Any) -> str:
        return _pick(self.errors[key], language).format(**values)

    def need_for_intent(self, intent: str) -> str | None:
        return next((n.key for n in self.needs.values() if n.intent == intent), None)

    def evidence_entities(self) -> dict[str, str]:
        """Entities that only one need asks for (an item: tools), by entity name."""
        users: dict[str, set[str]] = {}
        for need in self.needs.values():
            for question in need.questions:
                if question.from_entity:
                    users.setdefault(question.from_entity, set()).add(need.key)
        return {entity: next(iter(needs)) for entity, needs in users.items() if len(needs) == 1}

    def questions_for(self, needs: list[str]) -> list[Question]:
        """The questions for these needs, each key once, in need order, contact last."""
        seen: set[str] = set()
        ordered: list[Question] = []
        for need in sorted((n for n in needs if n in self.needs), key=NEED_ORDER.index):
            for question in self.needs[need].questions:
                if question.key not in seen:
                    seen.add(question.key)
                    ordered.append(question)
        return ordered + list(self.contact)

    def same_fact(self, question: Question, needs: list[str]) -> list[Question]:
        """The other questions for these needs that ask the same fact: of the same type and
        answered first by the same entity (the number of people and of visitors). Dates are
        not: a loan's pick-up day is often not the day of the event."""
        if not question.from_entity or question.type == "date" or question.entity_index:
            return []
        return [
            other
            for other in self.questions_for(needs)
            if other.key != question.key
            and (other.from_entity, other.type, other.entity_index)
            == (question.from_entity, question.type, 0)
        ]

    def question(self, key: str) -> Question:
        for need in self.needs.values():
            for question in need.questions:
                if question.key == key:
                    return question
        for question in self.contact:
            if question.key == key:
                return question
        raise KeyError(key)

    def has_question(self, key: str) -> bool:
        try:
            self.question(key)
        except KeyError:
            return False
        return True


def _pick(translations: dict[str, str], language: str) -> str:
    return translations.get(language) or translations["nl"]


def translations(raw: Any, where: str) -> dict[str, str]:
    """{"nl": ..., "en": ...} with at least Dutch; other keys (such as usage) are left out."""
    if not isinstance(raw, Mapping) or not str(raw.get("nl") or "").strip():
        raise KnowledgeError(f"{where}: needs at least a Dutch ('nl') text")
    return {lang: str(raw[lang]) for lang in LANGUAGES if raw.get(lang)}


def question_from_dict(raw: Mapping[str, Any], where: str) -> Question:
    """A question from its plain form (as in knowledge/needs.yml and the questions table)."""
    key = raw.get("key")
    answer_type = raw.get("type")
    if not key or answer_type not in ANSWER_TYPES:
        raise KnowledgeError(
            f"{where}: every question needs a key and a type ({', '.join(sorted(ANSWER_TYPES))})"
        )
    validation = dict(raw.get("validation") or {})
    understood = {rule.key for rule in rules_for(answer_type)}
    unknown = set(validation) - understood
    if unknown:
        allowed = ", ".join(sorted(understood)) or "geen"
        raise KnowledgeError(
            f"{where}.{key}: unknown validation {sorted(unknown)} for type {answer_type} "
            f"(allowed: {allowed})"
        )
    choices = tuple(
        Choice(str(c["value"]), tuple(str(s) for s in c.get("synonyms", ())))
        for c in raw.get("choices") or ()
    )
    if answer_type == "choice" and not choices:
        raise KnowledgeError(f"{where}.{key}: a choice question needs choices")
    return Question(
        key=str(key),
        label=translations(raw.get("label"), f"{where}.{key}.label"),
        prompt=translations(raw.get("prompt"), f"{where}.{key}.prompt"),
        type=answer_type,
        optional=bool(raw.get("optional", False)),
        validation=validation,
        choices=choices,
        from_entity=raw.get("from_entity") or None,
        entity_index=int(raw.get("entity_index") or 0),
    )


def question_to_dict(question: Question) -> dict[str, Any]:
    """The plain form of a question, without defaults, as it is written to YAML."""
    plain: dict[str, Any] = {
        "key": question.key,
        "label": dict(question.label),
        "prompt": dict(question.prompt),
        "type": question.type,
    }
    if question.optional:
        plain["optional"] = True
    if question.from_entity:
        plain["from_entity"] = question.from_entity
    if question.entity_index:
        plain["entity_index"] = question.entity_index
    if question.validation:
        plain["validation"] = dict(question.validation)
    if question.choices:
        plain["choices"] = [
            {"value": c.value, **({"synonyms": list(c.synonyms)} if c.synonyms else {})}
            for c in question.choices
        ]
    return plain


def build_knowledge(
    needs: Mapping[str, Mapping[str, Any]],
    contact: Iterable[Mapping[str, Any]],
    texts: Mapping[str, Mapping[str, Mapping[str, Any]]],
    cues: Mapping[str, Iterable[str]] | None = None,
    thresholds: Mapping[str, float] | None = None,
    intent_replies: Mapping[str, Mapping[str, str]] | None = None,
) -> Knowledge:
    """Check and type the plain knowledge: needs (key -> intent, label, questions), the
    contact questions, the texts by group (TEXT_GROUPS), the vocabularies and the
    confidence thresholds (each of THRESHOLDS, from 0 to 1)."""
    thresholds = dict(thresholds or {})
    if missing := [name for name in THRESHOLDS if name not in thresholds]:
        raise KnowledgeError(f"thresholds: {', '.join(missing)} missing")
    if wrong := [name for name, value in thresholds.items() if not 0 <= value <= 1]:
        raise KnowledgeError(f"thresholds: {', '.join(wrong)} must be from 0 to 1")
    built = {
        key: Need(
            key=key,
            intent=str(raw["intent"]),
            label=translations(raw.get("label"), f"needs.{key}.label"),
            questions=tuple(question_from_dict(q, f"needs.{key}") for q in raw["questions"]),
        )
        for key, raw in needs.items()
    }
    unknown = set(built) - set(NEED_ORDER)
    if unknown:
        raise KnowledgeError(f"unknown needs {sorted(unknown)}; known are {NEED_ORDER}")
    contact_questions = tuple(question_from_dict(q, "contact") for q in contact)
    check_shared_keys([q for n in built.values() for q in n.questions] + list(contact_questions))

    def group(name: str) -> dict[str, dict[str, str]]:
        return {k: translations(v, f"{name}.{k}") for k, v in texts.get(name, {}).items()}

    return Knowledge(
        needs=built,
        contact=contact_questions,
        texts=group("text"),
        statuses=group("status"),
        status_messages=group("status_message"),
        errors=group("error"),
        faq=group("faq"),
        cues={name: tuple(words) for name, words in (cues or {}).items()},
        thresholds={name: float(value) for name, value in thresholds.items()},
        intent_replies=_intent_replies(intent_replies or {}, set(texts.get("text", {}))),
    )


def _intent_replies(
    raw: Mapping[str, Mapping[str, str]], texts: set[str]
) -> dict[str, IntentReply]:
    replies = {}
    for intent, reply in raw.items():
        reply = IntentReply(str(reply.get("text")), reply.get("need_buttons") or "never")
        if reply.text not in texts:
            raise KnowledgeError(f"intent_replies.{intent}: no text {reply.text!r}")
        if reply.need_buttons not in NEED_BUTTONS:
            raise KnowledgeError(
                f"intent_replies.{intent}: need_buttons is one of {', '.join(NEED_BUTTONS)}"
            )
        replies[intent] = reply
    return replies


def check_shared_keys(questions: list[Question]) -> None:
    """A key shared by several needs is asked once, so it must mean the same everywhere."""
    by_key: dict[str, Question] = {}
    for question in questions:
        first = by_key.setdefault(question.key, question)
        if (first.type, first.choices) != (question.type, question.choices):
            raise KnowledgeError(f"question {question.key!r} has different types across needs")

"""Loads the editable knowledge (needs, questions, departments, routing, texts) from YAML.

The YAML in `knowledge/` is the default an admin edits; the rest of the bot only sees the
typed objects below, so a mistake in the YAML fails loudly at start-up, not mid-conversation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

LANGUAGES = ("nl", "en")
ANSWER_TYPES = {"date", "time", "integer", "amount", "text", "choice", "email", "phone"}
NEED_ORDER = ("room", "tools", "budget", "permit")


class KnowledgeError(ValueError):
    """The knowledge files are inconsistent; the message says where."""


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
class DepartmentSeed:
    key: str
    name: str
    sla_days: int
    contact_email: str | None
    contact_phone: str | None


@dataclass(frozen=True)
class RuleSeed:
    name: str
    conditions: dict[str, Any]
    department: str


@dataclass(frozen=True)
class Knowledge:
    needs: dict[str, Need]
    contact: tuple[Question, ...]
    departments: tuple[DepartmentSeed, ...]
    rules: tuple[RuleSeed, ...]
    fallback_department: str
    texts: dict[str, dict[str, str]]
    statuses: dict[str, dict[str, str]]
    status_messages: dict[str, dict[str, str]]
    errors: dict[str, dict[str, str]]
    faq: dict[str, dict[str, str]]

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

    def questions_for(self, needs: list[str]) -> list[Question]:
        """The questions for these needs, each key once, in need order, contact last."""
        seen: set[str] = set()
        ordered: list[Question] = []
        for need in sorted(needs, key=NEED_ORDER.index):
            for question in self.needs[need].questions:
                if question.key not in seen:
                    seen.add(question.key)
                    ordered.append(question)
        return ordered + list(self.contact)

    def question(self, key: str) -> Question:
        for need in self.needs.values():
            for question in need.questions:
                if question.key == key:
                    return question
        for question in self.contact:
            if question.key == key:
                return question
        raise KeyError(key)


def _pick(translations: dict[str, str], language: str) -> str:
    return translations.get(language) or translations["nl"]


def _translations(raw: Any, where: str) -> dict[str, str]:
    if not isinstance(raw, dict) or "nl" not in raw:
        raise KnowledgeError(f"{where}: needs at least a Dutch ('nl') text")
    return {lang: str(raw[lang]) for lang in LANGUAGES if lang in raw}


def _question(raw: dict[str, Any], where: str) -> Question:
    key = raw.get("key")
    answer_type = raw.get("type")
    if not key or answer_type not in ANSWER_TYPES:
        raise KnowledgeError(f"{where}: every question needs a key and a type in {ANSWER_TYPES}")
    choices = tuple(
        Choice(str(c["value"]), tuple(str(s) for s in c.get("synonyms", ())))
        for c in raw.get("choices", ())
    )
    if answer_type == "choice" and not choices:
        raise KnowledgeError(f"{where}.{key}: a choice question needs choices")
    return Question(
        key=key,
        label=_translations(raw.get("label"), f"{where}.{key}.label"),
        prompt=_translations(raw.get("prompt"), f"{where}.{key}.prompt"),
        type=answer_type,
        optional=bool(raw.get("optional", False)),
        validation=dict(raw.get("validation") or {}),
        choices=choices,
        from_entity=raw.get("from_entity"),
        entity_index=int(raw.get("entity_index", 0)),
    )


def _read(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


def load_knowledge(directory: Path) -> Knowledge:
    """Read and cross-check all knowledge files in `directory`."""
    needs_raw = _read(directory / "needs.yml")
    needs = {
        key: Need(
            key=key,
            intent=raw["intent"],
            label=_translations(raw.get("label"), f"needs.{key}.label"),
            questions=tuple(_question(q, f"needs.{key}") for q in raw["questions"]),
        )
        for key, raw in needs_raw["needs"].items()
    }
    unknown = set(needs) - set(NEED_ORDER)
    if unknown:
        raise KnowledgeError(f"unknown needs {sorted(unknown)}; known are {NEED_ORDER}")
    contact = tuple(_question(q, "contact") for q in needs_raw["contact"])
    _check_shared_keys([q for n in needs.values() for q in n.questions] + list(contact))

    departments_raw = _read(directory / "departments.yml")["departments"]
    departments = tuple(
        DepartmentSeed(
            key=d["key"],
            name=d["name"],
            sla_days=int(d["sla_days"]),
            contact_email=(d.get("contact") or {}).get("email"),
            contact_phone=(d.get("contact") or {}).get("phone"),
        )
        for d in departments_raw
    )
    routing_raw = _read(directory / "routing.yml")
    rules = tuple(
        RuleSeed(name=r["name"], conditions=dict(r.get("when") or {}), department=r["department"])
        for r in routing_raw["rules"]
    )
    known_departments = {d.key for d in departments}
    fallback = routing_raw["fallback_department"]
    for target in [fallback, *(r.department for r in rules)]:
        if target not in known_departments:
            raise KnowledgeError(f"routing names unknown department {target!r}")

    texts_raw = _read(directory / "texts.yml")
    return Knowledge(
        needs=needs,
        contact=contact,
        departments=departments,
        rules=rules,
        fallback_department=fallback,
        texts={k: _translations(v, f"texts.{k}") for k, v in texts_raw["texts"].items()},
        statuses={k: _translations(v, f"statuses.{k}") for k, v in texts_raw["statuses"].items()},
        status_messages={
            k: _translations(v, f"status_messages.{k}")
            for k, v in texts_raw["status_messages"].items()
        },
        errors={k: _translations(v, f"errors.{k}") for k, v in texts_raw["errors"].items()},
        faq={
            k: _translations(v, f"faq.{k}") for k, v in _read(directory / "faq.yml")["faq"].items()
        },
    )


def _check_shared_keys(questions: list[Question]) -> None:
    """A key shared by several needs is asked once, so it must mean the same everywhere."""
    by_key: dict[str, Question] = {}
    for question in questions:
        first = by_key.setdefault(question.key, question)
        if (first.type, first.choices) != (question.type, question.choices):
            raise KnowledgeError(f"question {question.key!r} has different types across needs")

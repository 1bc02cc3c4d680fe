"""All editable knowledge as plain data, and its YAML form on disk.

The same YAML is read on first start (`knowledge/` and `rasa_project/`), written by
`wegwijs knowledge export DIR`, read by `wegwijs knowledge import DIR`, and rendered for a
training run. A Bundle compares item by item, so an import can say what it would change.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.knowledge import (
    ACTED_ON_INTENTS,
    LANGUAGES,
    TEXT_GROUPS,
    Knowledge,
    KnowledgeError,
    build_knowledge,
    intent_kind,
    question_from_dict,
    question_to_dict,
)

# The YAML file and top-level key of each text group in knowledge/.
TEXT_FILES = {
    "text": ("texts.yml", "texts"),
    "status": ("texts.yml", "statuses"),
    "status_message": ("texts.yml", "status_messages"),
    "error": ("texts.yml", "errors"),
    "faq": ("faq.yml", "faq"),
}
RESOURCE_KINDS = ("synonym", "lookup", "regex")
# Entities the model knows even before an example marks one.
ENTITIES = ("date", "time", "people", "amount", "quantity", "item", "neighbourhood", "location")
# Entities the app finds itself with a vocabulary of the same name, not the model: a question
# can take its answer from them (from_entity) like from the model's.
APP_ENTITIES = ("activity",)
ROUTE_ACTION = "action_wegwijs_route"


@dataclass(frozen=True)
class Example:
    intent: str
    language: str
    text: str  # with entities marked the Rasa way: [40](people)

    def value(self) -> dict[str, str]:
        """As it is compared and audited."""
        return {"intent": self.intent, "language": self.language, "text": self.text}


def example_key(value: dict[str, str]) -> str:
    """How an example is named in a change report and in the audit log."""
    return f"{value['intent']} [{value['language']}] {value['text']}"


@dataclass
class Bundle:
    """Everything an admin can change, keyed the way it is compared."""

    needs: dict[str, dict[str, Any]] = field(
        default_factory=dict
    )  # key -> intent, label, questions
    contact: list[dict[str, Any]] = field(default_factory=list)
    texts: dict[str, dict[str, dict[str, Any]]] = field(
        default_factory=dict
    )  # group -> key -> nl/en/usage
    departments: dict[str, dict[str, Any]] = field(default_factory=dict)
    fallback_department: str = ""
    rules: list[dict[str, Any]] = field(default_factory=list)  # name, when, department; in order
    intents: list[str] = field(default_factory=list)
    examples: list[Example] = field(default_factory=list)
    resources: dict[tuple[str, str], list[str]] = field(default_factory=dict)  # (kind, name)
    thresholds: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> value, usage
    intent_replies: dict[str, dict[str, str]] = field(default_factory=dict)  # -> text, buttons

    def knowledge(self) -> Knowledge:
        """The checked, typed knowledge the dialogue runs on."""
        lookups = {
            name: words for (kind, name), words in self.resources.items() if kind == "lookup"
        }
        thresholds = {name: t["value"] for name, t in self.thresholds.items()}
        return build_knowledge(
            self.needs, self.contact, self.texts, lookups, thresholds, self.intent_replies
        )

    def check(self) -> None:
        """Raise KnowledgeError for anything the bot or the model could not work with."""
        knowledge = self.knowledge()
        known = set(self.departments)
        if self.fallback_department not in known:
            raise KnowledgeError(
                f"routing: unknown fallback department {self.fallback_department!r}"
            )
        for rule in self.rules:
            if rule["department"] not in known:
                raise KnowledgeError(
                    f"routing rule {rule['name']!r} names unknown department {rule['department']!r}"
                )
        intents = set(self.intents)
        for need in knowledge.needs.values():
            if need.intent not in intents:
                raise KnowledgeError(f"need {need.key!r} uses unknown intent {need.intent!r}")
        for example in self.examples:
            if example.intent not in intents:
                raise KnowledgeError(
                    f"example {example.text!r} has unknown intent {example.intent!r}"
                )
            if example.language not in LANGUAGES:
                raise KnowledgeError(
                    f"example {example.text!r}: unknown language {example.language!r}"
                )
        for intent in intents:
            if intent_kind(intent) == "faq" and intent not in knowledge.faq:
                raise KnowledgeError(f"FAQ intent {intent!r} has no answer in faq.yml")
        if intents and (unknown := sorted(set(self.intent_replies) - intents)):
            raise KnowledgeError(f"intent_replies for unknown intents {unknown}")
        if acted_on := sorted(set(self.intent_replies) & set(ACTED_ON_INTENTS)):
            raise KnowledgeError(f"intent_replies: the dialogue acts on {acted_on} itself")


# -- reading ------------------------------------------------------------------------------


def _read(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise KnowledgeError(f"{path} is missing")
    try:
        with path.open(encoding="utf-8") as handle:
            data = yaml.safe_load(handle) or {}
    except yaml.YAMLError as error:
        raise KnowledgeError(f"{path}: not valid YAML ({error})") from error
    if not isinstance(data, dict):
        raise KnowledgeError(f"{path}: expected a mapping at the top")
    return data


def read_bundle(knowledge_dir: Path, rasa_dir: Path, guess_language: Any = None) -> Bundle:
    """Read `knowledge_dir` (needs, texts, departments, routing) and `rasa_dir` (domain.yml
    and data/). An example block without `metadata: {language: ..}` gets its language per
    sentence from `guess_language(text)`, or Dutch."""
    needs_raw = _read(knowledge_dir / "needs.yml")
    texts: dict[str, dict[str, dict[str, Any]]] = {}
    for group, (file, key) in TEXT_FILES.items():
        texts[group] = {
            k: {
                lang: str(v[lang])
                for lang in (*LANGUAGES, "usage")
                if isinstance(v, dict) and v.get(lang)
            }
            for k, v in (_read(knowledge_dir / file).get(key) or {}).items()
        }
    departments = {}
    for raw in _read(knowledge_dir / "departments.yml").get("departments") or []:
        contact = raw.get("contact") or {}
        departments[str(raw["key"])] = {
            "name": str(raw["name"]),
            "sla_days": int(raw["sla_days"]),
            "email": contact.get("email"),
            "phone": contact.get("phone"),
            "webhook_url": raw.get("webhook_url"),
        }
    routing = _read(knowledge_dir / "routing.yml")
    rules = [
        {
            "name": str(r["name"]),
            "when": dict(r.get("when") or {}),
            "department": str(r["department"]),
        }
        for r in routing.get("rules") or []
    ]
    dialogue = _read(knowledge_dir / "dialogue.yml")
    thresholds = {
        str(name): {"value": float(raw["value"]), "usage": str(raw.get("usage") or "")}
        for name, raw in (dialogue.get("thresholds") or {}).items()
    }
    intent_replies = {
        str(intent): {
            "text": str(raw["text"]),
            "need_buttons": str(raw.get("need_buttons") or "never"),  # as IntentReply
        }
        for intent, raw in (dialogue.get("intent_replies") or {}).items()
    }
    domain = _read(rasa_dir / "domain.yml")
    intents = [str(i) for i in domain.get("intents") or []]
    examples: list[Example] = []
    resources: dict[tuple[str, str], list[str]] = {}
    for path in sorted((rasa_dir / "data").glob("**/*.yml")):
        for item in _read(path).get("nlu") or []:
            lines = _example_lines(item.get("examples") or "")
            if "intent" in item:
                language = (item.get("metadata") or {}).get("language")
                for text in lines:
                    chosen = language or (guess_language(text) if guess_language else "nl")
                    examples.append(Example(str(item["intent"]), chosen, text))
            else:
                kind = next((k for k in RESOURCE_KINDS if k in item), None)
                if kind is None:
                    raise KnowledgeError(f"{path}: unknown NLU item {sorted(item)}")
                resources.setdefault((kind, str(item[kind])), []).extend(lines)
    return Bundle(
        needs={
            key: {
                "intent": str(raw["intent"]),
                "label": copy.deepcopy(raw.get("label")),
                "questions": [
                    _normal_question(q, f"needs.{key}") for q in raw.get("questions") or []
                ],
            }
            for key, raw in (needs_raw.get("needs") or {}).items()
        },
        contact=[_normal_question(q, "contact") for q in needs_raw.get("contact") or []],
        texts=texts,
        departments=departments,
        fallback_department=str(routing.get("fallback_department") or ""),
        rules=rules,
        intents=intents,
        examples=examples,
        resources=resources,
        thresholds=thresholds,
        intent_replies=intent_replies,
    )


def _normal_question(raw: Any, where: str) -> dict[str, Any]:
    """The question as it is stored, so a file and the database compare equal."""
    if not isinstance(raw, dict):
        raise KnowledgeError(f"{where}: a question must be a mapping")
    return question_to_dict(question_from_dict(raw, where))


def _example_lines(block: str) -> list[str]:
    return [
        line.strip()[2:].strip() for line in block.splitlines() if line.strip().startswith("- ")
    ]


# -- writing ------------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    """Block style, keys in the given order, multi-line strings as | blocks."""


def _string(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _string)


def _write(path: Path, data: dict[str, Any], header: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    body = yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100)
    path.write_text(f"# {header}\n{body}", encoding="utf-8")


def nlu_files(
    bundle: Bundle,
    *,
    every_language: bool = False,
    leave_out: Callable[[str], bool] = lambda name: False,
) -> Iterator[tuple[str, dict[str, Any]]]:
    """The training data as Rasa NLU files (name, content): one file per need or
    conversation intent, one for all FAQ intents, one for combined needs, one for entities.
    Dutch is the default; `every_language` names it too, so an export reads back exactly.
    Lookup tables for which `leave_out` is true are not written (the app's own words)."""
    files: dict[str, list[dict[str, Any]]] = {}
    for intent in sorted(bundle.intents):
        kind = intent_kind(intent)
        name = {"faq": "faq.yml", "combined": "multi_intent.yml"}.get(kind, f"{intent}.yml")
        for language in LANGUAGES:
            texts = [
                e.text for e in bundle.examples if e.intent == intent and e.language == language
            ]
            if texts:
                block: dict[str, Any] = {"intent": intent}
                if language != "nl" or every_language:
                    block["metadata"] = {"language": language}
                block["examples"] = "".join(f"- {text}\n" for text in texts)
                files.setdefault(name, []).append(block)
    for (kind, name), values in bundle.resources.items():
        if kind == "lookup" and leave_out(name):
            continue
        files.setdefault("entities.yml", []).append(
            {kind: name, "examples": "".join(f"- {value}\n" for value in values)}
        )
    for name in sorted(files):
        yield name, {"version": "3.1", "nlu": files[name]}


def domain(bundle: Bundle) -> dict[str, Any]:
    """An NLU-only domain: the intents, the entities, and one action so rules can use them."""
    marked = {entity for example in bundle.examples for entity in _marked_entities(example.text)}
    return {
        "version": "3.1",
        "intents": sorted(bundle.intents),
        "entities": [*ENTITIES, *sorted(marked - set(ENTITIES))],
        "actions": [ROUTE_ACTION],
    }


def validation_rules(bundle: Bundle) -> dict[str, Any]:
    """One rule per intent, only so `rasa data validate` sees every intent used."""
    return {
        "version": "3.1",
        "rules": [
            {"rule": f"route {intent}", "steps": [{"intent": intent}, {"action": ROUTE_ACTION}]}
            for intent in sorted(bundle.intents)
        ],
    }


def _marked_entities(text: str) -> list[str]:
    return re.findall(r"\]\(([a-z_]+)\)", text)


def write_bundle(bundle: Bundle, directory: Path) -> None:
    """`directory/knowledge/*.yml` and `directory/rasa_project/{domain.yml,data/}`: the
    layout `wegwijs knowledge import` reads back."""
    knowledge = directory / "knowledge"
    needs = {"needs": bundle.needs, "contact": bundle.contact}
    _write(
        knowledge / "needs.yml", needs, "What a resident can ask for, and the follow-up questions."
    )
    by_file: dict[str, dict[str, Any]] = {}
    for group in TEXT_GROUPS:
        file, key = TEXT_FILES[group]
        by_file.setdefault(file, {})[key] = bundle.texts.get(group, {})
    for file, content in by_file.items():
        _write(knowledge / file, content, "Every sentence the bot says, in Dutch and English.")
    departments = [
        {
            "key": key,
            "name": d["name"],
            "sla_days": d["sla_days"],
            "contact": {"email": d.get("email"), "phone": d.get("phone")},
            **({"webhook_url": d["webhook_url"]} if d.get("webhook_url") else {}),
        }
        for key, d in bundle.departments.items()
    ]
    _write(
        knowledge / "departments.yml",
        {"departments": departments},
        "Departments; sla_days in working days.",
    )
    routing = {"fallback_department": bundle.fallback_department, "rules": bundle.rules}
    _write(knowledge / "routing.yml", routing, "Ordered routing rules: the first match decides.")
    _write(
        knowledge / "dialogue.yml",
        {"thresholds": bundle.thresholds, "intent_replies": bundle.intent_replies},
        "The conversation's thresholds (0 to 1) and its answers to conversation intents.",
    )
    rasa = directory / "rasa_project"
    _write(rasa / "domain.yml", domain(bundle), "NLU-only domain, made from the intents.")
    for name, content in nlu_files(bundle, every_language=True):
        _write(rasa / "data" / "nlu" / name, content, "Training examples.")


# -- comparing ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One item that differs: subject (need, contact, text, department, routing, intent,
    example, resource, threshold, intent_reply), its key, and the value before and after
    (None: absent)."""

    subject: str
    key: str
    before: Any
    after: Any

    @property
    def action(self) -> str:
        if self.before is None:
            return "created"
        return "deleted" if self.after is None else "changed"


def _items(bundle: Bundle) -> dict[tuple[str, str], Any]:
    """Every comparable item of the bundle by (subject, key)."""
    items: dict[tuple[str, str], Any] = {}
    for key, need in bundle.needs.items():
        items["need", key] = need
    items["contact", "contact"] = bundle.contact
    for group, texts in bundle.texts.items():
        for key, text in texts.items():
            items["text", f"{group}.{key}"] = text
    for key, department in bundle.departments.items():
        items["department", key] = department
    items["routing", "routing"] = {
        "fallback_department": bundle.fallback_department,
        "rules": bundle.rules,
    }
    for intent in bundle.intents:
        items["intent", intent] = {"intent": intent}
    for example in bundle.examples:
        value = example.value()
        items["example", example_key(value)] = value
    for (kind, name), values in bundle.resources.items():
        items["resource", f"{kind}:{name}"] = values
    for name, threshold in bundle.thresholds.items():
        items["threshold", name] = threshold
    for intent, reply in bundle.intent_replies.items():
        items["intent_reply", intent] = reply
    return items


def changes(current: Bundle, incoming: Bundle) -> list[Change]:
    """What importing `incoming` over `current` would change, item by item."""
    before, after = _items(current), _items(incoming)
    return [
        Change(subject, key, before.get((subject, key)), after.get((subject, key)))
        for subject, key in [*before, *(k for k in after if k not in before)]
        if before.get((subject, key)) != after.get((subject, key))
    ]

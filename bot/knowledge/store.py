"""The knowledge in the database: the live source the bot and the web app read.

On first start the tables are filled from the YAML (`seed`). After that every change goes
through `apply` or the admin pages, and each writes an audit entry; the highest audit id is
the knowledge's version, so `KnowledgeSource` notices a change with one small query and the
bot picks it up on the next message, without a restart.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.knowledge import (
    NEED_ORDER,
    TEXT_GROUPS,
    Knowledge,
    KnowledgeError,
    question_from_dict,
    question_to_dict,
)
from bot.knowledge.bundle import Bundle, Change, Example, changes
from bot.routing.rules import check_conditions
from bot.storage.knowledge_tables import (
    AuditEntry,
    BotText,
    DialogueReply,
    DialogueThreshold,
    Intent,
    NeedDefinition,
    NluResource,
    QuestionDefinition,
    TrainingExample,
)
from bot.storage.models import Department, Request, RoutingRule, User, UserDepartment

# Who the audit log names for what an upgrade adds.
UPGRADE_ACTOR = "upgrade"


def record(
    session: Session,
    actor: User | str,
    subject: str,
    key: str,
    before: Any,
    after: Any,
    action: str | None = None,
) -> AuditEntry:
    """Write who changed what (and so bump the knowledge version). `action` defaults to
    created / changed / deleted from which side is None."""
    entry = AuditEntry(
        actor=actor if isinstance(actor, str) else actor.username,
        user_id=None if isinstance(actor, str) else actor.id,
        subject=subject,
        subject_key=key[:200],
        action=action or Change(subject, key, before, after).action,
        before=before,
        after=after,
    )
    session.add(entry)
    session.flush()
    return entry


def version(session: Session) -> int:
    return session.scalar(select(func.max(AuditEntry.id))) or 0


# -- database -> bundle -------------------------------------------------------------------


def _question(row: QuestionDefinition) -> dict[str, Any]:
    return question_to_dict(
        question_from_dict(
            {
                "key": row.key,
                "label": row.label,
                "prompt": row.prompt,
                "type": row.type,
                "optional": row.optional,
                "validation": row.validation,
                "choices": row.choices,
                "from_entity": row.from_entity,
                "entity_index": row.entity_index,
            },
            f"questions.{row.key}",
        )
    )


def read(session: Session, *, training_data: bool = True) -> Bundle:
    """The live knowledge as a bundle; without the training data it is quick enough to
    read on every change."""
    questions = list(
        session.scalars(select(QuestionDefinition).order_by(QuestionDefinition.position))
    )
    needs = {
        need.key: {
            "intent": need.intent,
            "label": dict(need.label),
            "questions": [_question(q) for q in questions if q.need_key == need.key],
        }
        for need in session.scalars(select(NeedDefinition).order_by(NeedDefinition.position))
    }
    texts: dict[str, dict[str, dict[str, Any]]] = {group: {} for group in TEXT_GROUPS}
    for row in session.scalars(select(BotText).order_by(BotText.group, BotText.key)):
        values = {"nl": row.nl, "en": row.en, "usage": row.usage}
        texts.setdefault(row.group, {})[row.key] = {k: v for k, v in values.items() if v}
    departments = list(session.scalars(select(Department).order_by(Department.key)))
    rules = session.scalars(select(RoutingRule).order_by(RoutingRule.position, RoutingRule.id))
    bundle = Bundle(
        needs=needs,
        contact=[_question(q) for q in questions if q.need_key is None],
        texts=texts,
        departments={d.key: department_plain(d) for d in departments},
        fallback_department=next((d.key for d in departments if d.is_fallback), ""),
        rules=[
            {"name": r.name, "when": dict(r.conditions), "department": r.department_key}
            for r in rules
        ],
    )
    if training_data:
        bundle.intents = list(session.scalars(select(Intent.name).order_by(Intent.name)))
        bundle.examples = [
            Example(e.intent, e.language, e.text)
            for e in session.scalars(
                select(TrainingExample).order_by(TrainingExample.intent, TrainingExample.id)
            )
        ]
    bundle.resources = {
        (r.kind, r.name): list(r.examples)
        for r in session.scalars(select(NluResource).order_by(NluResource.id))
    }
    bundle.thresholds = {
        t.name: {"value": t.value, "usage": t.usage}
        for t in session.scalars(select(DialogueThreshold).order_by(DialogueThreshold.name))
    }
    bundle.intent_replies = {
        r.intent: {"text": r.text_key, "need_buttons": r.need_buttons}
        for r in session.scalars(select(DialogueReply).order_by(DialogueReply.intent))
    }
    return bundle


def department_plain(department: Department) -> dict[str, Any]:
    """A department as the YAML and the import compare it (no secret, no fallback flag)."""
    return {
        "name": department.name,
        "sla_days": department.sla_days,
        "email": department.contact_email,
        "phone": department.contact_phone,
        "webhook_url": department.webhook_url,
    }


def load_knowledge(session: Session) -> Knowledge:
    return read(session, training_data=False).knowledge()


# -- bundle -> database -------------------------------------------------------------------


def needs_seed(session: Session) -> bool:
    """Whether some part of the knowledge is still empty (a first start), so reading the
    YAML is only paid for then."""
    return any(
        session.scalar(select(table).limit(1)) is None
        for table in (Department, NeedDefinition, Intent)
    )


def seed(session: Session, bundle: Bundle) -> None:
    """Fill what is still empty from the YAML defaults; on later starts nothing happens."""
    if session.scalar(select(Department).limit(1)) is None:
        bundle.check()
        _write_departments(session, bundle.departments, bundle.fallback_department)
        _write_rules(session, bundle.rules)
    if session.scalar(select(NeedDefinition).limit(1)) is None:
        _write_needs(session, bundle.needs)
        _write_contact(session, bundle.contact)
        for group, texts in bundle.texts.items():
            for key, text in texts.items():
                _write_text(session, group, key, text)
    if session.scalar(select(DialogueThreshold).limit(1)) is None:
        session.add_all(
            DialogueThreshold(name=name, **values) for name, values in bundle.thresholds.items()
        )
    if session.scalar(select(DialogueReply).limit(1)) is None:
        replies = bundle.intent_replies.items()
        session.add_all(_reply_row(intent, reply) for intent, reply in replies)
    if session.scalar(select(Intent).limit(1)) is None:
        session.add_all(Intent(name=name) for name in bundle.intents)
        session.flush()
        session.add_all(
            TrainingExample(intent=e.intent, language=e.language, text=e.text, source="seed")
            for e in bundle.examples
        )
        session.add_all(
            NluResource(kind=kind, name=name, examples=values)
            for (kind, name), values in bundle.resources.items()
        )
    session.flush()


def add_new_defaults(session: Session, bundle: Bundle) -> list[str]:
    """After an upgrade: add the bot texts and vocabularies the new version brings and the
    database lacks (the bot needs them); everything admins have is left as it is. Returns
    what was added, each also written to the audit log."""
    have_texts = set(session.execute(select(BotText.group, BotText.key)).tuples())
    have_resources = set(session.execute(select(NluResource.kind, NluResource.name)).tuples())
    added = []
    for group, texts in bundle.texts.items():
        for key, text in texts.items():
            if (group, key) not in have_texts:
                _write_text(session, group, key, text)
                record(session, UPGRADE_ACTOR, "text", f"{group}.{key}", None, text)
                added.append(f"{group}.{key}")
    for (kind, name), values in bundle.resources.items():
        if (kind, name) not in have_resources:
            session.add(NluResource(kind=kind, name=name, examples=values))
            record(session, UPGRADE_ACTOR, kind, name, None, values)
            added.append(f"{kind}.{name}")
    have_thresholds = set(session.scalars(select(DialogueThreshold.name)))
    for name, threshold in bundle.thresholds.items():
        if name not in have_thresholds:
            session.add(DialogueThreshold(name=name, **threshold))
            record(session, UPGRADE_ACTOR, "threshold", name, None, threshold)
            added.append(f"threshold.{name}")
    have_replies = set(session.scalars(select(DialogueReply.intent)))
    for intent, reply in bundle.intent_replies.items():
        if intent not in have_replies:
            session.add(_reply_row(intent, reply))
            record(session, UPGRADE_ACTOR, "intent_reply", intent, None, reply)
            added.append(f"intent_reply.{intent}")
    session.flush()
    return added


def changes_from(session: Session, incoming: Bundle) -> list[Change]:
    """What `apply` would change: the report an import shows before it is carried out."""
    return changes(read(session), incoming)


def apply(session: Session, incoming: Bundle, actor: User | str) -> list[Change]:
    """Make the database say what `incoming` says, item by item, each change audited.
    `incoming` is checked first, so a broken import changes nothing."""
    incoming.check()
    found = changes_from(session, incoming)
    subjects = {change.subject for change in found}
    if "department" in subjects or "routing" in subjects:
        _write_departments(session, incoming.departments, incoming.fallback_department)
        session.execute(delete(RoutingRule))
        _write_rules(session, incoming.rules)
    if "need" in subjects or "contact" in subjects:
        session.execute(delete(QuestionDefinition))
        session.execute(delete(NeedDefinition))
        _write_needs(session, incoming.needs)
        _write_contact(session, incoming.contact)
    for change in found:
        if change.subject == "text":
            group, key = change.key.split(".", 1)
            session.execute(delete(BotText).where(BotText.group == group, BotText.key == key))
            if change.after is not None:
                _write_text(session, group, key, change.after)
        elif change.subject == "intent" and change.after is not None:
            session.add(Intent(name=change.key))
        elif change.subject == "example":
            _apply_example(session, change)
        elif change.subject == "resource":
            kind, name = change.key.split(":", 1)
            session.execute(
                delete(NluResource).where(NluResource.kind == kind, NluResource.name == name)
            )
            if change.after is not None:
                session.add(NluResource(kind=kind, name=name, examples=change.after))
        elif change.subject == "threshold":
            session.execute(delete(DialogueThreshold).where(DialogueThreshold.name == change.key))
            if change.after is not None:
                session.add(DialogueThreshold(name=change.key, **change.after))
        elif change.subject == "intent_reply":
            session.execute(delete(DialogueReply).where(DialogueReply.intent == change.key))
            if change.after is not None:
                session.add(_reply_row(change.key, change.after))
    session.flush()
    for change in found:
        if change.subject == "intent" and change.after is None:
            session.execute(delete(Intent).where(Intent.name == change.key))
        record(session, actor, change.subject, change.key, change.before, change.after)
    return found


def _apply_example(session: Session, change: Change) -> None:
    value = change.before if change.after is None else change.after
    if change.after is None:
        session.execute(
            delete(TrainingExample).where(
                TrainingExample.intent == value["intent"],
                TrainingExample.language == value["language"],
                TrainingExample.text == value["text"],
            )
        )
    else:
        session.flush()  # its intent may be new in this import
        session.add(TrainingExample(source="import", **value))


def _write_departments(
    session: Session, departments: dict[str, dict[str, Any]], fallback: str
) -> None:
    """Add, update and remove departments. One that still has requests or members cannot
    go: the import is refused with the reason."""
    existing = {d.key: d for d in session.scalars(select(Department))}
    for key in set(existing) - set(departments):
        if session.scalar(select(Request.id).where(Request.department_key == key).limit(1)) or (
            session.scalar(select(UserDepartment).where(UserDepartment.department_key == key))
        ):
            raise KnowledgeError(
                f"department {key!r} still has requests or members, so it cannot be removed"
            )
        session.execute(delete(RoutingRule).where(RoutingRule.department_key == key))
        session.delete(existing.pop(key))
    for key, values in departments.items():
        department = existing.get(key) or Department(key=key)
        department.name = values["name"]
        department.sla_days = int(values["sla_days"])
        department.contact_email = values.get("email")
        department.contact_phone = values.get("phone")
        department.webhook_url = values.get("webhook_url")
        session.add(department)
    for department in session.scalars(select(Department)):
        department.is_fallback = department.key == fallback
    session.flush()


def _write_rules(session: Session, rules: Iterable[dict[str, Any]]) -> None:
    for position, rule in enumerate(rules):
        check_conditions(rule["when"])
        session.add(
            RoutingRule(
                position=position,
                name=rule["name"],
                conditions=dict(rule["when"]),
                department_key=rule["department"],
            )
        )


def _write_needs(session: Session, needs: dict[str, dict[str, Any]]) -> None:
    for key, need in needs.items():
        position = NEED_ORDER.index(key) if key in NEED_ORDER else len(NEED_ORDER)
        session.add(
            NeedDefinition(key=key, intent=need["intent"], label=need["label"], position=position)
        )
        session.flush()
        for index, question in enumerate(need["questions"]):
            session.add(question_row(key, index, question))


def _write_contact(session: Session, contact: list[dict[str, Any]]) -> None:
    for index, question in enumerate(contact):
        session.add(question_row(None, index, question))


def question_row(need: str | None, position: int, question: dict[str, Any]) -> QuestionDefinition:
    return QuestionDefinition(
        need_key=need,
        key=question["key"],
        position=position,
        label=question["label"],
        prompt=question["prompt"],
        type=question["type"],
        optional=bool(question.get("optional", False)),
        validation=dict(question.get("validation") or {}),
        choices=list(question.get("choices") or []),
        from_entity=question.get("from_entity"),
        entity_index=int(question.get("entity_index") or 0),
    )


def _reply_row(intent: str, reply: dict[str, str]) -> DialogueReply:
    return DialogueReply(intent=intent, text_key=reply["text"], need_buttons=reply["need_buttons"])


def _write_text(session: Session, group: str, key: str, text: dict[str, Any]) -> None:
    session.add(
        BotText(group=group, key=key, nl=text["nl"], en=text.get("en"), usage=text.get("usage"))
    )


# -- the live view ------------------------------------------------------------------------


class KnowledgeSource:
    """The current knowledge, read again only when an audit entry says it changed."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self._lock = threading.Lock()
        self._version = -1
        self._knowledge: Knowledge | None = None

    def current(self, session: Session | None = None) -> Knowledge:
        """The knowledge as of now; pass the caller's session to save a connection."""
        if session is None:
            with self.sessions() as own:
                return self.current(own)
        latest = version(session)
        with self._lock:
            if self._knowledge is None or latest != self._version:
                self._knowledge = load_knowledge(session)
                self._version = latest
            return self._knowledge

"""Admins' pages for looking, not changing: "Zin proberen" (what the bot makes of a
sentence, and where it would send it) and the audit log of every knowledge change."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from sqlalchemy import func, select

from bot.dialogue.presentation import format_value, need_label
from bot.dialogue.understanding import Understanding, understand
from bot.knowledge import NEED_ORDER, Knowledge
from bot.nlu.client import NLUUnavailable
from bot.nlu.interpretation import Interpretation
from bot.routing.rules import RequestFacts, RoutingDecision, route
from bot.storage import repositories as repo
from bot.storage.knowledge_tables import AuditEntry
from web.admin.common import page
from web.context import AppContext
from web.security import DB, AdminUser, Context

router = APIRouter(include_in_schema=False)

RASA_DOWN = (
    "Het taalmodel is nu niet bereikbaar, dus Wegwijs kan deze zin niet lezen. Probeer het "
    "over een minuut opnieuw. De bot helpt bewoners intussen verder door de vier behoeften "
    "als knoppen aan te bieden."
)
RANKING_SHOWN = 10


# -- "Zin proberen" -------------------------------------------------------------------------


@dataclass(frozen=True)
class Tried:
    """What the bot makes of one sentence, and where its request would go."""

    interpretation: Interpretation
    understood: Understanding
    slots: list[tuple[str, str]]  # (label, value as the bot shows it)
    needs: list[str]  # labels
    decision: RoutingDecision | None
    names: dict[str, str]  # department key -> name


@router.get("/admin/try", response_class=HTMLResponse)
async def try_page(
    request: Request, context: Context, user: AdminUser, text: str = ""
) -> HTMLResponse:
    """The model's ranking of intents with their confidence, the needs and details it found,
    and the routing they would lead to; the same NLU, patterns and slot filling as the bot."""
    text = text.strip()
    tried, problem = None, None
    limit = context.settings.max_message_length
    if len(text) > limit:
        problem = f"Die zin is langer dan {limit} tekens; de bot zou hem niet lezen."
    elif text:
        knowledge = await run_in_threadpool(lambda: context.knowledge)
        try:
            interpretation = await context.nlu.parse(text)
            understood = await understand(
                context.nlu, knowledge, text, context.today(), context.settings.default_language
            )
        except NLUUnavailable:
            problem = RASA_DOWN
        else:
            tried = await run_in_threadpool(_tried, context, knowledge, interpretation, understood)
    return page(
        request,
        "admin/try.html",
        user,
        text=text,
        tried=tried,
        problem=problem,
        shown=RANKING_SHOWN,
    )


def _tried(
    context: AppContext,
    knowledge: Knowledge,
    interpretation: Interpretation,
    understood: Understanding,
) -> Tried:
    decision = None
    with context.sessions() as session:
        names = {key: d.name for key, d in repo.departments(session).items()}
        if understood.needs:
            decision = route(
                repo.routing_rules(session),
                RequestFacts.from_answers(understood.needs, understood.slots),
                repo.fallback_department(session),
                NEED_ORDER,
            )
    slots = []
    for key, value in understood.slots.items():
        question = knowledge.question(key)
        label = question.label.get("nl") or key
        slots.append((label, format_value(question, value, "nl", knowledge)))
    return Tried(
        interpretation=interpretation,
        understood=understood,
        slots=slots,
        needs=[need_label(knowledge, need, "nl") for need in understood.needs],
        decision=decision,
        names=names,
    )


# -- the audit log --------------------------------------------------------------------------

PAGE_SIZE = 50
SUBJECTS = {
    "example": "Voorbeeldzin",
    "intent": "Intentie",
    "text": "Tekst",
    "question": "Vraag",
    "need": "Behoefte",
    "contact": "Contactvragen",
    "department": "Afdeling",
    "rule": "Routeringsregel",
    "routing": "Routering",
    "resource": "Entiteithulp",
    "model": "Model",
}
ACTIONS = {
    "created": "aangemaakt",
    "changed": "gewijzigd",
    "deleted": "verwijderd",
    "moved": "verplaatst",
    "activated": "in gebruik genomen",
    "rolled back": "teruggezet",
}


@dataclass(frozen=True)
class Field:
    """One changed field of a value: its name and its value before and after, as JSON."""

    name: str
    before: str
    after: str


@dataclass(frozen=True)
class AuditRow:
    entry: AuditEntry
    fields: list[Field]  # the changed fields, when before and after are both mappings
    before: str | None  # otherwise each whole, pretty-printed
    after: str | None


def _json(value: Any, indent: int | None = None) -> str:
    return "—" if value is None else json.dumps(value, ensure_ascii=False, indent=indent)


def audit_row(entry: AuditEntry) -> AuditRow:
    """A change the way an admin reads it: only the fields that changed, or else the value
    before and after in full."""
    before, after = entry.before, entry.after
    if isinstance(before, dict) and isinstance(after, dict):
        fields = [
            Field(name, _json(before.get(name)), _json(after.get(name)))
            for name in dict.fromkeys([*before, *after])
            if before.get(name) != after.get(name)
        ]
        return AuditRow(entry, fields, None, None)
    return AuditRow(
        entry,
        [],
        None if before is None else _json(before, 2),
        None if after is None else _json(after, 2),
    )


@router.get("/admin/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    session: DB,
    user: AdminUser,
    subject: str = "",
    page_number: Annotated[int, Query(alias="page")] = 1,
) -> HTMLResponse:
    """Every knowledge change, newest first, fifty at a time."""
    page_number = max(page_number, 1)
    query = select(AuditEntry)
    if subject:
        query = query.where(AuditEntry.subject == subject)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    entries = session.scalars(
        query.order_by(AuditEntry.id.desc()).offset((page_number - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    )
    subjects = session.scalars(select(AuditEntry.subject).distinct().order_by(AuditEntry.subject))
    pages = max(1, -(-total // PAGE_SIZE))
    return page(
        request,
        "admin/audit.html",
        user,
        rows=[audit_row(entry) for entry in entries],
        subject=subject,
        subjects=[(s, SUBJECTS.get(s, s)) for s in subjects],
        labels=SUBJECTS,
        actions=ACTIONS,
        total=total,
        page=page_number,
        pages=pages,
        previous_query=urlencode({"subject": subject, "page": page_number - 1}),
        next_query=urlencode({"subject": subject, "page": page_number + 1}),
    )

"""Admins' pages for the intents with their training examples, and the frequently asked
questions (an intent with its answer).

The checks and the writing live in bot.knowledge.editing.intents; these pages show and
collect. The model learns a change at the next training."""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.knowledge import LANGUAGES, intent_kind
from bot.knowledge.editing import intents as edit
from bot.storage.knowledge_tables import BotText, Intent, TrainingExample
from bot.storage.models import User
from web.admin.common import (
    LANGUAGE_LABELS,
    TextField,
    attempt,
    not_found,
    number,
    page,
    refused,
)
from web.security import DB, AdminUser, CsrfChecked

router = APIRouter(include_in_schema=False)

KINDS = (
    ("need", "Behoeften"),
    ("combined", "Meerdere behoeften tegelijk"),
    ("faq", "Veelgestelde vragen"),
    ("conversation", "Gesprek"),
)


@router.get("/admin/intents", response_class=HTMLResponse)
def intents_page(request: Request, session: DB, user: AdminUser) -> HTMLResponse:
    return _intents_page(request, session, user)


def _intents_page(
    request: Request,
    session: Session,
    user: User,
    *,
    form: dict[str, str] | None = None,
    problem: str | None = None,
) -> HTMLResponse:
    summaries = edit.intent_summaries(session)
    return page(
        request,
        "admin/intents.html",
        user,
        refusal=problem,
        groups=[(label, [s for s in summaries if s.kind == kind]) for kind, label in KINDS],
        languages=LANGUAGE_LABELS,
        number=number,
        form=form or {"language": "nl"},
    )


@router.get("/admin/intents/{name}", response_class=HTMLResponse)
def intent_page(
    request: Request, name: str, session: DB, user: AdminUser, edit_id: int | None = None
) -> HTMLResponse:
    """The examples of one intent per language; `edit_id` opens one of them for editing."""
    return _intent_page(request, session, user, name, editing=edit_id)


def _intent_page(
    request: Request,
    session: Session,
    user: User,
    name: str,
    *,
    editing: int | None = None,
    form: dict[str, str] | None = None,
    problem: str | None = None,
) -> HTMLResponse:
    if session.get(Intent, name) is None:
        raise not_found("Deze intentie")
    examples = list(
        session.scalars(
            select(TrainingExample)
            .where(TrainingExample.intent == name)
            .order_by(TrainingExample.id)
        )
    )
    kind = intent_kind(name)
    return page(
        request,
        "admin/intent.html",
        user,
        refusal=problem,
        name=name,
        kind=kind,
        by_language=[
            (language, LANGUAGE_LABELS[language], [e for e in examples if e.language == language])
            for language in LANGUAGES
        ],
        languages=LANGUAGE_LABELS,
        intents=list(session.scalars(select(Intent.name).order_by(Intent.name))),
        answer=session.get(BotText, ("faq", name)) if kind == "faq" else None,
        editing=editing,
        form=form or {"language": "nl"},
    )


@router.post("/admin/intents", dependencies=[CsrfChecked])
def create_faq(
    request: Request,
    session: DB,
    user: AdminUser,
    faq_name: TextField = "",
    answer_nl: TextField = "",
    answer_en: TextField = "",
    faq_examples: TextField = "",
    language: TextField = "nl",
) -> Response:
    def create() -> tuple[str, str]:
        intent = edit.create_faq_intent(
            session,
            user,
            faq_name,
            answer_nl=answer_nl,
            answer_en=answer_en,
            examples=faq_examples.splitlines(),
            language=language,
        )
        return (
            f"/admin/intents/{intent}",
            f"De veelgestelde vraag {intent} is aangemaakt met haar antwoord. Het model "
            "herkent haar na de volgende training.",
        )

    form = {
        "faq_name": faq_name,
        "answer_nl": answer_nl,
        "answer_en": answer_en,
        "faq_examples": faq_examples,
        "language": language,
    }
    return attempt(
        request,
        create,
        lambda problem: _intents_page(request, session, user, form=form, problem=problem),
    )


@router.post("/admin/intents/{name}/examples", dependencies=[CsrfChecked])
def add_examples(
    request: Request,
    name: str,
    session: DB,
    user: AdminUser,
    examples: TextField = "",
    language: TextField = "nl",
) -> Response:
    def add() -> tuple[str, str]:
        added = edit.add_examples(session, user, name, language, examples.splitlines())
        return (
            f"/admin/intents/{name}",
            f"{len(added)} voorbeeld(en) toegevoegd. Het model leert ze bij de volgende training.",
        )

    form = {"examples": examples, "language": language}
    return attempt(
        request,
        add,
        lambda problem: _intent_page(request, session, user, name, form=form, problem=problem),
    )


@router.post("/admin/intents/{name}/examples/{example_id}", dependencies=[CsrfChecked])
def edit_example(
    request: Request,
    name: str,
    example_id: int,
    session: DB,
    user: AdminUser,
    text: TextField = "",
    language: TextField = "nl",
    intent: TextField = "",
) -> Response:
    """Change the text or language of an example, or move it to another intent."""

    def save() -> tuple[str, str]:
        edit.edit_example(session, user, example_id, text=text, language=language, intent=intent)
        if intent != name:
            return f"/admin/intents/{name}", f"Het voorbeeld staat nu bij {intent}."
        return f"/admin/intents/{name}", "Het voorbeeld is opgeslagen."

    form = {"text": text, "language": language, "intent": intent}
    return attempt(
        request,
        save,
        lambda problem: _intent_page(
            request, session, user, name, editing=example_id, form=form, problem=problem
        ),
    )


@router.post("/admin/intents/{name}/examples/{example_id}/delete", dependencies=[CsrfChecked])
def delete_example(
    request: Request, name: str, example_id: int, session: DB, user: AdminUser
) -> Response:
    def delete() -> tuple[str, str]:
        edit.delete_example(session, user, example_id)
        return f"/admin/intents/{name}", "Het voorbeeld is verwijderd."

    return attempt(request, delete, partial(refused, request, f"/admin/intents/{name}"))


@router.post("/admin/intents/{name}/delete", dependencies=[CsrfChecked])
def delete_faq(request: Request, name: str, session: DB, user: AdminUser) -> Response:
    def delete() -> tuple[str, str]:
        edit.delete_faq_intent(session, user, name)
        return (
            "/admin/intents",
            f"De veelgestelde vraag {name} is verwijderd, met haar voorbeelden en antwoord.",
        )

    return attempt(request, delete, partial(refused, request, f"/admin/intents/{name}"))

"""Admins' pages for the vocabularies: the words of each need, of each out-of-scope topic
and of the entity features. A saved list is audited in bot.knowledge.vocabularies, so the app
uses it from the next message on; the model learns it at the next training."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from bot.knowledge import vocabularies as words
from bot.knowledge.editing.common import EditError
from bot.storage.models import User
from web.admin.common import attempt, not_found, page
from web.security import DB, AdminUser, CsrfChecked

router = APIRouter(include_in_schema=False)


@router.get("/admin/vocabularies", response_class=HTMLResponse)
def vocabularies_page(request: Request, session: DB, user: AdminUser) -> HTMLResponse:
    return page(request, "admin/vocabularies.html", user, vocabularies=words.vocabularies(session))


def _vocabulary_page(
    request: Request,
    user: User,
    vocabulary: words.Vocabulary,
    text: str | None = None,
    problem: str | None = None,
) -> HTMLResponse:
    return page(
        request,
        "admin/vocabulary.html",
        user,
        refusal=problem,
        vocabulary=vocabulary,
        text="\n".join(vocabulary.words) if text is None else text,
    )


@router.get("/admin/vocabularies/{vocabulary}", response_class=HTMLResponse)
def vocabulary_page(
    request: Request, vocabulary: str, session: DB, user: AdminUser
) -> HTMLResponse:
    try:
        return _vocabulary_page(request, user, words.vocabulary(session, vocabulary))
    except EditError:
        raise not_found("Deze woordenlijst") from None


@router.post("/admin/vocabularies/{vocabulary}", dependencies=[CsrfChecked])
def save_vocabulary(
    request: Request,
    vocabulary: str,
    session: DB,
    user: AdminUser,
    text: Annotated[str, Form()] = "",
) -> Response:
    try:
        found = words.vocabulary(session, vocabulary)
    except EditError:
        raise not_found("Deze woordenlijst") from None

    def save() -> tuple[str, str]:
        words.edit_vocabulary(session, user, vocabulary, text)
        return (
            f"/admin/vocabularies/{vocabulary}",
            "De woordenlijst is opgeslagen: de bot gebruikt hem vanaf het volgende bericht, "
            "het model na de volgende training.",
        )

    return attempt(request, save, partial(_vocabulary_page, request, user, found, text))

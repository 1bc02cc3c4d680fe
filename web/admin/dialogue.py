"""Admins' page for the conversation's own knowledge: the confidence thresholds (how sure the
model must be before the conversation acts on what it read) and what the bot answers to each
conversation intent (bot.knowledge.editing.dialogue)."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from bot.knowledge import ACTED_ON_INTENTS, NEED_BUTTONS, intent_kind
from bot.knowledge.editing import dialogue as edit
from bot.storage.knowledge_tables import BotText, Intent
from bot.storage.models import User
from web.admin.common import attempt, page
from web.security import DB, AdminUser, CsrfChecked

router = APIRouter(include_in_schema=False)
PAGE = "/admin/dialogue"


def _dialogue_page(
    request: Request,
    session: DB,
    user: User,
    typed: dict[str, str] | None = None,
    problem: str | None = None,
) -> HTMLResponse:
    thresholds = edit.thresholds(session)
    replies = {reply.intent: reply for reply in edit.intent_replies(session)}
    intents = [
        name
        for name in session.scalars(select(Intent.name).order_by(Intent.name))
        if intent_kind(name) == "conversation" and name not in ACTED_ON_INTENTS
    ]
    return page(
        request,
        "admin/dialogue.html",
        user,
        refusal=problem,
        thresholds=thresholds,
        typed={row.name: f"{row.value:g}" for row in thresholds} | (typed or {}),
        intents=intents,
        replies=replies,
        text_keys=session.scalars(
            select(BotText.key).where(BotText.group == "text").order_by(BotText.key)
        ).all(),
        need_buttons=NEED_BUTTONS,
    )


@router.get(PAGE, response_class=HTMLResponse)
def dialogue_page(request: Request, session: DB, user: AdminUser) -> HTMLResponse:
    return _dialogue_page(request, session, user)


@router.post(f"{PAGE}/thresholds", dependencies=[CsrfChecked])
async def save_thresholds(request: Request, session: DB, user: AdminUser) -> Response:
    form = await request.form()
    names = [row.name for row in edit.thresholds(session)]
    typed = {name: str(form[name]) for name in names if name in form}  # the rest stays

    def save() -> tuple[str, str]:
        edit.edit_thresholds(session, user, typed)
        return PAGE, "De drempels zijn opgeslagen: de bot gebruikt ze vanaf het volgende bericht."

    return attempt(request, save, partial(_dialogue_page, request, session, user, typed))


@router.post(PAGE + "/replies/{intent}", dependencies=[CsrfChecked])
def save_reply(
    request: Request,
    intent: str,
    session: DB,
    user: AdminUser,
    text_key: Annotated[str, Form()] = "",
    need_buttons: Annotated[str, Form()] = "never",
) -> Response:
    def save() -> tuple[str, str]:
        edit.set_intent_reply(session, user, intent, text_key, need_buttons)
        return PAGE, f"Het antwoord op {intent} is opgeslagen: de bot gebruikt het meteen."

    return attempt(request, save, partial(_dialogue_page, request, session, user, None))

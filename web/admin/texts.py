"""Admins' pages for every text the bot says: its texts, FAQ answers, status names and
messages, error messages, and the questions' prompts, with a preview as a resident reads it.

The checks and the writing live in bot.knowledge.editing.texts (a prompt in
bot.knowledge.editing.questions); a saved text is used from the bot's next message on."""

from __future__ import annotations

import json
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.knowledge import LANGUAGES, TEXT_GROUPS, Knowledge
from bot.knowledge.editing import texts as edit
from bot.knowledge.editing.questions import CONTACT, edit_prompt
from bot.storage.knowledge_tables import BotText, QuestionDefinition
from bot.storage.models import User
from web.admin.common import LANGUAGE_LABELS, TextField, attempt, not_found, page
from web.security import DB, AdminUser, Context, CsrfChecked

router = APIRouter(include_in_schema=False)

QUESTION = "question"  # the texts page's group for the question prompts
GROUPS = {
    "text": "Tekst van de bot",
    "faq": "Antwoord op veelgestelde vraag",
    "status": "Naam van een status",
    "status_message": "Standaardtekst bij status",
    "error": "Foutmelding",
    QUESTION: "Vraag",
}
USAGE = {
    "status": "Naam van de status in /status en in berichten",
    "status_message": "Standaardtekst bij statuswijziging",
    "error": "Foutmelding bij een antwoord dat niet klopt",
}


@dataclass(frozen=True)
class TextItem:
    """One thing the bot says, wherever it is kept."""

    group: str
    key: str
    nl: str
    en: str
    usage: str

    @property
    def formatted(self) -> bool:
        return self.group in edit.FORMATTED_GROUPS

    @property
    def url(self) -> str:
        return f"/admin/texts/{self.group}/{self.key}"

    @property
    def placeholders(self) -> list[str]:
        if not self.formatted:
            return []
        return sorted(edit.placeholders(self.nl) | edit.placeholders(self.en))

    def preview(self, language: str, nl: str | None = None, en: str | None = None) -> str:
        """What a resident sees in Telegram (typed text if given). Without an English text
        the bot says the Dutch one."""
        texts = {"nl": self.nl if nl is None else nl, "en": self.en if en is None else en}
        text = texts[language] if texts[language].strip() else texts["nl"]
        return edit.fill_in(text, language, self.formatted, self.key)


def text_items(session: Session, knowledge: Knowledge) -> list[TextItem]:
    """Every text the bot says: the texts of every group, then the questions' prompts."""
    order = {group: index for index, group in enumerate(TEXT_GROUPS)}
    rows = sorted(session.scalars(select(BotText)), key=lambda r: (order.get(r.group, 99), r.key))
    items = [
        TextItem(row.group, row.key, row.nl, row.en or "", row.usage or _usage(row.group, row.key))
        for row in rows
    ]
    needs = {key: (need.label.get("nl") or key) for key, need in knowledge.needs.items()}
    for question in session.scalars(
        select(QuestionDefinition).order_by(
            QuestionDefinition.need_key, QuestionDefinition.position
        )
    ):
        need = question.need_key or CONTACT
        label = question.label.get("nl") or question.key
        where = (
            f"bij behoefte {needs.get(need, need)}" if need != CONTACT else "bij de contactgegevens"
        )
        items.append(
            TextItem(
                QUESTION,
                f"{need}.{question.key}",
                question.prompt.get("nl", ""),
                question.prompt.get("en", ""),
                f"Vraag '{label}' {where}",
            )
        )
    return items


def _usage(group: str, key: str) -> str:
    if group == "faq":
        return f"Antwoord op de veelgestelde vraag {key}"
    return USAGE.get(group, "Tekst van de bot")


@router.get("/admin/texts", response_class=HTMLResponse)
def texts_page(
    request: Request,
    session: DB,
    context: Context,
    user: AdminUser,
    group: str = "",
    q: str = "",
) -> HTMLResponse:
    words = q.strip().casefold()
    items = [
        item
        for item in text_items(session, context.knowledge)
        if (not group or item.group == group)
        and (not words or words in f"{item.key} {item.nl} {item.en} {item.usage}".casefold())
    ]
    return page(
        request,
        "admin/texts.html",
        user,
        items=items,
        groups=GROUPS,
        group=group if group in GROUPS else "",
        q=q.strip(),
    )


def _text_item(session: Session, knowledge: Knowledge, group: str, key: str) -> TextItem:
    item = next(
        (i for i in text_items(session, knowledge) if (i.group, i.key) == (group, key)), None
    )
    if item is None:
        raise not_found("Deze tekst")
    return item


@router.get("/admin/texts/{group}/{key}", response_class=HTMLResponse)
def text_page(
    request: Request, group: str, key: str, session: DB, context: Context, user: AdminUser
) -> HTMLResponse:
    item = _text_item(session, context.knowledge, group, key)
    return _text_page(request, user, item)


def _text_page(
    request: Request,
    user: User,
    item: TextItem,
    *,
    nl: str | None = None,
    en: str | None = None,
    problem: str | None = None,
) -> HTMLResponse:
    examples = {language: edit.example_values(language, item.key) for language in LANGUAGES}
    return page(
        request,
        "admin/text.html",
        user,
        refusal=problem,
        item=item,
        group_label=GROUPS[item.group],
        nl=item.nl if nl is None else nl,
        en=item.en if en is None else en,
        previews={language: item.preview(language, nl, en) for language in LANGUAGES},
        examples=json.dumps(dict(examples), ensure_ascii=False),
        languages=LANGUAGE_LABELS,
    )


@router.post("/admin/texts/{group}/{key}", dependencies=[CsrfChecked])
def save_text(
    request: Request,
    group: str,
    key: str,
    session: DB,
    context: Context,
    user: AdminUser,
    nl: TextField = "",
    en: TextField = "",
) -> Response:
    item = _text_item(session, context.knowledge, group, key)

    def save() -> tuple[str, str]:
        if group == QUESTION:
            need, _, question = key.partition(".")
            edit_prompt(session, user, need, question, nl=nl, en=en)
        else:
            edit.edit_text(session, user, group, key, nl=nl, en=en)
        return item.url, "De tekst is opgeslagen; de bot gebruikt hem vanaf het volgende bericht."

    return attempt(
        request,
        save,
        lambda problem: _text_page(request, user, item, nl=nl, en=en, problem=problem),
    )

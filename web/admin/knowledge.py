"""Admins' pages for what the bot knows: the intents with their training examples, every
text the bot says, and the needs with their follow-up questions.

The checks and the writing live in bot.knowledge.editing; these pages show and collect. A
saved change is audited there, which makes the bot use it from its next message on."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.knowledge import (
    ANSWER_TYPES,
    LANGUAGES,
    NEED_ORDER,
    TEXT_GROUPS,
    VALIDATION_KEYS,
    Knowledge,
    intent_kind,
    store,
)
from bot.knowledge import editing as edit
from bot.knowledge.bundle import APP_ENTITIES, ENTITIES, Bundle
from bot.knowledge.editing import CONTACT, EditError, QuestionForm
from bot.storage import repositories as repo
from bot.storage.models import BotText, Intent, QuestionDefinition, TrainingExample, User
from web.admin.common import done, not_found, number, page, refused
from web.security import DB, AdminUser, Context, CsrfChecked

router = APIRouter(include_in_schema=False)

LANGUAGE_LABELS = {"nl": "Nederlands", "en": "Engels"}
TextField = Annotated[str, Form()]


# -- intents and their examples -------------------------------------------------------------

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
        422 if problem else 200,
        groups=[(label, [s for s in summaries if s.kind == kind]) for kind, label in KINDS],
        languages=LANGUAGE_LABELS,
        number=number,
        form=form or {"language": "nl"},
        problems=[problem] if problem else [],
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
        422 if problem else 200,
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
        problems=[problem] if problem else [],
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
    try:
        intent = edit.create_faq_intent(
            session,
            user,
            faq_name,
            answer_nl=answer_nl,
            answer_en=answer_en,
            examples=faq_examples.splitlines(),
            language=language,
        )
    except EditError as error:
        form = {
            "faq_name": faq_name,
            "answer_nl": answer_nl,
            "answer_en": answer_en,
            "faq_examples": faq_examples,
            "language": language,
        }
        return _intents_page(request, session, user, form=form, problem=str(error))
    return done(
        request,
        f"/admin/intents/{intent}",
        f"De veelgestelde vraag {intent} is aangemaakt met haar antwoord. Het model herkent "
        "haar na de volgende training.",
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
    try:
        added = edit.add_examples(session, user, name, language, examples.splitlines())
    except EditError as error:
        form = {"examples": examples, "language": language}
        return _intent_page(request, session, user, name, form=form, problem=str(error))
    return done(
        request,
        f"/admin/intents/{name}",
        f"{len(added)} voorbeeld(en) toegevoegd. Het model leert ze bij de volgende training.",
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
    try:
        edit.edit_example(session, user, example_id, text=text, language=language, intent=intent)
    except EditError as error:
        form = {"text": text, "language": language, "intent": intent}
        return _intent_page(
            request, session, user, name, editing=example_id, form=form, problem=str(error)
        )
    if intent != name:
        return done(request, f"/admin/intents/{name}", f"Het voorbeeld staat nu bij {intent}.")
    return done(request, f"/admin/intents/{name}", "Het voorbeeld is opgeslagen.")


@router.post("/admin/intents/{name}/examples/{example_id}/delete", dependencies=[CsrfChecked])
def delete_example(
    request: Request, name: str, example_id: int, session: DB, user: AdminUser
) -> Response:
    try:
        edit.delete_example(session, user, example_id)
    except EditError as error:
        return refused(request, f"/admin/intents/{name}", str(error))
    return done(request, f"/admin/intents/{name}", "Het voorbeeld is verwijderd.")


@router.post("/admin/intents/{name}/delete", dependencies=[CsrfChecked])
def delete_faq(request: Request, name: str, session: DB, user: AdminUser) -> Response:
    try:
        edit.delete_faq_intent(session, user, name)
    except EditError as error:
        return refused(request, f"/admin/intents/{name}", str(error))
    return done(
        request,
        "/admin/intents",
        f"De veelgestelde vraag {name} is verwijderd, met haar voorbeelden en antwoord.",
    )


# -- texts ----------------------------------------------------------------------------------

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
        422 if problem else 200,
        item=item,
        group_label=GROUPS[item.group],
        nl=item.nl if nl is None else nl,
        en=item.en if en is None else en,
        previews={language: item.preview(language, nl, en) for language in LANGUAGES},
        examples=json.dumps(dict(examples), ensure_ascii=False),
        languages=LANGUAGE_LABELS,
        problems=[problem] if problem else [],
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
    try:
        if group == QUESTION:
            need, _, question = key.partition(".")
            edit.edit_prompt(session, user, need, question, nl=nl, en=en)
        else:
            edit.edit_text(session, user, group, key, nl=nl, en=en)
    except EditError as error:
        return _text_page(request, user, item, nl=nl, en=en, problem=str(error))
    return done(
        request, item.url, "De tekst is opgeslagen; de bot gebruikt hem vanaf het volgende bericht."
    )


# -- needs and their questions --------------------------------------------------------------

TYPES = {
    "date": "datum",
    "time": "tijd",
    "integer": "aantal",
    "amount": "bedrag",
    "text": "tekst",
    "choice": "keuze",
    "email": "e-mailadres",
    "phone": "telefoonnummer",
}


async def validation_fields(request: Request) -> dict[str, str]:
    """The question form's validation inputs (v_<type>_<key>), whichever it sent."""
    form = await request.form()
    return {key: str(value) for key, value in form.items() if key.startswith("v_")}


ValidationFields = Annotated[dict[str, str], Depends(validation_fields)]


@router.get("/admin/needs", response_class=HTMLResponse)
def needs_page(request: Request, session: DB, user: AdminUser) -> HTMLResponse:
    bundle = store.read(session, training_data=False)
    sections = [
        (key, bundle.needs[key]["label"], bundle.needs[key]["questions"])
        for key in NEED_ORDER
        if key in bundle.needs
    ]
    return page(
        request,
        "admin/needs.html",
        user,
        sections=sections,
        contact=bundle.contact,
        types=TYPES,
        describe=_describe_validation,
    )


def _describe_validation(validation: dict[str, Any]) -> str:
    parts = []
    for key, value in validation.items():
        if isinstance(value, dict):
            value = f"{value['days']} dagen na {value['key']}"
        elif value is True:
            value = "ja"
        parts.append(f"{edit.VALIDATION_LABELS.get(key, key).lower()}: {value}")
    return "; ".join(parts)


@router.post("/admin/needs/{need}/label", dependencies=[CsrfChecked])
def save_need_label(
    request: Request,
    need: str,
    session: DB,
    user: AdminUser,
    label_nl: TextField = "",
    label_en: TextField = "",
) -> Response:
    try:
        edit.edit_need_label(session, user, need, nl=label_nl, en=label_en)
    except EditError as error:
        return refused(request, "/admin/needs", str(error))
    return done(request, "/admin/needs", "De naam van de behoefte is opgeslagen.")


@router.get("/admin/needs/{need}/add", response_class=HTMLResponse)
def new_question_page(request: Request, need: str, session: DB, user: AdminUser) -> HTMLResponse:
    return _question_page(request, session, user, need, None, {"answer_type": "text"})


@router.get("/admin/needs/{need}/questions/{question}", response_class=HTMLResponse)
def question_page(
    request: Request, need: str, question: str, session: DB, user: AdminUser
) -> HTMLResponse:
    bundle = store.read(session, training_data=False)
    plain = _find_question(bundle, need, question)
    return _question_page(request, session, user, need, question, _form_values(plain))


def _find_question(bundle: Bundle, need: str, key: str) -> dict[str, Any]:
    questions = bundle.contact if need == CONTACT else bundle.needs.get(need, {}).get("questions")
    found = next((q for q in questions or [] if q["key"] == key), None)
    if found is None:
        raise not_found("Deze vraag")
    return found


def _form_values(plain: dict[str, Any]) -> dict[str, Any]:
    """A question as the form's fields hold it."""
    values: dict[str, Any] = {
        "label_nl": plain["label"].get("nl", ""),
        "label_en": plain["label"].get("en", ""),
        "prompt_nl": plain["prompt"].get("nl", ""),
        "prompt_en": plain["prompt"].get("en", ""),
        "answer_type": plain["type"],
        "optional": plain.get("optional", False),
        "from_entity": plain.get("from_entity") or "",
        "choices": "\n".join(
            c["value"] + (": " + ", ".join(c["synonyms"]) if c.get("synonyms") else "")
            for c in plain.get("choices") or []
        ),
    }
    for key, value in (plain.get("validation") or {}).items():
        field = f"v_{plain['type']}_{key}"
        if isinstance(value, dict):
            values[f"{field}_key"], values[f"{field}_days"] = value["key"], str(value["days"])
        elif value is True:
            values[field] = "on"
        else:
            values[field] = str(value)
    return values


def _question_page(
    request: Request,
    session: Session,
    user: User,
    need: str,
    key: str | None,
    values: dict[str, Any],
    problem: str | None = None,
) -> HTMLResponse:
    bundle = store.read(session, training_data=False)
    if need != CONTACT and need not in bundle.needs:
        raise not_found("Deze behoefte")
    own = bundle.contact if need == CONTACT else bundle.needs[need]["questions"]
    others = [q["key"] for q in [*own, *bundle.contact] if q["key"] != key]
    return page(
        request,
        "admin/question.html",
        user,
        422 if problem else 200,
        need=need,
        need_label=("contactgegevens" if need == CONTACT else bundle.needs[need]["label"]["nl"]),
        key=key,
        values=values,
        types=TYPES,
        type_order=sorted(ANSWER_TYPES, key=list(TYPES).index),
        validation_keys={
            t: [k for k in edit.VALIDATION_INPUTS if k in VALIDATION_KEYS[t]] for t in ANSWER_TYPES
        },
        inputs=edit.VALIDATION_INPUTS,
        labels=edit.VALIDATION_LABELS,
        other_questions=list(dict.fromkeys(others)),
        entities=(*ENTITIES, *APP_ENTITIES),
        unlisted=_unlisted(session, key, values),
        problems=[problem] if problem else [],
    )


def _unlisted(session: Session, key: str | None, values: dict[str, Any]) -> list[tuple[str, int]]:
    """What residents typed for an open choice question that is not one of its choices."""
    if not key or values.get("answer_type") != "choice":
        return []
    listed = [line.partition(":")[0].strip() for line in values.get("choices", "").splitlines()]
    return repo.unlisted_answers(session, key, listed)


class QuestionFields(BaseModel):
    """The question form's fields, the same for adding and changing a question."""

    label_nl: str = ""
    label_en: str = ""
    prompt_nl: str = ""
    prompt_en: str = ""
    answer_type: str = ""
    optional: str = ""
    from_entity: str = ""
    choices: str = ""

    def values(self, checks: dict[str, str]) -> dict[str, Any]:
        """What the form shows again after a refusal: exactly what was typed."""
        return {**self.model_dump(), "optional": bool(self.optional), **checks}

    def form(self, checks: dict[str, str]) -> QuestionForm:
        prefix = f"v_{self.answer_type}_"
        return QuestionForm(
            label_nl=self.label_nl,
            label_en=self.label_en,
            prompt_nl=self.prompt_nl,
            prompt_en=self.prompt_en,
            answer_type=self.answer_type,
            optional=bool(self.optional),
            from_entity=self.from_entity,
            choices=self.choices,
            validation={
                k.removeprefix(prefix): v for k, v in checks.items() if k.startswith(prefix)
            },
        )


QuestionFormFields = Annotated[QuestionFields, Form()]


@router.post("/admin/needs/{need}/add", dependencies=[CsrfChecked])
def add_question(
    request: Request,
    need: str,
    session: DB,
    user: AdminUser,
    form: QuestionFormFields,
    checks: ValidationFields,
    question_key: TextField = "",
) -> Response:
    key = question_key.strip()
    try:
        plain = edit.question_from_form(key, form.form(checks))
        edit.save_question(session, user, need, None, plain)
    except EditError as error:
        values = {**form.values(checks), "question_key": question_key}
        return _question_page(request, session, user, need, None, values, str(error))
    return done(request, "/admin/needs", f"De vraag '{key}' is toegevoegd.")


@router.post("/admin/needs/{need}/questions/{question}", dependencies=[CsrfChecked])
def save_question(
    request: Request,
    need: str,
    question: str,
    session: DB,
    user: AdminUser,
    form: QuestionFormFields,
    checks: ValidationFields,
) -> Response:
    try:
        # The entity index (which of several dates or times) stays with the question.
        index = edit.question_row(session, need, question).entity_index
        plain = edit.question_from_form(question, form.form(checks), index)
        edit.save_question(session, user, need, question, plain)
    except EditError as error:
        return _question_page(
            request, session, user, need, question, form.values(checks), str(error)
        )
    return done(request, "/admin/needs", f"De vraag '{question}' is opgeslagen.")


@router.post("/admin/needs/{need}/questions/{question}/move", dependencies=[CsrfChecked])
def move_question(
    request: Request,
    need: str,
    question: str,
    session: DB,
    user: AdminUser,
    direction: TextField = "",
) -> Response:
    try:
        edit.move_question(session, user, need, question, direction)
    except EditError as error:
        return refused(request, "/admin/needs", str(error))
    return done(request, "/admin/needs", f"De vraag '{question}' is verplaatst.")


@router.post("/admin/needs/{need}/questions/{question}/delete", dependencies=[CsrfChecked])
def delete_question(
    request: Request, need: str, question: str, session: DB, user: AdminUser
) -> Response:
    try:
        edit.delete_question(session, user, need, question)
    except EditError as error:
        return refused(request, "/admin/needs", str(error))
    return done(request, "/admin/needs", f"De vraag '{question}' is verwijderd.")

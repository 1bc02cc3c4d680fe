"""Admins' pages for the needs and their follow-up questions: the order the bot asks them
in, their answer types, validation and choices, and the needs' names.

The checks and the writing live in bot.knowledge.editing.questions; a saved question is
asked from the bot's next message on."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from bot.knowledge import ANSWER_TYPES, NEED_ORDER, store
from bot.knowledge.bundle import APP_ENTITIES, ENTITIES, Bundle
from bot.knowledge.editing import questions as edit
from bot.knowledge.editing.questions import CONTACT, QuestionForm
from bot.knowledge.validation import VALIDATION_RULES, rules_for
from bot.storage import repositories as repo
from bot.storage.models import User
from web.admin.common import TextField, attempt, not_found, page, refused
from web.security import DB, AdminUser, CsrfChecked

router = APIRouter(include_in_schema=False)

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
        rule = VALIDATION_RULES.get(key)
        parts.append(f"{(rule.label if rule else key).lower()}: {value}")
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
    def save() -> tuple[str, str]:
        edit.edit_need_label(session, user, need, nl=label_nl, en=label_en)
        return "/admin/needs", "De naam van de behoefte is opgeslagen."

    return attempt(request, save, partial(refused, request, "/admin/needs"))


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
        refusal=problem,
        need=need,
        need_label=("contactgegevens" if need == CONTACT else bundle.needs[need]["label"]["nl"]),
        key=key,
        values=values,
        types=TYPES,
        type_order=sorted(ANSWER_TYPES, key=list(TYPES).index),
        validation_keys={t: [rule.key for rule in rules_for(t)] for t in ANSWER_TYPES},
        inputs={rule.key: rule.entered_as for rule in VALIDATION_RULES.values()},
        labels={rule.key: rule.label for rule in VALIDATION_RULES.values()},
        other_questions=list(dict.fromkeys(others)),
        entities=(*ENTITIES, *APP_ENTITIES),
        unlisted=_unlisted(session, key, values),
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

    def add() -> tuple[str, str]:
        plain = edit.question_from_form(key, form.form(checks))
        edit.save_question(session, user, need, None, plain)
        return "/admin/needs", f"De vraag '{key}' is toegevoegd."

    values = {**form.values(checks), "question_key": question_key}
    return attempt(
        request, add, partial(_question_page, request, session, user, need, None, values)
    )


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
    def save() -> tuple[str, str]:
        # The entity index (which of several dates or times) stays with the question.
        index = edit.question_row(session, need, question).entity_index
        plain = edit.question_from_form(question, form.form(checks), index)
        edit.save_question(session, user, need, question, plain)
        return "/admin/needs", f"De vraag '{question}' is opgeslagen."

    values = form.values(checks)
    return attempt(
        request, save, partial(_question_page, request, session, user, need, question, values)
    )


@router.post("/admin/needs/{need}/questions/{question}/move", dependencies=[CsrfChecked])
def move_question(
    request: Request,
    need: str,
    question: str,
    session: DB,
    user: AdminUser,
    direction: TextField = "",
) -> Response:
    def move() -> tuple[str, str]:
        edit.move_question(session, user, need, question, direction)
        return "/admin/needs", f"De vraag '{question}' is verplaatst."

    return attempt(request, move, partial(refused, request, "/admin/needs"))


@router.post("/admin/needs/{need}/questions/{question}/delete", dependencies=[CsrfChecked])
def delete_question(
    request: Request, need: str, question: str, session: DB, user: AdminUser
) -> Response:
    def delete() -> tuple[str, str]:
        edit.delete_question(session, user, need, question)
        return "/admin/needs", f"De vraag '{question}' is verwijderd."

    return attempt(request, delete, partial(refused, request, "/admin/needs"))

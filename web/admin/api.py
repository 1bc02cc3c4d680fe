"""The admins' JSON API under /api/admin, for scripts that maintain the knowledge: the
intents with their examples, and the routing rules as one ordered list. Only admins' tokens
are accepted; every change is checked and audited exactly like the same change in the
browser (bot.knowledge.editing), and a refusal is a 422 with the reason in Dutch."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from bot.knowledge.editing import intents, routing
from bot.knowledge.editing.common import EditError
from bot.storage import repositories as repo
from bot.storage.knowledge_tables import Intent
from web.schemas import Problem
from web.security import DB, AdminApiUser

# What every admin endpoint may answer besides its own result.
ADMIN_RESPONSES: dict[int | str, dict[str, object]] = {
    401: {"model": Problem, "description": "No valid API token."},
    403: {"model": Problem, "description": "The token's owner is not an admin."},
}
router = APIRouter(prefix="/api/admin", tags=["admin"], responses=ADMIN_RESPONSES)
_refused = {422: {"model": Problem, "description": "Refused; `detail` says why (in Dutch)."}}


class IntentOut(BaseModel):
    name: str
    kind: str = Field(description="need, combined (several needs at once), faq or conversation.")
    examples: int = Field(description="Training examples, all languages together.")
    examples_by_language: dict[str, int]
    cv_f1: float | None = Field(description="F1 in the last cross-validation, if measured.")


class ExamplesIn(BaseModel):
    texts: list[str] = Field(
        min_length=1,
        max_length=500,
        description="One sentence each; entities marked the Rasa way: [40](people).",
    )
    language: Literal["nl", "en"] = "nl"


class ExamplesAdded(BaseModel):
    intent: str
    added: list[str] = Field(description="The examples as stored (spaces folded).")
    examples: int = Field(description="The intent's examples now, all languages together.")


class Conditions(BaseModel):
    """All given conditions must hold; leave one out for no condition."""

    model_config = ConfigDict(extra="forbid")

    needs: list[str] | None = Field(None, description="Exactly these needs.")
    min_needs: int | None = None
    neighbourhoods: list[str] | None = None
    amount_min: float | None = Field(None, description="Euro, inclusive.")
    amount_max: float | None = Field(None, description="Euro, inclusive.")
    visitors_min: int | None = None
    visitors_max: int | None = None


class RoutingRuleModel(BaseModel):
    name: str
    when: Conditions = Field(default_factory=Conditions)
    department: str


class RoutingRules(BaseModel):
    rules: list[RoutingRuleModel] = Field(description="In order: the first match decides.")


@router.get("/intents", summary="The intents with their number of examples")
def list_intents(session: DB, _user: AdminApiUser) -> list[IntentOut]:
    """Every intent the model knows, by name, with its kind, its number of training examples
    (in all and per language) and its F1 in the last cross-validation (null: not measured)."""
    return [
        IntentOut(
            name=summary.name,
            kind=summary.kind,
            examples=summary.total,
            examples_by_language=summary.examples,
            cv_f1=summary.cv_f1,
        )
        for summary in intents.intent_summaries(session)
    ]


@router.post(
    "/intents/{name}/examples",
    summary="Add training examples to an intent",
    responses={404: {"model": Problem, "description": "No such intent."}, **_refused},
)
def add_examples(name: str, body: ExamplesIn, session: DB, user: AdminApiUser) -> ExamplesAdded:
    """All examples are checked first (one line, at most 300 characters, known entities, no
    duplicate of any example); one problem refuses them all. The model learns them at the
    next training."""
    if session.get(Intent, name) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such intent.")
    try:
        added = intents.add_examples(session, user, name, body.language, body.texts)
    except EditError as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(error)) from error
    return ExamplesAdded(intent=name, added=added, examples=intents.count_examples(session, name))


def _rules(session: Session) -> RoutingRules:
    return RoutingRules(
        rules=[
            RoutingRuleModel(name=r.name, when=Conditions(**r.conditions), department=r.department)
            for r in repo.routing_rules(session)
        ]
    )


@router.get("/routing/rules", summary="The routing rules in order")
def get_rules(session: DB, _user: AdminApiUser) -> RoutingRules:
    """The rules as routing applies them: the first rule whose conditions all hold decides
    the department; a request no rule matches goes to the fallback department."""
    return _rules(session)


@router.put("/routing/rules", summary="Replace the routing rules", responses=_refused)
def put_rules(body: RoutingRules, session: DB, user: AdminApiUser) -> RoutingRules:
    """Replace all rules by this ordered list. Every rule is checked first (known department,
    needs and neighbourhoods, numbers of 0 or more, no minimum above its maximum); one problem
    changes nothing. The next request is routed by the new rules."""
    rules = [
        {
            "name": rule.name,
            "when": rule.when.model_dump(exclude_none=True),
            "department": rule.department,
        }
        for rule in body.rules
    ]
    try:
        routing.replace_rules(session, user, rules)
    except EditError as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(error)) from error
    return _rules(session)

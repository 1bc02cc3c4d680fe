"""The JSON API under /api, for department systems and scripts (Bearer tokens from
`wegwijs token create USER`). A token sees what its owner sees on the web: the requests of
their departments, as lead or co-department; admins see all.

A request the owner may not see answers 404, exactly like one that does not exist, so
nothing is learnt about other departments' requests.

Contact details: GET /api/requests/{id} includes the resident's name, phone and email,
because whoever may handle the request (lead or co-department) must be able to reach the
resident, and the request page shows them to the same officials. Lists and webhooks leave
them out, so they are only fetched one request at a time, by someone entitled to it."""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, HTTPException, Query, status
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from bot.dialogue.understanding import understand
from bot.nlu.client import NLUUnavailable
from bot.queue import actions, queries, workflow
from bot.queue.serialize import request_json
from bot.storage.models import Request, User
from web.context import AppContext
from web.schemas import (
    Contact,
    HistoryEvent,
    Interpretation,
    InterpretIn,
    MessageIn,
    Problem,
    RelatedRequest,
    RequestDetail,
    RequestFilters,
    RequestOut,
    RequestPage,
    StatusChange,
    TransitionRefused,
)
from web.security import DB, ApiUser, Context

router = APIRouter(
    prefix="/api",
    tags=["requests"],
    responses={401: {"model": Problem, "description": "No valid API token."}},
)

NOT_FOUND = "No such request, or not one of your departments' requests."
_not_found = {404: {"model": Problem, "description": NOT_FOUND}}
_invalid = {422: {"description": "The body or a parameter is not valid."}}


@router.get("/requests", summary="List the requests of your departments")
def list_requests(
    session: DB, user: ApiUser, context: Context, filters: Annotated[RequestFilters, Query()]
) -> RequestPage:
    """Open requests of the token owner's departments (lead or co-department; admins: all),
    soonest due first, a page at a time. Closed ones only with `include_closed` or `status`."""
    offset = (filters.page - 1) * filters.per_page
    rows, total = queries.queue(
        session,
        user,
        filters.queue_filter(),
        context.today(),
        offset=offset,
        limit=filters.per_page,
    )
    return RequestPage(
        items=[RequestOut(**request_json(row)) for row in rows],
        total=total,
        page=filters.page,
        per_page=filters.per_page,
        pages=math.ceil(total / filters.per_page),
    )


@router.get("/requests/{request_id}", summary="One request with its history", responses=_not_found)
def get_request(request_id: int, session: DB, user: ApiUser) -> RequestDetail:
    """The request, the resident's contact details, the statuses it may move to, its full
    history (internal notes included) and related requests of the same resident or
    initiative in any department (reference, department, needs and status only)."""
    return _detail(session, _visible(session, user, request_id))


@router.post(
    "/requests/{request_id}/status",
    summary="Change the status",
    responses={
        **_not_found,
        409: {"model": TransitionRefused, "description": "The workflow does not allow it."},
        422: {"model": Problem, "description": "Unknown status, or the message is too long."},
    },
)
def change_status(
    request_id: int,
    change: StatusChange,
    session: DB,
    user: ApiUser,
    context: Context,
    background: BackgroundTasks,
) -> RequestDetail:
    """Move the request along the workflow table (see `allowed_next`). When the change
    matters to the resident they get one message: `message`, or the standard text."""
    request = _visible(session, user, request_id, for_update=True)
    current = request.status
    try:
        actions.change_status(
            session,
            context.knowledge,
            request,
            user,
            change.status,
            change.message,
            today=context.today(),
        )
    except workflow.TransitionNotAllowed as error:
        refused = TransitionRefused(
            detail=str(error), current=current, allowed=workflow.allowed_next(current)
        )
        return JSONResponse(refused.model_dump(mode="json"), status.HTTP_409_CONFLICT)
    except actions.ActionError as error:
        raise _invalid_action(error) from error
    return _changed(session, request, background, context)


@router.post(
    "/requests/{request_id}/messages",
    summary="Write to the resident",
    status_code=status.HTTP_201_CREATED,
    responses={**_not_found, **_invalid},
)
def write_to_resident(
    request_id: int,
    message: MessageIn,
    session: DB,
    user: ApiUser,
    context: Context,
    background: BackgroundTasks,
) -> RequestDetail:
    """The text reaches the resident in their chat, marked with the request's reference;
    their reply is added to this request's history as `message_in`."""
    request = _visible(session, user, request_id, for_update=True)
    try:
        actions.write_to_resident(session, context.knowledge, request, user, message.text)
    except actions.ActionError as error:
        raise _invalid_action(error) from error
    return _changed(session, request, background, context)


@router.post(
    "/interpret",
    tags=["nlu"],
    summary="What the bot makes of a message",
    responses={
        **_invalid,
        503: {"model": Problem, "description": "The NLU server (Rasa) cannot be reached."},
    },
)
async def interpret(body: InterpretIn, _user: ApiUser, context: Context) -> Interpretation:
    """Intent, confidence, needs, the answers found in the text, and its language, exactly
    as `wegwijs interpret` shows them."""
    limit = context.settings.max_message_length
    if len(body.text) > limit:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"The text is longer than {limit} characters."
        )
    try:
        result = await understand(
            context.nlu,
            context.knowledge,
            body.text,
            context.today(),
            context.settings.default_language,
        )
    except NLUUnavailable as error:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, f"The NLU server cannot be reached: {error}"
        ) from error
    return Interpretation(
        intent=result.intent,
        confidence=result.confidence,
        needs=result.needs,
        slots=result.slots,
        language=result.language,
    )


def _visible(session: Session, user: User, request_id: int, *, for_update: bool = False) -> Request:
    """The request if `user` may see it, else 404."""
    request = queries.can_see(session, user, request_id, for_update=for_update)
    if request is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND)
    return request


def _detail(session: Session, request: Request) -> RequestDetail:
    session.flush()
    resident = request.resident
    return RequestDetail(
        **request_json(request),
        resident=Contact(name=resident.name, phone=resident.phone, email=resident.email),
        allowed_next=workflow.allowed_next(request.status),
        history=[
            HistoryEvent(
                kind=event.kind,
                actor=event.actor.username if event.actor else None,
                time=event.created_at,
                old_value=event.old_value,
                new_value=event.new_value,
                text=event.text,
            )
            for event in actions.history(session, request)
        ],
        related=[
            RelatedRequest(
                reference=other.reference or "",
                department=other.department_key,
                needs=other.needs,
                status=other.status,
            )
            for other in queries.related(session, request)
        ],
    )


def _changed(
    session: Session, request: Request, background: BackgroundTasks, context: AppContext
) -> RequestDetail:
    """The request after a change. Background tasks run after the transaction is committed
    (web.security.DB), so the delivery worker, woken then, finds the new outbox rows."""
    background.add_task(context.wake_delivery)
    return _detail(session, request)


def _invalid_action(error: actions.ActionError) -> HTTPException:
    """The action's own words (Dutch, as officials see them on the web)."""
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(error))

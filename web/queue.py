"""The officials' queue: the requests they may see, with counts, filters and pages, and the
same list as a CSV export."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.queue import queries, workflow
from bot.queue.queries import QueueFilter
from bot.queue.workflow import LABELS, Status
from bot.storage import models
from bot.storage.models import Notification, User
from web.common import department_names, late, need_labels, show_page
from web.security import DB, Context, CurrentUser

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
CSV_COLUMNS = (
    "referentie", "afdeling", "medeafdelingen", "behoeften", "status", "toegewezen aan",
    "buurt", "ingediend", "uiterlijk",
)  # fmt: skip
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

# The counts at the top of the queue, each a link to the queue filtered that way:
# (label, key in queries.counts, filter).
TILES = (
    ("Open", "open", QueueFilter()),
    *(
        (LABELS[status], status.value, QueueFilter(status=status.value))
        for status in (Status.NEW, Status.IN_PROGRESS, Status.WAITING_FOR_RESIDENT)
    ),
    ("Te laat", "overdue", QueueFilter(overdue=True)),
    ("Niet toegewezen", "unassigned", QueueFilter(unassigned=True)),
)


def queue_filter(
    context: Context,
    status: str = "",
    need: str = "",
    neighbourhood: str = "",
    q: str = "",
    overdue: bool = False,
    mine: bool = False,
    unassigned: bool = False,
    closed: bool = False,
) -> QueueFilter:
    """The queue's filters from the address, the same for the page and its CSV export.
    An unknown status or need is ignored rather than answered with an error page."""
    return QueueFilter(
        status=status if status in workflow.Status.__members__.values() else "",
        need=need if need in context.knowledge.needs else "",
        neighbourhood=neighbourhood.strip(),
        search=q.strip()[:200],
        overdue=overdue,
        mine=mine,
        unassigned=unassigned,
        include_closed=closed,
    )


Filters = Annotated[QueueFilter, Depends(queue_filter)]


def filter_query(filters: QueueFilter, **extra: Any) -> str:
    """The filters as a query string, for the CSV link, the pages and the count tiles."""
    values = {
        "status": filters.status,
        "need": filters.need,
        "neighbourhood": filters.neighbourhood,
        "q": filters.search,
        "overdue": "1" if filters.overdue else "",
        "mine": "1" if filters.mine else "",
        "unassigned": "1" if filters.unassigned else "",
        "closed": "1" if filters.include_closed else "",
        **extra,
    }
    return urlencode({key: value for key, value in values.items() if value})


@router.get("/", response_class=HTMLResponse)
def queue_page(
    request: Request,
    session: DB,
    context: Context,
    user: CurrentUser,
    filters: Filters,
    page: int = 1,
) -> HTMLResponse:
    today = context.today()
    page = max(page, 1)
    rows, total = queries.queue(
        session, user, filters, today, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE
    )
    counts = queries.counts(session, user, today)
    return show_page(
        request,
        "queue.html",
        user,
        rows=rows,
        total=total,
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        filters=filters,
        query=filter_query(filters),
        previous_query=filter_query(filters, page=page - 1),
        next_query=filter_query(filters, page=page + 1),
        tiles=[
            (label, counts[key], filter_query(tile), tile == filters, key == "overdue")
            for label, key, tile in TILES
        ],
        neighbourhoods=[c.value for c in context.knowledge.question("neighbourhood").choices],
        needs=need_labels(context.knowledge),
        statuses=workflow.LABELS,
        names=department_names(session),
        notifications=_unread_notifications(session, user),
        late_ids={row.id for row in rows if late(row, today)},
    )


@router.get("/export.csv")
def export_csv(session: DB, context: Context, user: CurrentUser, filters: Filters) -> Response:
    """Exactly the filtered queue, for a spreadsheet: semicolons and a byte-order mark, the
    way Dutch Excel opens a file without asking."""
    today = context.today()
    names = department_names(session)
    labels = need_labels(context.knowledge)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(CSV_COLUMNS)
    for item in queries.all_matching(session, user, filters, today):
        cells = [
            item.reference or "",
            names.get(item.department_key, item.department_key),
            ", ".join(names.get(key, key) for key in item.co_departments),
            ", ".join(labels.get(need, need) for need in item.needs),
            workflow.label(item.status),
            item.assignee.full_name if item.assignee else "",
            str(item.answers.get("neighbourhood") or ""),
            item.created_at.astimezone().strftime("%Y-%m-%d %H:%M"),
            item.due_at.isoformat(),
        ]
        writer.writerow([csv_cell(cell) for cell in cells])
    return Response(
        "\ufeff" + buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="werkvoorraad-{today.isoformat()}.csv"'
        },
    )


def csv_cell(value: str) -> str:
    """A cell a spreadsheet shows as text, never runs: a leading =, +, -, @ gets a quote."""
    return "'" + value if value.startswith(FORMULA_START) else value


def _unread_notifications(session: Session, user: User) -> list[Notification]:
    """What colleagues did for this user (such as assigning a request), newest first; only
    for requests the user can still see."""
    return list(
        session.scalars(
            select(Notification)
            .join(models.Request, Notification.request_id == models.Request.id)
            .where(
                Notification.user_id == user.id,
                Notification.read_at.is_(None),
                queries.visible_to(user),
            )
            .order_by(Notification.created_at.desc())
            .limit(20)
        )
    )

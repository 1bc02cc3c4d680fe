"""One request as plain JSON, the same for the CLI, the API and the webhooks."""

from __future__ import annotations

from typing import Any

from bot.storage.models import Request


def request_json(request: Request) -> dict[str, Any]:
    """The fields other systems rely on. Contact details are left out on purpose: they are
    shown to officials on the request page only."""
    return {
        "id": request.id,
        "reference": request.reference,
        "department": request.department_key,
        "co_departments": request.co_departments,
        "needs": list(request.needs),
        "status": request.status,
        "answers": dict(request.answers),
        "assignee": request.assignee.username if request.assignee else None,
        "created_at": request.created_at.isoformat(),
        "due_at": request.due_at.isoformat(),
    }

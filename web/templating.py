"""Jinja2 templates with autoescaping, so residents' text never becomes HTML."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from bot.dialogue.presentation import format_day
from bot.queue import workflow
from web.security import csrf_token

templates = Jinja2Templates(directory=Path(__file__).resolve().parent / "templates")
templates.env.filters["status_label"] = workflow.label
templates.env.filters["day"] = lambda value: format_day(value, "nl") if value else "—"
templates.env.filters["short_day"] = lambda value: value.strftime("%d-%m-%Y") if value else "—"
# In the server's time zone.
templates.env.filters["moment"] = lambda value: (
    value.astimezone().strftime("%d-%m-%Y %H:%M") if value else "—"
)


def render(request: Request, template: str, status_code: int = 200, **values: Any) -> HTMLResponse:
    return templates.TemplateResponse(
        request,
        template,
        {"csrf_token": csrf_token(request), **values},
        status_code=status_code,
    )

"""The FastAPI app: pages for officials and admins, the JSON API and the health check."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from web import api, auth_pages, dashboard, health, queue, request_page
from web.admin import api as admin_api
from web.admin import deliveries as admin_deliveries
from web.admin import departments as admin_departments
from web.admin import dialogue as admin_dialogue
from web.admin import inbox as admin_inbox
from web.admin import insight as admin_insight
from web.admin import intents as admin_intents
from web.admin import models as admin_models
from web.admin import questions as admin_questions
from web.admin import routing as admin_routing
from web.admin import texts as admin_texts
from web.admin import vocabularies as admin_vocabularies
from web.context import AppContext
from web.security import LoginRequired, secret_key
from web.templating import render

STATIC = Path(__file__).resolve().parent / "static"
ERROR_TITLES = {403: "Geen toegang", 404: "Niet gevonden", 405: "Niet toegestaan"}


def create_app(context: AppContext) -> FastAPI:
    settings = context.settings
    app = FastAPI(
        title="Wegwijs API",
        description="Requests of residents' initiatives, routed to municipal departments.",
        version="1.0",
        docs_url=None,  # Swagger UI loads from a CDN; the OpenAPI document is enough
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.context = context
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret_key(settings),
        session_cookie="wegwijs_session",
        max_age=settings.session_hours * 3600,
        same_site="lax",
        https_only=settings.session_cookie_secure,
    )

    @app.exception_handler(StarletteHTTPException)
    async def _error_page(request: Request, error: StarletteHTTPException) -> Response:
        """People get a Dutch page in the house style; the API and /healthz keep JSON."""
        if request.url.path.startswith("/api") or request.url.path == "/healthz":
            return await http_exception_handler(request, error)
        title = ERROR_TITLES.get(error.status_code, "Er ging iets mis")
        return render(
            request, "error.html", error.status_code, title=title, detail=str(error.detail)
        )

    @app.exception_handler(LoginRequired)
    async def _to_login(request: Request, _error: LoginRequired) -> RedirectResponse:
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)

    @app.middleware("http")
    async def _security_headers(request: Request, call_next):  # type: ignore[no-untyped-def]
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            "script-src 'self'",
        )
        return response

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(auth_pages.router)
    app.include_router(queue.router)
    app.include_router(request_page.router)
    app.include_router(dashboard.router)
    app.include_router(admin_deliveries.router)
    app.include_router(api.router)
    app.include_router(health.router)
    app.include_router(admin_models.router)
    app.include_router(admin_models.api)
    app.include_router(admin_inbox.api)
    app.include_router(admin_inbox.router)
    app.include_router(admin_intents.router)
    app.include_router(admin_texts.router)
    app.include_router(admin_questions.router)
    app.include_router(admin_vocabularies.router)
    app.include_router(admin_dialogue.router)
    app.include_router(admin_departments.router)
    app.include_router(admin_routing.router)
    app.include_router(admin_insight.router)
    app.include_router(admin_api.router)
    return app

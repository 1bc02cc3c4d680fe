"""Who may see and do what, for EVERY page and EVERY API endpoint the app has: the routes are
read from the app itself, so a page added later is covered (or fails here until it says who
may use it). Roles: a resident (anonymous), an official of department A (vastgoed), one of B
(vergunningen) and an admin; requests of A, of B, and a multi-need one A is co-department of.

Nothing may leak between departments: B's pages, CSV export, counts, charts and API answers
are the same byte for byte whether A's requests exist or not, and A's requests answer B with
exactly the 404 of a request that does not exist."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.routing import Mount

from bot.delivery import outbox
from bot.knowledge import Knowledge
from bot.queue import actions
from bot.storage.knowledge_tables import InboxEntry, NluModel, TrainingExample
from bot.storage.models import OutboxMessage, RequestEvent, RoutingRule
from tests.web.world import PASSWORD, TODAY, B, World, bearer
from web.security import admin_api_user, admin_user, api_user, check_csrf, current_user

ROLES = ("anonymous", "anna", "bert", "ada")  # resident, official of A, of B, admin
# Who sees which request: A's own, the multi-need one (A as co-department), B's own.
VISIBLE = {
    "anna": {"a", "multi"},
    "bert": {"b"},
    "ada": {"a", "multi", "b"},
}
# Open to everyone, by design. Everything else must need a login, an admin or a token.
PUBLIC = {
    ("GET", "/login"),
    ("POST", "/login"),
    ("POST", "/logout"),
    ("GET", "/healthz"),
    ("GET", "/api/openapi.json"),
}
# What a form field or JSON field gets when an endpoint is called: a valid value, so the
# answer is about who asks, not about what they sent.
FIELD_VALUES: dict[str, Any] = {
    "status": "in_behandeling",
    "message": "",
    "text": "Een bericht uit de autorisatietest",
    "assignee": "",
    "department": "buitendienst",
    "reason": "Hoort bij de buitendienst",
    "intent": "request_room",
    "action": "dismiss",
    # The admins' knowledge pages and API (each changes the item PARAM_VALUES names).
    "faq_name": "autorisatietest",
    "answer_nl": "Een antwoord uit de autorisatietest.",
    "faq_examples": "Eerste zin uit de autorisatietest\nTweede zin uit de autorisatietest",
    "language": "nl",
    "examples": "Een voorbeeldzin uit de autorisatietest",
    "texts": ["Een voorbeeldzin van de API uit de autorisatietest"],
    "nl": "Een tekst uit de autorisatietest.",
    "label_nl": "Autorisatietest",
    "prompt_nl": "Wat antwoordt u in de autorisatietest?",
    "answer_type": "text",
    "text_key": "affirm_idle",
    "need_buttons": "never",
    "question_key": "autorisatietest",
    "direction": "down",
    "department_key": "autorisatie",
    "department_name": "Autorisatie",
    "sla_days": "5",
    "member": "anna",
    "rule_name": "Autorisatieregel",
    # The routing the requests of this test need: A leads room, B permit, A co-leads multi.
    "rules": [
        {"name": "meerdere behoeften", "when": {"min_needs": 2}, "department": "initiatievenloket"},
        {"name": "ruimte", "when": {"needs": ["room"]}, "department": "vastgoed"},
        {"name": "toestemming", "when": {"needs": ["permit"]}, "department": "vergunningen"},
    ],
}
# The query strings B's views are compared with: the default and with closed requests.
VARIANTS = {
    "page": ("", "?closed=1"),
    "api": ("", "?include_closed=true"),
    "admin": ("",),
    "admin_api": ("",),
    "detail": ("",),
}
MISSING_ID = 999_999
# Path parameters of admin pages, filled with an item of the seeded knowledge.
# ids: see Targets.params
PARAM_VALUES: dict[str, Any] = {
    "model_id": 0,
    "run_id": 0,
    "entry_id": 0,
    "example_id": 0,
    "rule_id": 0,
    "name": "greet",  # not a FAQ, so it stays: deleting it is refused
    "group": "text",
    "key": "help",
    "need": "permit",
    "question": "activity",
    "department": "buitendienst",  # still has rules, so deleting it is refused
    "vocabulary": "out_of_scope_marriage",
    "intent": "affirm",
}
# They would start a real training of several minutes; test_admin_learning.py covers them.
STARTS_A_TRAINING = {("POST", "/admin/models/train"), ("POST", "/api/admin/nlu/train")}
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    kind: str  # public, page, admin, api, admin_api
    params: tuple[str, ...]
    fields: dict[str, Any]

    @property
    def is_form(self) -> bool:
        return self.method == "POST" and self.kind in ("page", "admin", "public")

    def url(self, **values: int) -> str:
        return self.path.format(**{**PARAM_VALUES, **values})


def endpoints(app: FastAPI) -> list[Endpoint]:
    """Every route of the app with what it needs; fails on a route nobody classified."""
    found, unclassified = [], []
    for route in iter_route_contexts(app.routes):
        if isinstance(route.original_route, Mount):
            assert route.path == "/static", f"unexpected mount {route.path}"
            continue
        is_api_route = isinstance(route.original_route, APIRoute)
        calls = _dependency_calls(route.dependant) if is_api_route else set()
        fields = _fields(route.path, route.dependant) if is_api_route else {}
        for method in sorted((route.methods or set()) - {"HEAD"}):
            if admin_api_user in calls:
                kind = "admin_api"
            elif api_user in calls:
                kind = "api"
            elif admin_user in calls:
                kind = "admin"
            elif current_user in calls:
                kind = "page"
            elif (method, route.path) in PUBLIC:
                kind = "public"
            else:
                unclassified.append(f"{method} {route.path}")
                continue
            if method == "POST" and kind not in ("api", "admin_api"):
                assert check_csrf in calls, f"{method} {route.path} is a form without CSRF check"
            params = tuple(re.findall(r"{(\w+)}", route.path))
            found.append(Endpoint(method, route.path, kind, params, fields))
    assert not unclassified, f"routes without login, admin or token, not public: {unclassified}"
    return found


def _dependency_calls(dependant: Dependant) -> set[Callable[..., Any]]:
    calls: set[Callable[..., Any]] = set()
    todo = list(dependant.dependencies)
    while todo:
        dependency = todo.pop()
        if dependency.call is not None:
            calls.add(dependency.call)
        todo.extend(dependency.dependencies)
    return calls


def _fields(path: str, dependant: Dependant) -> dict[str, Any]:
    """Valid values for the form fields or the JSON body the route reads."""
    values: dict[str, Any] = {}
    for param in dependant.body_params:
        model = param.field_info.annotation
        if isinstance(model, type) and issubclass(model, BaseModel):
            names = {name: field.is_required() for name, field in model.model_fields.items()}
        else:
            names = {param.alias: param.field_info.is_required()}
        for name, required in names.items():
            if name in FIELD_VALUES:
                values[name] = FIELD_VALUES[name]
            elif name not in ("csrf_token", "username", "password", "next"):
                assert not required, f"{path}: give field {name!r} a value in FIELD_VALUES"
    return values


@dataclass
class Visitor:
    """One role with its own cookies (and token): what a browser or a script would send."""

    name: str
    client: TestClient
    token: str | None
    csrf: str

    def call(
        self, endpoint: Endpoint, url: str, *, csrf: str | None = "valid", token: bool = True
    ) -> Any:
        is_api = endpoint.kind in ("api", "admin_api")
        headers = bearer(self.token) if token and self.token and is_api else {}
        if endpoint.method == "GET":
            return self.client.get(url, headers=headers)
        if endpoint.is_form:
            form = dict(endpoint.fields)
            if csrf is not None:
                form["csrf_token"] = self.csrf if csrf == "valid" else csrf
            return self.client.post(url, data=form, headers=headers)
        return self.client.request(endpoint.method, url, json=endpoint.fields, headers=headers)


@dataclass
class Targets:
    ids: dict[str, int]  # a, multi, b -> request id
    references: dict[str, str]
    message_id: int  # a failed webhook delivery, for the admins' resend
    params: dict[str, Any]  # path parameters of admin pages: ids made for this test


NEEDS = {"a": ["room"], "multi": ["room", "budget"], "b": ["permit"]}


@pytest.fixture
def world(sessions: sessionmaker[Session], knowledge: Knowledge) -> World:
    return World.with_staff(sessions, knowledge)


@pytest.fixture
def visitors(world: World) -> Iterator[dict[str, Visitor]]:
    clients = {role: world.client() for role in ROLES}
    for client in clients.values():
        client.__enter__()
    try:
        yield {role: _visit(role, clients[role], world.tokens.get(role)) for role in ROLES}
    finally:
        for client in clients.values():
            client.__exit__(None, None, None)


def _visit(role: str, client: TestClient, token: str | None) -> Visitor:
    """Log in through the login form (anonymous: just open it, as a resident could)."""
    page = client.get("/login")
    csrf = _csrf(page.text)
    if role != "anonymous":
        login = {"username": role, "password": PASSWORD, "csrf_token": csrf, "next": "/"}
        response = client.post("/login", data=login)
        assert response.status_code == 303, response.text
        csrf = _csrf(client.get("/").text)  # a fresh session has a fresh token
    return Visitor(role, client, token, csrf)


def _csrf(html: str) -> str:
    match = CSRF.search(html)
    assert match, html
    return match.group(1)


def _fresh(world: World, chats: Iterator[str], key: str) -> int:
    """A new request like target `key`, for one action."""
    request_id, _ = world.add_request(NEEDS[key], chat=next(chats))
    return request_id


def _counts(sessions: sessionmaker[Session]) -> tuple[int, int]:
    with sessions() as session:
        events = session.scalar(select(func.count()).select_from(RequestEvent)) or 0
        messages = session.scalar(select(func.count()).select_from(OutboxMessage)) or 0
    return events, messages


def _normalised(response: Any) -> tuple[int, str]:
    """The same page twice differs only in the charts' random ids."""
    return response.status_code, UUID.sub("<uuid>", response.text)


@pytest.fixture
def chats() -> Iterator[str]:
    """A new resident (chat id) for every request."""
    return (f"chat-{n}" for n in range(1, 10_000))


@pytest.fixture
def app_endpoints(visitors: dict[str, Visitor]) -> list[Endpoint]:
    app = visitors["anna"].client.app
    assert isinstance(app, FastAPI)
    return endpoints(app)


@pytest.fixture
def targets(world: World, chats: Iterator[str]) -> Targets:
    made = {key: world.add_request(NEEDS[key], chat=next(chats)) for key in ("a", "multi", "b")}
    with world.sessions.begin() as session:
        failed = outbox.add_webhook(
            session, request_id=made["b"][0], department_key=B, payload={"event": "test"}
        )
        session.flush()
        failed.last_error = "ConnectError: all connection attempts failed"
        failed.gave_up_at = failed.created_at
        message_id = failed.id
        model = NluModel(status="ready", file_name="nlu-0000000000000000.tar.gz")
        session.add(model)
        session.flush()
        entry = InboxEntry(reason="unsure", text="een zaaltje?", guessed_intent="request_room")
        session.add(entry)
        session.flush()
        example_id = session.scalar(
            select(TrainingExample.id).where(TrainingExample.intent == "greet").limit(1)
        )
        rule_id = session.scalar(select(RoutingRule.id).where(RoutingRule.name == "toestemming"))
        params = {
            "model_id": model.id,
            "run_id": model.id,
            "entry_id": entry.id,
            "example_id": example_id,
            "rule_id": rule_id,
        }
    return Targets(
        ids={key: request_id for key, (request_id, _) in made.items()},
        references={key: reference for key, (_, reference) in made.items()},
        message_id=message_id,
        params=params,
    )


def test_every_route_says_who_may_use_it(app_endpoints: list[Endpoint]) -> None:
    assert {e.kind for e in app_endpoints} == {"public", "page", "admin", "api", "admin_api"}
    assert {("GET", "/"), ("GET", "/requests/{request_id}"), ("GET", "/api/requests")} <= {
        (e.method, e.path) for e in app_endpoints
    }


def test_department_b_sees_nothing_of_a(
    world: World,
    visitors: dict[str, Visitor],
    app_endpoints: list[Endpoint],
    chats: Iterator[str],
) -> None:
    """Every page, export, count, chart and API answer B gets is the same byte for byte
    before and after A's requests came in and were worked on."""
    own_id, _ = world.add_request(NEEDS["b"], chat=next(chats))
    urls = [
        (e, e.url(request_id=own_id) + variant)
        for e in app_endpoints
        if e.method == "GET" and e.kind != "public"
        for variant in VARIANTS[e.kind if not e.params else "detail"]
    ]
    bert = visitors["bert"]
    before = {url: _normalised(bert.call(e, url)) for e, url in urls}
    # A's: one claimed and overdue, one unassigned and waiting, one closed: the counts, the
    # charts and the lists with closed requests would show them if they leaked.
    made = [
        world.add_request(NEEDS["a"], chat=next(chats), due=TODAY - timedelta(days=3)),
        world.add_request(NEEDS["multi"], chat=next(chats)),
        world.add_request(NEEDS["a"], chat=next(chats)),
    ]
    with world.sessions.begin() as session:
        anna = world.user(session, "anna")
        overdue, waiting, closed = (world.request(session, request_id) for request_id, _ in made)
        actions.claim(session, overdue, anna)
        actions.add_note(session, overdue, anna, "Interne notitie")
        actions.change_status(session, world.knowledge, waiting, anna, "wacht_op_bewoner")
        actions.change_status(session, world.knowledge, closed, anna, "afgehandeld")
    after = {url: _normalised(bert.call(e, url)) for e, url in urls}
    assert after == before, [url for url in before if before[url] != after[url]]
    for _, body in after.values():
        assert not any(reference in body for _, reference in made)


def test_a_resident_gets_the_login_page_or_401(
    world: World, visitors: dict[str, Visitor], app_endpoints: list[Endpoint], targets: Targets
) -> None:
    """A resident without a login: pages send to /login, the API says 401, and no form
    does anything (without a CSRF token 403, with one the login page)."""
    visitor = visitors["anonymous"]
    counts = _counts(world.sessions)
    for endpoint in app_endpoints:
        for url in _urls(endpoint, targets, include_missing=True):
            if endpoint.kind == "public":
                continue
            if endpoint.kind in ("api", "admin_api"):
                response = visitor.call(endpoint, url)
                assert response.status_code == 401, url
                continue
            response = visitor.call(endpoint, url)
            assert response.status_code == 303, (endpoint.method, url, response.status_code)
            assert response.headers["location"].startswith("/login"), url
            if endpoint.method == "POST":
                assert visitor.call(endpoint, url, csrf=None).status_code == 403, url
    for path in ("/login", "/healthz", "/api/openapi.json"):
        assert visitor.client.get(path).status_code == 200, path
    assert _counts(world.sessions) == counts


def test_other_departments_requests_are_404_and_admin_pages_403(
    world: World, visitors: dict[str, Visitor], app_endpoints: list[Endpoint], targets: Targets
) -> None:
    """Officials get 404 for other departments' requests, exactly as for a missing one, on
    pages and in the API; admin-only pages are 403 for them. Nothing changes."""
    counts = _counts(world.sessions)
    for role in ("anna", "bert"):
        visitor = visitors[role]
        for endpoint in app_endpoints:
            if endpoint.kind == "public":
                continue
            if endpoint.kind == "admin":
                for url in _urls(endpoint, targets):
                    refused = visitor.call(endpoint, url)
                    assert refused.status_code == 403, (role, url)
                    assert "Geen toegang" in refused.text  # a page in Dutch, not bare JSON
                continue
            if endpoint.kind == "admin_api":
                for url in _urls(endpoint, targets):
                    refused = visitor.call(endpoint, url)
                    assert refused.status_code == 403, (role, url)
                    assert refused.json()["detail"] == "Only admins may use this endpoint."
                continue
            if "request_id" not in endpoint.params:
                continue
            missing = visitor.call(endpoint, endpoint.url(request_id=MISSING_ID))
            assert missing.status_code == 404, (role, endpoint.path)
            for key, request_id in targets.ids.items():
                if key in VISIBLE[role]:
                    continue
                response = visitor.call(endpoint, endpoint.url(request_id=request_id))
                assert response.status_code == 404, (role, endpoint.method, endpoint.path, key)
                assert response.text == missing.text, (role, endpoint.path, key)
                for reference in targets.references.values():
                    assert reference not in response.text
        # A logged-in browser session is no API token.
        api = [e for e in app_endpoints if e.kind in ("api", "admin_api")]
        for endpoint in api:
            url = _urls(endpoint, targets)[0]
            assert visitor.call(endpoint, url, token=False).status_code == 401, url
    assert _counts(world.sessions) == counts


def test_who_may_see_a_request_may_act_on_it(
    world: World,
    visitors: dict[str, Visitor],
    app_endpoints: list[Endpoint],
    targets: Targets,
    chats: Iterator[str],
) -> None:
    """Whoever may see a request may open it and act on it; admins on all of them. Each
    action gets a request of its own, so one action does not change the next one's case."""
    for role in ("anna", "bert", "ada"):
        visitor = visitors[role]
        for endpoint in app_endpoints:
            if endpoint.kind == "public" or (
                endpoint.kind in ("admin", "admin_api") and role != "ada"
            ):
                continue
            if (endpoint.method, endpoint.path) in STARTS_A_TRAINING:
                continue
            if "request_id" not in endpoint.params:
                for url in _urls(endpoint, targets):
                    response = visitor.call(endpoint, url)
                    assert response.status_code in (200, 201, 202, 303, 503), (role, url)
                    if response.status_code == 303:
                        assert not response.headers["location"].startswith("/login")
                continue
            for key in sorted(VISIBLE[role]):
                request_id = targets.ids[key]
                if endpoint.method == "POST":
                    request_id = _fresh(world, chats, key)
                response = visitor.call(endpoint, endpoint.url(request_id=request_id))
                # A form sends the browser back to a page; the API answers with the request.
                expected = (303,) if endpoint.is_form else (200, 201)
                assert response.status_code in expected, (role, endpoint.path, key, response.text)
                if response.status_code == 303:
                    assert not response.headers["location"].startswith("/login")


def test_lists_and_exports_hold_exactly_ones_own(
    visitors: dict[str, Visitor], app_endpoints: list[Endpoint], targets: Targets
) -> None:
    """The queue, the CSV export and the API list: each official exactly their requests
    (lead or co), the admin all of them."""
    by_path = {(e.method, e.path): e for e in app_endpoints}
    lists = [
        (by_path["GET", "/"], "/?closed=1"),
        (by_path["GET", "/export.csv"], "/export.csv?closed=1"),
        (by_path["GET", "/api/requests"], "/api/requests?include_closed=true"),
    ]
    for role in ("anna", "bert", "ada"):
        for endpoint, url in lists:
            body = visitors[role].call(endpoint, url).text
            shown = {key for key, reference in targets.references.items() if reference in body}
            assert shown == VISIBLE[role], (role, url, shown)


def test_forms_without_the_csrf_token_are_refused(
    world: World, visitors: dict[str, Visitor], app_endpoints: list[Endpoint], chats: Iterator[str]
) -> None:
    """Every form POST without the session's CSRF token is refused, and does nothing."""
    visitor = visitors["anna"]
    forms = [e for e in app_endpoints if e.is_form and e.kind == "page"]
    assert forms
    for endpoint in forms:
        url = endpoint.url(request_id=_fresh(world, chats, "a"))
        counts = _counts(world.sessions)
        for csrf in (None, "", "forged-token"):
            response = visitor.call(endpoint, url, csrf=csrf)
            assert response.status_code == 403, (endpoint.path, csrf)
        assert _counts(world.sessions) == counts, endpoint.path
    logout = next(e for e in app_endpoints if e.path == "/logout")
    assert visitor.call(logout, "/logout", csrf="forged-token").status_code == 403
    assert visitor.client.get("/").status_code == 200  # still logged in


def _urls(endpoint: Endpoint, targets: Targets, include_missing: bool = False) -> list[str]:
    """The addresses to try: every target request, a missing one, the failed delivery, and
    for admin pages an item of the seeded knowledge (PARAM_VALUES)."""
    if not endpoint.params:
        return [endpoint.path]
    assert set(endpoint.params) <= {"request_id", "message_id", *PARAM_VALUES}, (
        f"{endpoint.path}: tell PARAM_VALUES what to fill in for {endpoint.params}"
    )
    if "message_id" in endpoint.params:
        return [endpoint.url(message_id=targets.message_id)]
    if "request_id" not in endpoint.params:
        return [endpoint.url(**targets.params)]
    ids = list(targets.ids.values()) + ([MISSING_ID] if include_missing else [])
    return [endpoint.url(request_id=request_id) for request_id in ids]

"""The JSON API on PostgreSQL and SQLite: scoping, filters and paging of the list, the request
with its history, status changes through the workflow table, messages to the resident via the
outbox, /api/interpret against the real Rasa, /healthz and the OpenAPI document."""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.dialogue.understanding import Understanding, understand
from bot.knowledge import Knowledge
from bot.learning.rasa_commands import free_port
from bot.nlu.client import RasaClient
from bot.queue import actions
from bot.storage.database import make_engine, make_session_factory
from bot.storage.models import Heartbeat, OutboxMessage, RequestEvent, utc_now
from tests.rasa_server import TOKEN
from tests.web.world import TODAY, A, B, World, bearer

ITEM_FIELDS = {
    "id", "reference", "department", "co_departments", "needs", "status", "answers",
    "assignee", "created_at", "due_at",
}  # fmt: skip


@dataclass
class Refs:
    overdue: str  # A's, due before TODAY, in Centrum, resident Jan Jansen
    later: str  # A's, in Noord
    multi: str  # room + budget: led by initiatievenloket, A is a co-department
    permit: str  # B's
    ids: dict[str, int]


@pytest.fixture
def world(sessions: sessionmaker[Session], knowledge: Knowledge) -> World:
    return World.with_staff(sessions, knowledge)


@pytest.fixture
def refs(world: World) -> Refs:
    ids: dict[str, int] = {}
    made = {
        "overdue": world.add_request(
            ["room"],
            chat="1",
            answers={"neighbourhood": "Centrum", "purpose": "Buurtsoep koken"},
            due=TODAY - timedelta(days=3),
            name="Jan Jansen",
        ),
        "later": world.add_request(
            ["room"], chat="2", answers={"neighbourhood": "Noord"}, due=date(2026, 12, 9)
        ),
        "multi": world.add_request(
            ["room", "budget"],
            chat="3",
            answers={"neighbourhood": "Noord", "amount": "750.00"},
            due=date(2026, 12, 1),
        ),
        "permit": world.add_request(["permit"], chat="4", answers={"visitors": 80}),
    }
    for key, (request_id, _) in made.items():
        ids[key] = request_id
    return Refs(**{key: ref for key, (_, ref) in made.items()}, ids=ids)


def _references(client, token: str, **params: object) -> list[str]:  # type: ignore[no-untyped-def]
    response = client.get("/api/requests", params=params, headers=bearer(token))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] >= len(body["items"])
    return [item["reference"] for item in body["items"]]


def test_the_list_is_scoped_to_the_departments_and_sorted_by_due_date(
    world: World, refs: Refs
) -> None:
    with world.client() as client:
        response = client.get("/api/requests", headers=bearer(world.tokens["anna"]))
        assert response.status_code == 200
        body = response.json()
        assert [i["reference"] for i in body["items"]] == [refs.overdue, refs.multi, refs.later]
        assert body["total"] == 3 and body["page"] == 1 and body["pages"] == 1
        assert all(set(item) == ITEM_FIELDS for item in body["items"])
        multi = body["items"][1]
        assert multi["department"] == "initiatievenloket"
        assert multi["co_departments"] == [A, "wijkbudget"]
        assert multi["needs"] == ["room", "budget"] and multi["status"] == "nieuw"
        assert multi["answers"] == {"neighbourhood": "Noord", "amount": "750.00"}
        assert multi["due_at"] == "2026-12-01" and multi["assignee"] is None
        assert multi["created_at"].endswith(("+00:00", "Z"))  # UTC, also on SQLite
        assert "Jan" not in response.text  # no contact details in lists

        assert _references(client, world.tokens["bert"]) == [refs.permit]
        everything = _references(client, world.tokens["ada"])
        assert sorted(everything) == sorted([refs.overdue, refs.later, refs.multi, refs.permit])


def test_pages_of_the_list(world: World, refs: Refs) -> None:
    token = world.tokens["ada"]
    with world.client() as client:
        first = client.get("/api/requests?per_page=3", headers=bearer(token)).json()
        second = client.get("/api/requests?per_page=3&page=2", headers=bearer(token)).json()
        beyond = client.get("/api/requests?per_page=3&page=3", headers=bearer(token)).json()
        assert (first["total"], first["pages"], second["page"]) == (4, 2, 2)
        assert len(first["items"]) == 3 and len(second["items"]) == 1
        assert {i["id"] for i in first["items"]}.isdisjoint(i["id"] for i in second["items"])
        assert beyond["items"] == [] and beyond["total"] == 4
        for bad in ("per_page=201", "per_page=0", "page=0", "limit=10", "page=x"):
            response = client.get(f"/api/requests?{bad}", headers=bearer(token))
            assert response.status_code == 422, bad


def test_filters(world: World, refs: Refs) -> None:
    anna, ada = world.tokens["anna"], world.tokens["ada"]
    with world.sessions.begin() as session:
        request = world.request(session, refs.ids["later"])
        actions.claim(session, request, world.user(session, "anna"))
    with world.client() as client:
        assert _references(client, anna, need="budget") == [refs.multi]
        assert _references(client, anna, need="permit") == []
        assert _references(client, anna, neighbourhood="noord") == [refs.multi, refs.later]
        assert _references(client, ada, department="initiatievenloket") == [refs.multi]
        assert _references(client, anna, department=B) == []  # scope stays
        assert _references(client, anna, overdue="true") == [refs.overdue]
        assert _references(client, anna, assigned="me") == [refs.later]
        assert _references(client, anna, assigned="none") == [refs.overdue, refs.multi]
        assert _references(client, anna, q="buurtsoep") == [refs.overdue]  # in the answers
        assert _references(client, anna, q="jansen") == [refs.overdue]  # the resident's name
        assert _references(client, anna, q=refs.later.lower()) == [refs.later]
        assert _references(client, anna, q=refs.permit) == []  # B's, even by reference
        assert _references(client, anna, q="100%_") == []
        assert _references(client, anna, status="in_behandeling") == []
        for bad in ("need=garden", "status=weg", "assigned=someone", "overdue=maybe"):
            response = client.get(f"/api/requests?{bad}", headers=bearer(anna))
            assert response.status_code == 422, bad

        # A closed request leaves the list unless asked for.
        closed = client.post(
            f"/api/requests/{refs.ids['overdue']}/status",
            json={"status": "afgewezen"},
            headers=bearer(anna),
        )
        assert closed.status_code == 200, closed.text
        assert refs.overdue not in _references(client, anna)
        assert refs.overdue in _references(client, anna, include_closed="true")
        assert _references(client, anna, status="afgewezen") == [refs.overdue]
        assert _references(client, anna, overdue="true") == []  # closed is never overdue


def test_a_token_is_needed(world: World, refs: Refs) -> None:
    with world.client() as client:
        request_id = refs.ids["overdue"]
        calls = [
            ("get", "/api/requests", None),
            ("get", f"/api/requests/{request_id}", None),
            ("post", f"/api/requests/{request_id}/status", {"status": "in_behandeling"}),
            ("post", f"/api/requests/{request_id}/messages", {"text": "Hallo"}),
            ("post", "/api/interpret", {"text": "Ik wil een zaal"}),
        ]
        for method, path, body in calls:
            for headers in ({}, bearer("ww_not-a-token"), {"Authorization": "Basic YW5uYQ=="}):
                response = client.request(method, path, json=body, headers=headers)
                assert response.status_code == 401, (path, headers)
                assert response.headers["WWW-Authenticate"] == "Bearer"
    with world.sessions() as session:
        assert session.scalar(select(func.count()).select_from(RequestEvent)) == 4  # created


def test_one_request_with_history_contact_and_related(world: World, refs: Refs) -> None:
    # The same resident also asked department B for a permit: related, but only in outline.
    _, related_permit = world.add_request(["permit"], chat="1", answers={"visitors": 300})
    with world.sessions.begin() as session:
        request = world.request(session, refs.ids["overdue"])
        actions.add_note(session, request, world.user(session, "anna"), "Bel na 17u")
    request_id = refs.ids["overdue"]
    with world.client() as client:
        response = client.get(f"/api/requests/{request_id}", headers=bearer(world.tokens["anna"]))
        assert response.status_code == 200, response.text
        detail = response.json()
        assert detail["reference"] == refs.overdue and detail["due_at"] == "2026-11-20"
        assert detail["resident"] == {"name": "Jan Jansen", "phone": "+31612345678", "email": None}
        assert detail["allowed_next"] == [
            "in_behandeling", "wacht_op_bewoner", "afgehandeld", "afgewezen"
        ]  # fmt: skip
        assert [(e["kind"], e["actor"], e["text"]) for e in detail["history"]] == [
            ("created", None, None),
            ("note", "anna", "Bel na 17u"),
        ]
        assert detail["history"][0]["new_value"] == A
        assert detail["related"] == [
            {"reference": related_permit, "department": B, "needs": ["permit"], "status": "nieuw"}
        ]

        # Admins see it; B, the other department, gets exactly what a missing id gets.
        admin = client.get(f"/api/requests/{request_id}", headers=bearer(world.tokens["ada"]))
        assert admin.status_code == 200
        other = client.get(f"/api/requests/{request_id}", headers=bearer(world.tokens["bert"]))
        missing = client.get("/api/requests/999999", headers=bearer(world.tokens["bert"]))
        assert other.status_code == missing.status_code == 404
        assert other.json() == missing.json()
        co = client.get(f"/api/requests/{refs.ids['multi']}", headers=bearer(world.tokens["anna"]))
        assert co.status_code == 200  # as co-department


def test_status_changes_follow_the_workflow_table(world: World, refs: Refs) -> None:
    request_id = refs.ids["multi"]
    committed: list[int] = []

    def wake() -> None:
        """The worker is woken after the commit: a fresh session already sees the rows."""
        with world.sessions() as session:
            committed.append(session.scalar(select(func.count()).select_from(OutboxMessage)) or 0)

    url = f"/api/requests/{request_id}/status"
    anna = bearer(world.tokens["anna"])
    with world.client(wake=wake) as client:
        response = client.post(url, json={"status": "in_behandeling"}, headers=anna)
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "in_behandeling"
        assert response.json()["allowed_next"] == ["wacht_op_bewoner", "afgehandeld", "afgewezen"]
        assert committed == [1]

        refused = client.post(url, json={"status": "nieuw"}, headers=anna)
        assert refused.status_code == 409
        assert refused.json() == {
            "detail": "Status 'In behandeling' kan niet naar 'Nieuw'.",
            "current": "in_behandeling",
            "allowed": ["wacht_op_bewoner", "afgehandeld", "afgewezen"],
        }
        assert client.post(url, json={"status": "weg"}, headers=anna).status_code == 422
        assert client.post(url, json={}, headers=anna).status_code == 422
        too_long = {"status": "afgehandeld", "message": "x" * (actions.MAX_MESSAGE_LENGTH + 1)}
        assert client.post(url, json=too_long, headers=anna).status_code == 422

        done = client.post(
            url, json={"status": "afgehandeld", "message": "De zaal is geboekt."}, headers=anna
        )
        assert done.status_code == 200 and done.json()["allowed_next"] == ["heropend"]
        again = client.post(url, json={"status": "in_behandeling"}, headers=anna)
        assert again.status_code == 409 and again.json()["allowed"] == ["heropend"]

        other = client.post(url, json={"status": "heropend"}, headers=bearer(world.tokens["bert"]))
        assert other.status_code == 404
        assert committed == [1, 2]

        history = client.get(f"/api/requests/{request_id}", headers=anna).json()["history"]
    statuses = [
        (e["old_value"], e["new_value"], e["actor"]) for e in history if e["kind"] == "status"
    ]
    assert statuses == [
        ("nieuw", "in_behandeling", "anna"),
        ("in_behandeling", "afgehandeld", "anna"),
    ]
    with world.sessions() as session:
        texts = [
            row.payload["text"]
            for row in session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.kind == "resident")
                .order_by(OutboxMessage.id)
            )
        ]
    # One message per change for the resident, though the request has two needs.
    assert len(texts) == 2
    assert world.knowledge.status_message("in_behandeling", "nl") in texts[0]
    assert refs.multi in texts[1] and "De zaal is geboekt." in texts[1]


def test_a_message_goes_to_the_resident_through_the_outbox(world: World, refs: Refs) -> None:
    request_id = refs.ids["permit"]
    url = f"/api/requests/{request_id}/messages"
    bert = bearer(world.tokens["bert"])
    with world.client() as client:
        response = client.post(
            url, json={"text": "Hoeveel bezoekers verwacht u precies?"}, headers=bert
        )
        assert response.status_code == 201, response.text
        assert response.json()["history"][-1]["kind"] == "message_out"
        for text in ("", "   ", "x" * (actions.MAX_MESSAGE_LENGTH + 1)):
            assert client.post(url, json={"text": text}, headers=bert).status_code == 422
        assert client.post(url, json={}, headers=bert).status_code == 422
        assert (
            client.post(url, json={"text": "Hoi"}, headers=bearer(world.tokens["anna"])).status_code
            == 404
        )
    with world.sessions() as session:
        [row] = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "resident"))
        assert row.channel == "telegram" and row.request_id == request_id
        assert row.payload["chat_id"] == "4"
        assert refs.permit in row.payload["text"]
        assert "Hoeveel bezoekers verwacht u precies?" in row.payload["text"]
        assert row.delivered_at is None and row.attempts == 0


@pytest.mark.rasa
def test_interpret_is_what_the_command_says_and_health_sees_rasa(
    world: World, rasa_url: str
) -> None:
    text = "Wij willen €750 voor een straatfeest en 20 dranghekken"
    with world.client(rasa_url=rasa_url) as client:
        response = client.post(
            "/api/interpret", json={"text": text}, headers=bearer(world.tokens["bert"])
        )
        assert response.status_code == 200, response.text
        health = client.get("/healthz").json()

    async def command() -> Understanding:  # what `wegwijs interpret` prints
        nlu = RasaClient(rasa_url, TOKEN)
        try:
            return await understand(nlu, world.knowledge, text, TODAY)
        finally:
            await nlu.aclose()

    assert response.json() == asdict(asyncio.run(command()))
    assert set(response.json()["needs"]) == {"tools", "budget"}
    assert response.json()["slots"]["amount"] == "750.00"
    assert response.json()["language"] == "nl"
    assert health["checks"]["rasa"] == {"status": "ok"}
    assert health["checks"]["database"] == {"status": "ok"}


def test_interpret_refuses_long_text_and_says_when_rasa_is_down(world: World) -> None:
    token = bearer(world.tokens["anna"])
    with world.client(max_message_length=40) as client:  # no Rasa on this port
        long = client.post("/api/interpret", json={"text": "x" * 41}, headers=token)
        assert long.status_code == 422 and "40" in long.json()["detail"]
        assert client.post("/api/interpret", json={"text": ""}, headers=token).status_code == 422
        down = client.post("/api/interpret", json={"text": "Ik wil een zaal"}, headers=token)
        assert down.status_code == 503
        assert "NLU" in down.json()["detail"]


def test_health_reports_database_rasa_bot_and_delivery(world: World) -> None:
    with world.client() as client:
        response = client.get("/healthz")
        assert response.status_code == 200  # the app serves without Rasa and bot
        body = response.json()
        assert body["status"] == "degraded"
        assert body["checks"]["database"] == {"status": "ok"}
        assert body["checks"]["rasa"]["status"] == "down"
        assert body["checks"]["bot"]["status"] == "down"
        assert body["checks"]["delivery"]["status"] == "down"

        with world.sessions.begin() as session:
            session.merge(Heartbeat(name="bot", detail="telegram, long polling", seen_at=utc_now()))
            session.merge(Heartbeat(name="delivery", seen_at=utc_now()))
        checks = client.get("/healthz").json()["checks"]
        assert checks["bot"] == {"status": "ok", "detail": "telegram, long polling"}
        assert checks["delivery"]["status"] == "ok"

        with world.sessions.begin() as session:
            session.merge(Heartbeat(name="bot", seen_at=utc_now() - timedelta(minutes=5)))
        assert client.get("/healthz").json()["checks"]["bot"]["status"] == "down"

    # A database that cannot be reached: the app is down (503), so orchestrators restart it.
    engine = make_engine(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nothing")
    try:
        with world.client(sessions=make_session_factory(engine)) as client:
            response = client.get("/healthz")
        assert response.status_code == 503
        assert response.json()["status"] == "down"
        assert response.json()["checks"]["database"]["status"] == "down"
    finally:
        engine.dispose()


def test_the_openapi_document_describes_every_endpoint(world: World) -> None:
    with world.client() as client:
        document = client.get("/api/openapi.json").json()
    operations = {
        (path, method): operation
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    }
    assert set(operations) == {
        ("/api/requests", "get"),
        ("/api/requests/{request_id}", "get"),
        ("/api/requests/{request_id}/status", "post"),
        ("/api/requests/{request_id}/messages", "post"),
        ("/api/interpret", "post"),
        ("/healthz", "get"),
        ("/api/admin/intents", "get"),
        ("/api/admin/intents/{name}/examples", "post"),
        ("/api/admin/routing/rules", "get"),
        ("/api/admin/routing/rules", "put"),
        ("/api/admin/inbox", "get"),
        ("/api/admin/inbox/{entry_id}", "post"),
        ("/api/admin/nlu/train", "post"),
        ("/api/admin/nlu/runs/{run_id}", "get"),
    }  # the pages are not part of the API
    for (path, _), operation in operations.items():
        assert operation.get("summary") and operation.get("description"), path
        if path.startswith("/api/"):
            assert "401" in operation["responses"], path
            assert operation["security"] == [{"HTTPBearer": []}], path
        if path.startswith("/api/admin/"):
            assert "403" in operation["responses"], path
    assert "404" in operations[("/api/requests/{request_id}", "get")]["responses"]
    assert "409" in operations[("/api/requests/{request_id}/status", "post")]["responses"]
    assert "503" in operations[("/api/interpret", "post")]["responses"]
    parameters = {p["name"] for p in operations[("/api/requests", "get")]["parameters"]}
    assert {"status", "need", "neighbourhood", "department", "overdue", "assigned", "q",
            "include_closed", "page", "per_page"} <= parameters  # fmt: skip
    schemas = document["components"]["schemas"]
    assert set(schemas["RequestOut"]["properties"]) == ITEM_FIELDS
    assert {"resident", "history", "allowed_next", "related"} <= set(
        schemas["RequestDetail"]["properties"]
    )

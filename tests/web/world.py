"""A small municipality for the API and authorisation tests: department A (vastgoed) and B
(vergunningen), an official of each, an admin, their API tokens, and the app over the real
database, called in-process through FastAPI's TestClient."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from bot import accounts
from bot.knowledge import Knowledge
from bot.knowledge.store import KnowledgeSource
from bot.learning.rasa_commands import free_port
from bot.nlu.client import RasaClient
from bot.queue import actions
from bot.settings import Settings
from bot.storage import repositories as repo
from bot.storage.models import Request, User
from tests.rasa_server import TOKEN
from tests.support import TODAY, store
from web.app import create_app
from web.context import AppContext

PASSWORD = "correct horse battery"
A, B = "vastgoed", "vergunningen"


@dataclass
class World:
    sessions: sessionmaker[Session]
    knowledge: Knowledge
    tokens: dict[str, str] = field(default_factory=dict)  # username -> API token
    user_ids: dict[str, int] = field(default_factory=dict)

    @classmethod
    def with_staff(cls, sessions: sessionmaker[Session], knowledge: Knowledge) -> World:
        """anna, official of A; bert, official of B; ada, admin; each with an API token."""
        world = cls(sessions, knowledge)
        world.add_user("anna", "official", A)
        world.add_user("bert", "official", B)
        world.add_user("ada", "admin")
        return world

    def add_user(self, username: str, role: str, *departments: str) -> None:
        with self.sessions.begin() as session:
            user = accounts.create_user(
                session, username, PASSWORD, role=role, departments=list(departments)
            )
            self.tokens[username] = accounts.create_token(session, user)
            self.user_ids[username] = user.id

    def add_request(
        self,
        needs: list[str],
        *,
        chat: str,
        answers: dict[str, Any] | None = None,
        due: date = date(2026, 12, 1),
        name: str | None = None,
    ) -> tuple[int, str]:
        """A request as the bot stores it (routing, parts, history, webhooks): (id, reference)."""
        with self.sessions.begin() as session:
            resident = repo.resident_for(session, "telegram", chat, "nl")
            repo.conversation_for(session, resident)  # where a reply goes
            contact = {"name": name, "phone": "+31612345678"} if name else {}
            request = store(
                session, self.knowledge, resident, needs, {**(answers or {}), **contact}
            )
            request.due_at = due
            actions.record_created(session, request)
            session.flush()
            return request.id, request.reference or ""

    def request(self, session: Session, request_id: int) -> Request:
        request = session.get(Request, request_id)
        assert request is not None
        return request

    def user(self, session: Session, username: str) -> User:
        user = accounts.user_by_name(session, username)
        assert user is not None
        return user

    def client(
        self,
        rasa_url: str | None = None,
        wake: Callable[[], None] = lambda: None,
        sessions: sessionmaker[Session] | None = None,
        **settings: Any,
    ) -> TestClient:
        """The app over this database. Use it as a context manager: one event loop for all
        its requests, so the Rasa client's connections stay usable."""
        config = Settings(
            secret_key="test-secret",
            rasa_url=rasa_url or f"http://127.0.0.1:{free_port()}",
            rasa_token=TOKEN,
            **settings,
        )
        context = AppContext(
            config,
            KnowledgeSource(sessions or self.sessions),
            sessions or self.sessions,
            RasaClient(config.rasa_url, config.rasa_token, config.rasa_timeout_seconds),
            today=lambda: TODAY,
            wake_delivery=wake,
        )
        return TestClient(create_app(context), follow_redirects=False)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}

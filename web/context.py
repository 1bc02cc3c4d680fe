"""What every route needs, built once per app: settings, knowledge and database sessions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.orm import Session, sessionmaker

from bot.knowledge import Knowledge
from bot.knowledge.store import KnowledgeSource
from bot.nlu.client import RasaClient
from bot.settings import Settings


@dataclass
class AppContext:
    settings: Settings
    knowledge_source: KnowledgeSource
    sessions: sessionmaker[Session]
    nlu: RasaClient
    today: Callable[[], date] = field(default=date.today)
    # Called after a change that put something in the outbox, so it goes out at once.
    wake_delivery: Callable[[], None] = field(default=lambda: None)

    @property
    def knowledge(self) -> Knowledge:
        """The knowledge as admins left it: an edit shows on the next page."""
        return self.knowledge_source.current()

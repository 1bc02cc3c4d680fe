"""Builds the running pieces from the one Settings object."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from bot.conversation import ConversationService
from bot.knowledge import Knowledge, load_knowledge
from bot.nlu.client import RasaClient
from bot.settings import Settings
from bot.storage import repositories as repo
from bot.storage.database import make_engine, make_session_factory, upgrade


def prepare_database(settings: Settings, knowledge: Knowledge) -> sessionmaker[Session]:
    """Migrate the schema and fill defaults on first start, then hand out sessions."""
    engine = make_engine(settings.database_url)
    upgrade(engine)
    sessions = make_session_factory(engine)
    with sessions.begin() as session:
        repo.seed_from_knowledge(session, knowledge)
    return sessions


def database(settings: Settings) -> sessionmaker[Session]:
    """The migrated, seeded database, for commands that need nothing else."""
    return prepare_database(settings, load_knowledge(settings.knowledge_dir))


def rasa_client(settings: Settings) -> RasaClient:
    return RasaClient(settings.rasa_url, settings.rasa_token, settings.rasa_timeout_seconds)


def build_service(settings: Settings) -> ConversationService:
    knowledge = load_knowledge(settings.knowledge_dir)
    return ConversationService(
        knowledge,
        prepare_database(settings, knowledge),
        rasa_client(settings),
        max_message_length=settings.max_message_length,
    )

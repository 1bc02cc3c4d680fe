"""Shared fixtures: the knowledge, and real databases (PostgreSQL and SQLite) for every
test that stores something."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from bot.knowledge import Knowledge, store
from bot.knowledge.bundle import Bundle
from bot.settings import Settings
from bot.storage.database import make_engine, make_session_factory, upgrade
from bot.storage.models import Base
from tests.support import DATABASES, POSTGRES_ADMIN_URL
from wegwijs.assembly import default_bundle


@pytest.fixture(scope="session")
def bundle() -> Bundle:
    """The shipped knowledge and training data, as a first start reads it."""
    return default_bundle(Settings())


@pytest.fixture(scope="session")
def knowledge(bundle: Bundle) -> Knowledge:
    return bundle.knowledge()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A database of its own for this test run, dropped afterwards."""
    name = f"wegwijs_test_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    yield url
    with admin.connect() as connection:
        connection.execute(
            text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
            {"n": name},
        )
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty, migrated database: each test runs once on PostgreSQL and once on SQLite."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'wegwijs.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    upgrade(engine)
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
    engine.dispose()
    yield url


@pytest.fixture
def sessions(database_url: str, bundle: Bundle) -> Iterator[sessionmaker[Session]]:
    """The database with the shipped knowledge, as after a first start."""
    engine = make_engine(database_url)
    factory = make_session_factory(engine)
    with factory.begin() as session:
        store.seed(session, bundle)
    yield factory
    engine.dispose()


@pytest.fixture(scope="session")
def rasa_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real Rasa server with the trained model (started once, about 25 seconds)."""
    from tests.rasa_server import running_rasa

    with running_rasa(tmp_path_factory.mktemp("rasa") / "rasa.log") as url:
        yield url

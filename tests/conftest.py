"""Shared fixtures: the knowledge, and real databases (PostgreSQL and SQLite) for every
test that stores something."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.knowledge import Knowledge
from bot.knowledge.bundle import Bundle
from bot.settings import Settings
from bot.storage.database import make_engine, make_session_factory
from tests.databases import Templates, postgres_database
from tests.support import DATABASES
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
    """A PostgreSQL database of its own for this test run, dropped afterwards."""
    with postgres_database() as url:
        yield url


@pytest.fixture(scope="session")
def templates(bundle: Bundle, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Templates]:
    made = Templates(tmp_path_factory.mktemp("templates"), bundle)
    yield made
    made.close()


@pytest.fixture(params=DATABASES)
def database_url(
    request: pytest.FixtureRequest, templates: Templates, tmp_path: Path
) -> Iterator[str]:
    """A migrated database of the test's own, once on PostgreSQL and once on SQLite: empty, or
    with the shipped knowledge when the test also asks for `sessions` (the same database)."""
    seeded = "sessions" in request.fixturenames
    with templates.copy(request.param, seeded, tmp_path) as url:
        yield url


@pytest.fixture
def sessions(database_url: str) -> Iterator[sessionmaker[Session]]:
    """The database with the shipped knowledge, as after a first start."""
    engine = make_engine(database_url)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture(scope="session")
def rasa_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real Rasa server with the trained model (started once, about 25 seconds)."""
    from tests.rasa_server import running_rasa

    with running_rasa(tmp_path_factory.mktemp("rasa") / "rasa.log") as url:
        yield url

"""Real databases for the tests, made once per run and copied per test: migrating and seeding
the shipped knowledge (3,600 training examples) takes seconds, a copy a fraction of one.

PostgreSQL copies a template database (CREATE DATABASE … TEMPLATE), SQLite copies the file
through SQLite's backup API (safe with WAL)."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, closing, contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from bot.knowledge import store
from bot.knowledge.bundle import Bundle
from bot.storage.database import make_engine, make_session_factory, upgrade
from tests.support import POSTGRES_ADMIN_URL


def _admin() -> Engine:
    return create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")


def _url(name: str) -> str:
    return make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


@contextmanager
def postgres_database(template: str | None = None) -> Iterator[str]:
    """A PostgreSQL database of its own (a copy of `template`, a database name), dropped
    afterwards even while a killed bot's connections linger."""
    name = f"wegwijs_test_{uuid.uuid4().hex[:10]}"
    admin = _admin()
    copy = f' TEMPLATE "{template}"' if template else ""
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"{copy}'))
    try:
        yield _url(name)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _prepare(url: str, bundle: Bundle | None) -> None:
    """Migrate, and seed the shipped knowledge when a bundle is given."""
    engine = make_engine(url)
    upgrade(engine)
    if bundle is not None:
        with make_session_factory(engine).begin() as session:
            store.seed(session, bundle)
    engine.dispose()  # a template must have no connections left


class Templates:
    """Per database kind, a migrated database, empty or seeded, made on first use."""

    def __init__(self, folder: Path, bundle: Bundle) -> None:
        self.folder, self.bundle = folder, bundle
        self._made: dict[tuple[str, bool], str] = {}
        self._databases = ExitStack()

    def _template(self, kind: str, seeded: bool) -> str:
        """The template's database name (PostgreSQL) or file path (SQLite)."""
        if (kind, seeded) not in self._made:
            bundle = self.bundle if seeded else None
            if kind == "sqlite":
                path = self.folder / f"template-{'seeded' if seeded else 'empty'}.db"
                _prepare(f"sqlite:///{path}", bundle)
                self._made[kind, seeded] = str(path)
            else:
                url = self._databases.enter_context(postgres_database())
                _prepare(url, bundle)
                self._made[kind, seeded] = make_url(url).database or ""
        return self._made[kind, seeded]

    @contextmanager
    def copy(self, kind: str, seeded: bool, folder: Path) -> Iterator[str]:
        """A database URL of a fresh copy; PostgreSQL's is dropped afterwards."""
        template = self._template(kind, seeded)
        if kind == "sqlite":
            path = folder / "wegwijs.db"
            with (
                closing(sqlite3.connect(template)) as source,
                closing(sqlite3.connect(path)) as target,
            ):
                source.backup(target)
            yield f"sqlite:///{path}"
        else:
            with postgres_database(template) as url:
                yield url

    def close(self) -> None:
        self._databases.close()

"""Alembic environment: runs on the connection that bot.storage.database.upgrade hands in."""

from alembic import context
from sqlalchemy import create_engine

from bot.settings import get_settings
from bot.storage.models import Base

config = context.config
connection = config.attributes.get("connection")

if connection is None:  # plain `alembic` command line: use the configured database
    with create_engine(get_settings().database_url).connect() as own_connection:
        context.configure(connection=own_connection, target_metadata=Base.metadata)
        with context.begin_transaction():
            context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=Base.metadata)
    with context.begin_transaction():
        context.run_migrations()

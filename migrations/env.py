"""Alembic environment: runs as the owner role, against `DATABASE_OWNER_URL` unless the caller
(`afterview migrate`, the tests) passes a URL in `config.attributes["database_url"]`."""

import os

from alembic import context
from sqlalchemy import create_engine, pool, text

from app.core.db import SYNC_DRIVER, to_sqlalchemy_url
from app.models import Base

config = context.config
target_metadata = Base.metadata


def database_url() -> str:
    url = config.attributes.get("database_url") or os.environ.get("DATABASE_OWNER_URL")
    if not url:
        raise SystemExit("set DATABASE_OWNER_URL (the owner role) to run migrations")
    return to_sqlalchemy_url(url, SYNC_DRIVER).render_as_string(hide_password=False)


def run_migrations_offline() -> None:
    context.configure(url=database_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = create_engine(database_url(), poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection, target_metadata=target_metadata, compare_server_default=True
        )
        with context.begin_transaction():
            # Two processes migrating at once (a deploy racing a CLI call) take turns.
            connection.execute(text("SELECT pg_advisory_xact_lock(hashtext('afterview-migrate'))"))
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()

"""Models and migrations agree (`alembic check`), and the chain is linear."""

from alembic import command
from alembic.script import ScriptDirectory

from app.core.provision import DatabaseUrls, alembic_config


def test_models_and_migrations_agree(database_urls: DatabaseUrls) -> None:
    command.check(alembic_config(database_urls.owner))


def test_migration_history_is_linear(database_urls: DatabaseUrls) -> None:
    script = ScriptDirectory.from_config(alembic_config(database_urls.owner))
    assert len(script.get_heads()) == 1
    assert len(script.get_bases()) == 1

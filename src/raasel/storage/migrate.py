"""Apply the migrations (``raasel migrate``): Alembic configured in code, and the CQL schema."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config

if TYPE_CHECKING:
    from raasel.config import Settings

_HERE = Path(__file__).resolve().parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_HERE))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str) -> None:
    """Bring the database to the newest schema. Must run outside an event loop."""
    if database_url.startswith("sqlite"):
        path = database_url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(database_url), "head")


def upgrade_all(settings: Settings) -> list[str]:
    """Migrate every store the settings use: SQL (Alembic), and the CQL schema if chosen."""
    upgrade(settings.resolved_database_url)
    done = ["database"]
    if settings.message_store == "cassandra":
        from raasel.storage import cassandra_schema
        from raasel.storage.cassandra_session import CassandraOptions

        cassandra_schema.upgrade(CassandraOptions.from_settings(settings))
        done.append(f"cassandra keyspace {settings.cassandra_keyspace}")
    return done

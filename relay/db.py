"""Database wiring: the tortoise config, start-up, migrations. (The open connection is `infra.db.db()`.)"""

from __future__ import annotations

from typing import Any

from tortoise import Tortoise
from tortoise.migrations.api import migrate as tortoise_migrate

from models import MODEL_MODULES


def connection_name(db_url: str) -> str:
    # Named by backend: tortoise caches compiled queries per connection name, so one process that
    # opens SQLite and later PostgreSQL (the test suite does) must not reuse a name.
    return "relay_" + db_url.split(":", 1)[0].replace("postgresql", "postgres")


def tortoise_config(db_url: str) -> dict[str, Any]:
    name = connection_name(db_url)
    return {
        "connections": {name: db_url},
        "apps": {
            "models": {
                "models": MODEL_MODULES,
                "migrations": "models.migrations",
                "default_connection": name,
            }
        },
        "use_tz": True,
        "timezone": "UTC",  # stored in UTC: SQLite compares datetimes as text
    }


async def migrate(db_url: str) -> None:
    """Bring the schema up to date. Safe to run on every start and from several processes in turn."""
    await tortoise_migrate(config=tortoise_config(db_url))
    await Tortoise.close_connections()


async def open_db(db_url: str) -> None:
    await Tortoise.init(config=tortoise_config(db_url))


async def close_db() -> None:
    await Tortoise.close_connections()

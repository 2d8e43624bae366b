"""The open database connection, for the few queries written in SQL (job claims, stats, the health check).

Opening, closing and migrating it is start-up work and lives with the wiring, in `relay.db`.
"""

from __future__ import annotations

from tortoise import BaseDBAsyncClient, connections


def db() -> BaseDBAsyncClient:
    """The open connection (whichever backend)."""
    return connections.get(next(iter(connections.db_config)))

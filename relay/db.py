"""Database wiring: the tortoise config, start-up, migrations. (The open connection is `infra.db.db()`.)"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import asyncpg
from tortoise import Tortoise
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.context import TortoiseContext, get_current_context
from tortoise.exceptions import ConfigurationError
from tortoise.migrations.api import migrate as tortoise_migrate

from models import MODEL_MODULES, Staff
from relay.schema import create_from_snapshot


def connection_name(db_url: str) -> str:
    # Named by backend: tortoise caches compiled queries per connection name, so one process that
    # opens SQLite and later PostgreSQL (the test suite does) must not reuse a name.
    return "relay_" + db_url.split(":", 1)[0].replace("postgresql", "postgres")


class PooledConnection(asyncpg.Connection):  # type: ignore[misc]
    """A pooled PostgreSQL connection handed back without a reset round trip.

    asyncpg resets a connection on every release to the pool (advisory locks, cursors, LISTEN,
    session settings), one more round trip per query outside a transaction: a third of what the
    WeCom callback costs. Relay leaves none of those behind on a pooled connection (no advisory locks,
    no SET, no cursors, no LISTEN), and an open transaction is still rolled back on release."""

    def get_reset_query(self) -> str:
        return ""


# SQLite's write-ahead log is cut back to this size after a checkpoint. Tortoise's own default, 16 KB,
# is below what the log reaches between two checkpoints (about 4 MB), and with it every commit cost
# about 110 µs more (a bare insert 300 µs instead of 190): the log is truncated and grown again.
SQLITE_WAL_LIMIT = 64 * 1024 * 1024


def _connection(db_url: str) -> dict[str, Any]:
    spec = expand_db_url(db_url)
    if spec["engine"] == "tortoise.backends.asyncpg":
        spec["credentials"]["connection_class"] = PooledConnection
    if spec["engine"] == "tortoise.backends.sqlite" and "journal_size_limit=" not in db_url:
        spec["credentials"]["journal_size_limit"] = SQLITE_WAL_LIMIT  # unless the URL names one
    return spec


def tortoise_config(db_url: str) -> dict[str, Any]:
    name = connection_name(db_url)
    return {
        "connections": {name: _connection(db_url)},
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
    """Bring the schema up to date. Safe to run on every start and from several processes in turn.

    An empty database is made from the schema snapshot in one step (relay/schema.py); any other takes
    tortoise's migrations from where it stands."""
    if await create_from_snapshot(db_url):
        return
    with fewer_collections():
        await tortoise_migrate(config=tortoise_config(db_url))
    await Tortoise.close_connections()


@contextlib.contextmanager
def fewer_collections() -> Iterator[None]:
    """Python's collector, held back while tortoise replays the migrations: it rebuilds the state of every
    earlier migration, making thousands of short-lived model classes, and at the default thresholds the
    collector walked everything the process had loaded several times a second meanwhile (a replay from
    empty: 5.5–6.6 s of CPU with the defaults, 4.8–5.1 s held back; bench/migrate_bench.py). What is loaded
    already is set aside (`gc.freeze`) and young collections wait for 100,000 allocations; both are put
    back after. A process that froze its objects itself (the test process does) keeps them frozen."""
    before = gc.get_threshold()
    freezing = gc.get_freeze_count() == 0
    if freezing:
        gc.freeze()
    gc.set_threshold(100_000, 50, 100)
    try:
        yield
    finally:
        gc.set_threshold(*before)
        if freezing:
            gc.unfreeze()


@dataclass
class _Kept:
    """A database this process keeps open (`kept_open`), and how many have it open now (`open_db`)."""

    url: str
    context: TortoiseContext
    users: int = 0


_KEPT: dict[str, _Kept] = {}
_INNER: list[TortoiseContext] = []  # contexts open_db made for other databases inside a kept one's


@contextlib.asynccontextmanager
async def kept_open(db_url: str) -> AsyncIterator[None]:
    """Keep the database open in this process while this lasts: `open_db` at the same URL then takes
    these connections, already warm, and `close_db` hands them back open.

    For a process that opens one database again and again: the test suite starts a Relay per test. Each
    start opened a pool of new PostgreSQL connections, and a new connection's first statements cost both
    sides (PostgreSQL reads each table's catalog entries again, asyncpg prepares each statement again):
    the suite's PostgreSQL tests took 259 s of CPU and PostgreSQL 77 s, 216 s and 42 s with their database
    kept open (bench/results/suite.md). Opened and closed from one task at a time (the tests' runner task,
    where every test and fixture runs). Relay's own commands open their database once and never use this."""
    kept = _Kept(db_url, await _set_up(db_url))
    _KEPT[db_url] = kept
    try:
        yield
    finally:
        del _KEPT[db_url]
        await kept.context.close_connections()


async def _set_up(db_url: str) -> TortoiseContext:
    """A tortoise context of its own for the database, current only while it is set up."""
    context = TortoiseContext()
    with context:
        await Tortoise.init(config=tortoise_config(db_url))
    return context


async def open_db(db_url: str) -> None:
    """Open the database for the current task and the tasks it starts (the app's loops and requests)."""
    kept = _KEPT.get(db_url)
    if kept is None:
        if any(k.context is get_current_context() for k in _KEPT.values()):
            # Another database opened while a kept one is current gets a context of its own (tortoise would
            # set the current one up anew for it), left by close_db for the kept one's again.
            inner = TortoiseContext()
            inner.__enter__()
            _INNER.append(inner)
        await Tortoise.init(config=tortoise_config(db_url))
        return
    if kept.users == 0:
        if not _still_opens(kept):
            await kept.context.close_connections()
            kept.context = await _set_up(db_url)
        kept.context.__enter__()
    kept.users += 1


def _still_opens(kept: _Kept) -> bool:
    """False if tortoise's own calls (a migration replayed in this process) have since set the kept context
    up for another database or closed it, or bound the models to another backend's connection."""
    name = connection_name(kept.url)
    try:
        config = kept.context.connections.db_config
    except ConfigurationError:  # closed
        return False
    return config == {name: _connection(kept.url)} and Staff._meta.default_connection == name


async def close_db() -> None:
    """Close what `open_db` opened for the current task; a database kept open stays open."""
    current = get_current_context()
    kept = next((k for k in _KEPT.values() if k.users and k.context is current), None)
    if kept is None:
        await Tortoise.close_connections()
        if _INNER and _INNER[-1] is current:
            _INNER.pop().__exit__(None, None, None)
        return
    kept.users -= 1
    if kept.users == 0:
        kept.context.__exit__(None, None, None)

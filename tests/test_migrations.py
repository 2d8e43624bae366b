"""The migrations build the same schema on SQLite and PostgreSQL, with the indexes the queries need; a new
database made from the schema snapshot is the one the migrations make."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import asyncpg
import pytest

from relay.db import migrate
from relay.schema import create_from_snapshot, current_snapshot, dump_postgres, dump_sqlite, snapshot_path
from tests.upgrade import XDIST_GROUP

NEEDED = {
    "order": ["measured_at", "designed_at", "confirmed_at", "in_stock_at", "installed_at", "created_at", "org_unit_id"],
    "order_event": ["order_id"],
    "task": ["order_id", "assignee_id"],
    "order_item": ["order_id"],
    "payment": ["order_id", "created_at"],
    "order_piece": ["order_id", "item_id", "production_number"],
    "attachment": ["order_id"],
    "job": ["due_at"],
    "inbox": ["state"],
    "outbox": ["next_attempt_at"],
    "approval": ["order_id", "unit_id"],
    "dealer_order": ["dealer_id", "created_at"],
    "dealer_order_line": ["order_id"],
    "dealer_piece": ["order_id", "production_number"],
    "stock_level": ["product_id", "warehouse_id"],
    "stock_move": ["product_id", "ref"],
}


async def leading_columns(url: str) -> dict[str, set[str]]:
    """For each table, the columns some index starts with."""
    found: dict[str, set[str]] = {t: set() for t in NEEDED}
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.removeprefix("sqlite://"))
        try:
            for table in NEEDED:
                for index in conn.execute(f'PRAGMA index_list("{table}")').fetchall():
                    first = conn.execute(f'PRAGMA index_info("{index[1]}")').fetchone()
                    found[table].add(first[2])
        finally:
            conn.close()
        return found
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT t.relname AS tbl, a.attname AS col FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid"
            " JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = i.indkey[0] WHERE t.relname = ANY($1)",
            list(NEEDED),
        )
    finally:
        await conn.close()
    for row in rows:
        found[row["tbl"]].add(row["col"])
    return found


async def test_every_hot_column_is_indexed(database: str) -> None:
    found = await leading_columns(database)
    missing = {t: [c for c in cols if c not in found[t]] for t, cols in NEEDED.items()}
    assert not {t: c for t, c in missing.items() if c}, missing


@pytest.mark.xdist_group(XDIST_GROUP)
async def test_the_schema_snapshot_is_what_the_migrations_make(upgraded_database: str) -> None:
    """The database upgraded through every migration (tests/upgrade.py) has the snapshot's schema: what a new
    install is made from is what an upgraded one has. (Records do not change a schema's dump.)"""
    kind = "sqlite" if upgraded_database.startswith("sqlite") else "postgres"
    stored = current_snapshot(kind)
    assert stored is not None, f"{snapshot_path(kind)} does not match models/migrations: run python -m relay.schema"
    made = dump_sqlite(upgraded_database) if kind == "sqlite" else dump_postgres(upgraded_database)
    assert stored.split("\n", 1)[1] == made, "the snapshot differs from the migrations: run python -m relay.schema"


async def test_a_new_database_is_made_from_the_snapshot_and_then_migrates_as_usual(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path / f'new-{uuid.uuid4().hex[:6]}.sqlite3'}"
    await migrate(url)
    with sqlite3.connect(url.removeprefix("sqlite://")) as conn:
        applied = [name for (name,) in conn.execute("SELECT name FROM tortoise_migrations ORDER BY id")]
    assert applied == sorted(p.stem for p in Path("models/migrations").glob("0*.py"))
    # A database that is no longer empty is left to the migrations: nothing made twice, nothing lost.
    assert not await create_from_snapshot(url)
    await migrate(url)
    assert dump_sqlite(url) == current_snapshot("sqlite").split("\n", 1)[1]  # type: ignore[union-attr]


@pytest.mark.xdist_group(XDIST_GROUP)
def test_the_tests_of_the_upgraded_database_share_a_worker(request: pytest.FixtureRequest) -> None:
    """Under `--dist loadgroup` (scripts/test) an xdist worker names each test of a group with it
    (`…@upgrade`), and the controller sends a group to one worker by that name. Where the name is lost
    (pytest 9.2 with pytest-xdist 3.8: pytest-dev/pytest-xdist#1386) nothing else fails: every worker
    makes the upgraded databases again, a minute of CPU."""
    if not getattr(request.config.option, "loadgroup", False):  # set in xdist's workers under --dist loadgroup
        pytest.skip("not run under --dist loadgroup")
    assert request.node.nodeid.endswith(f"@{XDIST_GROUP}"), request.node.nodeid

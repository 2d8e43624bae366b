"""The migrations build the same schema on SQLite and PostgreSQL, with the indexes the queries need."""

from __future__ import annotations

import sqlite3

import asyncpg

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

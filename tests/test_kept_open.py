"""A database kept open in the process (relay/db.py `kept_open`, as the tests' session databases are): each
Relay opened on it takes the same warm connections, and it is never taken over by another database that
tortoise sets up in the same task meanwhile."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

from tortoise import Tortoise

from infra.db import db
from relay.db import close_db, open_db, tortoise_config
from tests.support import fresh_database


@contextlib.asynccontextmanager
async def opened(url: str) -> AsyncIterator[None]:
    """The database opened as a Relay opens and closes it."""
    await open_db(url)
    try:
        yield
    finally:
        await close_db()


async def which_database() -> str:
    conn = db()
    if conn.capabilities.dialect == "postgres":
        return str(await conn.execute_query_dict("SELECT current_database() AS name"))
    return str((await conn.execute_query_dict("PRAGMA database_list"))[0]["file"])


async def which_connection() -> str:
    """PostgreSQL's backend; on SQLite, a mark left in a temporary table (which only its connection sees)."""
    conn = db()
    if conn.capabilities.dialect == "postgres":
        return str(await conn.execute_query_dict("SELECT pg_backend_pid() AS pid"))
    await conn.execute_script("CREATE TEMP TABLE IF NOT EXISTS kept_mark (mark TEXT)")
    rows = await conn.execute_query_dict("SELECT mark FROM temp.kept_mark")
    if not rows:
        await conn.execute_query("INSERT INTO temp.kept_mark VALUES (?)", [uuid.uuid4().hex])
        rows = await conn.execute_query_dict("SELECT mark FROM temp.kept_mark")
    return str(rows[0]["mark"])


async def test_each_opening_takes_the_same_warm_connection(database: str) -> None:
    async with opened(database):
        first = await which_connection()
    async with opened(database):
        assert await which_connection() == first


async def test_another_database_set_up_meanwhile_does_not_take_its_place(database: str, tmp_path: Path) -> None:
    async with fresh_database(database, tmp_path) as other:
        async with opened(database):
            ours = await which_database()
            # What tests/upgrade.py does while the task has the kept one current: tortoise's own calls for
            # another database (as its migrate does), which set the current context up for that one.
            await Tortoise.init(config=tortoise_config(other))
            assert await which_database() != ours
            await Tortoise.close_connections()
        async with opened(database):
            assert await which_database() == ours


async def test_another_database_opened_inside_leaves_the_kept_one_as_it_was(database: str, tmp_path: Path) -> None:
    async with fresh_database(database, tmp_path) as other:
        async with opened(database):
            ours, connection = await which_database(), await which_connection()
            async with opened(other):
                assert await which_database() != ours
            assert (await which_database(), await which_connection()) == (ours, connection)

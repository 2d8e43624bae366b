"""A database kept open in the process (relay/db.py `kept_open`, as the tests' session databases are): each
Relay opened on it takes the same warm connections, and it is never taken over by another database that
tortoise sets up in the same task meanwhile."""

from __future__ import annotations

from pathlib import Path

from tortoise import Tortoise

from infra.db import db
from relay.db import close_db, open_db, tortoise_config
from tests.support import fresh_database


async def where_am_i() -> tuple[object, ...]:
    """Which database and which connection the open database answers from."""
    conn = db()
    if conn.capabilities.dialect == "postgres":
        return tuple(
            (await conn.execute_query_dict("SELECT current_database() AS db, pg_backend_pid() AS pid"))[0].values()
        )
    rows = await conn.execute_query_dict("PRAGMA database_list")
    return (rows[0]["file"], id(conn))


async def test_each_opening_takes_the_same_warm_connection(database: str) -> None:
    await open_db(database)
    try:
        first = await where_am_i()
    finally:
        await close_db()
    await open_db(database)
    try:
        assert await where_am_i() == first
    finally:
        await close_db()


async def test_another_database_set_up_meanwhile_does_not_take_its_place(database: str, tmp_path: Path) -> None:
    async with fresh_database(database, tmp_path) as other:
        await open_db(database)
        try:
            ours = await where_am_i()
            # What tests/upgrade.py does while the task has the kept one current: tortoise's own calls for
            # another database (as its migrate does), which set the current context up for that one.
            await Tortoise.init(config=tortoise_config(other))
            assert (await where_am_i())[0] != ours[0]
            await Tortoise.close_connections()
        finally:
            await close_db()
        await open_db(database)
        try:
            assert (await where_am_i())[0] == ours[0]
        finally:
            await close_db()


async def test_another_database_opened_inside_leaves_the_kept_one_as_it_was(database: str, tmp_path: Path) -> None:
    async with fresh_database(database, tmp_path) as other:
        await open_db(database)
        try:
            ours = await where_am_i()
            await open_db(other)
            try:
                assert (await where_am_i())[0] != ours[0]
            finally:
                await close_db()
            assert await where_am_i() == ours  # the same database, on the same connection
        finally:
            await close_db()

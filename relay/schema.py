"""The schema the migrations make, kept as SQL per database: a new, empty database is made from it in
one step instead of replaying every migration.

tortoise replays a migration by rebuilding every model's state before each operation, so an empty
database took 15–40 s of CPU to reach the 27th migration (the demo's first start, every test database,
a restore into a new database). The snapshot is what those migrations made, dumped from a database they
made (`python -m relay.schema` writes it), and it records every migration as applied, so the next
migration runs on it as on any other database.

It is used only when it is current: its first line names the migrations and a hash of their source,
and a database that is not empty, or a snapshot that does not match the migrations on disk (a new
migration, the snapshot not yet written again), takes tortoise's own path. `tests/test_migrations.py`
checks that the stored SQL is exactly what the migrations make, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import re
import sqlite3
import subprocess
import uuid
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
from tortoise.backends.base.config_generator import expand_db_url

MIGRATIONS = Path(__file__).resolve().parent.parent / "models" / "migrations"
SNAPSHOTS = MIGRATIONS.parent / "schema"
RECORDS = "tortoise_migrations"
APP = "models"
HEADER = "-- relay schema: {last}; migrations sha256 {digest}"


def migration_names() -> list[str]:
    return sorted(p.stem for p in MIGRATIONS.glob("[0-9][0-9][0-9][0-9]_*.py"))


def migrations_digest() -> str:
    digest = hashlib.sha256()
    for name in migration_names():
        digest.update(name.encode() + b"\0" + (MIGRATIONS / f"{name}.py").read_bytes() + b"\0")
    return digest.hexdigest()


def header() -> str:
    return HEADER.format(last=migration_names()[-1], digest=migrations_digest())


def dialect(db_url: str) -> str:
    return "sqlite" if db_url.startswith("sqlite") else "postgres"


def snapshot_path(kind: str) -> Path:
    return SNAPSHOTS / f"{kind}.sql"


def current_snapshot(kind: str) -> str | None:
    """The stored SQL for this database, if it is what the migrations on disk make."""
    path = snapshot_path(kind)
    if not path.exists():
        return None
    sql = path.read_text(encoding="utf-8")
    return sql if sql.split("\n", 1)[0] == header() else None


def _sqlite_file(db_url: str) -> str:
    return str(expand_db_url(db_url)["credentials"]["file_path"])


def _pg_dsn(db_url: str) -> str:
    return db_url.replace("postgres://", "postgresql://", 1)


def _records(now: str) -> list[tuple[str, str, str]]:
    return [(APP, name, now) for name in migration_names()]


async def create_from_snapshot(db_url: str) -> bool:
    """Make an empty database's schema from the snapshot in one transaction; False (nothing done) when
    the database is not empty or the snapshot is not current."""
    kind = dialect(db_url)
    sql = current_snapshot(kind)
    if sql is None:
        return False
    now = datetime.now(UTC).isoformat(sep=" ")
    if kind == "sqlite":
        path = _sqlite_file(db_url)
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(path, isolation_level=None)) as conn:
            conn.execute("BEGIN IMMEDIATE")  # one writer: a second process waits, then finds tables
            try:
                if conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]:
                    conn.execute("ROLLBACK")
                    return False
                for statement in _statements(sql):
                    conn.execute(statement)
                conn.executemany(f'INSERT INTO "{RECORDS}" (app, name, applied_at) VALUES (?, ?, ?)', _records(now))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return True
    conn = await asyncpg.connect(_pg_dsn(db_url))
    try:
        async with conn.transaction():
            # One process makes it; another waiting here then finds the tables and takes the usual path.
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext('relay schema snapshot'))")
            tables = await conn.fetchval("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
            if tables:
                return False
            await conn.execute(sql)  # no parameters: the simple protocol runs every statement
            await conn.executemany(
                f'INSERT INTO "{RECORDS}" (app, name, applied_at) VALUES ($1, $2, $3::timestamptz)',
                [(a, n, datetime.fromisoformat(t)) for a, n, t in _records(now)],
            )
        return True
    finally:
        await conn.close()


def _statements(sql: str) -> list[str]:
    """The SQLite snapshot's statements, split where SQLite itself sees one end (not inside a string or a
    comment), after the header line."""
    statements, current = [], ""
    for line in sql.split("\n")[1:]:
        current += line + "\n"
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    return statements


# -- writing the snapshot (a developer's step after adding a migration) ---------------------------------


def dump_sqlite(db_url: str) -> str:
    """Every table and index a database holds, in the order they were made, without the records."""
    with closing(sqlite3.connect(_sqlite_file(db_url))) as conn:
        rows = conn.execute(
            "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY rowid"
        ).fetchall()
    return "".join(f"{sql};\n" for (sql,) in rows)


_DUMP_NOISE = re.compile(r"^(--.*|SET .*|SELECT pg_catalog\.set_config.*|\\.*|)$")


def dump_postgres(db_url: str) -> str:
    """pg_dump's schema of a database, without what ties it to this server (owners, session settings)."""
    out = subprocess.run(
        ["pg_dump", "--schema-only", "--no-owner", "--no-privileges", _pg_dsn(db_url)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    lines = [line for line in out.splitlines() if not _DUMP_NOISE.match(line)]
    return "\n".join(lines) + "\n"


async def dump_migrated(kind: str, admin_url: str, folder: Path) -> str:
    """Migrate a new database of this kind through every migration, tortoise's way, and dump it."""
    from tortoise import Tortoise
    from tortoise.migrations.api.migrate import migrate as tortoise_migrate

    from relay.db import tortoise_config

    if kind == "sqlite":
        url = f"sqlite://{folder / f'snapshot-{uuid.uuid4().hex[:8]}.sqlite3'}"
        await tortoise_migrate(config=tortoise_config(url))
        await Tortoise.close_connections()
        return dump_sqlite(url)
    name = f"relay_snapshot_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(admin_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = admin_url.rsplit("/", 1)[0] + f"/{name}"
        await tortoise_migrate(config=tortoise_config(url))
        await Tortoise.close_connections()
        return dump_postgres(url)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description="Write models/schema/*.sql from the migrations.")
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432/postgres", help="an admin URL")
    parser.add_argument("--scratch", default="/tmp", help="where the scratch SQLite database goes")
    args = parser.parse_args()
    SNAPSHOTS.mkdir(exist_ok=True)
    for kind in ("sqlite", "postgres"):
        body = asyncio.run(dump_migrated(kind, args.postgres, Path(args.scratch)))
        snapshot_path(kind).write_text(f"{header()}\n{body}", encoding="utf-8")
        print(f"wrote {snapshot_path(kind)}")


if __name__ == "__main__":
    main()

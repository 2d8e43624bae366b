"""Backups of the database and the stored files, and restoring one into a fresh database and file root.

Consistent: the database is copied first, in one snapshot (pg_dump on a snapshot Relay exports and reads
itself; SQLite's online backup API), and the snapshot's rows say which files it refers to. The files are
copied after: a file is written before any row refers to it and never changes under its name (content-
addressed), so every file the snapshot refers to is already there. Copying takes everything present (files
newer than the snapshot too); a referenced file missing from the copy (a customer's data erased between the
snapshot and the copy) makes the backup start again with a new snapshot. The files come from the configured
file store, a folder or a bucket alike (infra/bucket.py: both list their keys and read each), a few at a time,
and a restore writes them back into whichever store the restoring Relay has.

PostgreSQL goes through pg_dump/pg_restore (custom format): they carry every index, constraint and sequence
exactly as the migrations made them, compressed, and take a snapshot id (`--snapshot`); a dump in Python would
redo all that. Their one risk, a pg_dump older than the server (which it refuses), is checked first with a
clear message. The dump and the files go through a `BackupTarget` (infra/backup_target.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from tortoise.backends.base.config_generator import expand_db_url

from infra.backup_target import BackupReader, BackupTarget, BackupWriter, FileEntry, hash_file, sha256_of
from infra.bucket import Backend, key_content_type

log = logging.getLogger(__name__)

FORMAT = 1
PG_DUMP_FILE = "database.pgdump"
SQLITE_FILE = "database.sqlite3"
MIGRATIONS_TABLE = "tortoise_migrations"
ATTEMPTS = 3
# Stored files copied at once: a bucket answers each in tens of milliseconds, and a file may be 20 MB in memory.
COPIES_AT_ONCE = 8

Fetch = Callable[[str], Awaitable[list[Sequence[Any]]]]


class BackupError(Exception):
    """A backup or restore that cannot go on; the message (Chinese) is shown as is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Snapshot:
    """What the dumped database holds, read in the dump's own snapshot."""

    backend: str
    server_version: str
    rows: dict[str, int]
    migrations: list[str]
    referenced: set[str]


@dataclass(frozen=True)
class Backup:
    name: str
    where: str
    manifest: dict[str, Any]
    removed: list[str]


# The database


def backend_of(database_url: str) -> str:
    engine = expand_db_url(database_url)["engine"]
    return "postgres" if engine == "tortoise.backends.asyncpg" else "sqlite"


def _pg_credentials(database_url: str) -> dict[str, Any]:
    creds = expand_db_url(database_url)["credentials"]
    return {k: creds[k] for k in ("host", "port", "user", "password", "database") if creds.get(k) is not None}


def _libpq_env(database_url: str) -> dict[str, str]:
    """The server and login for pg_dump/pg_restore, as libpq's variables: a password never on a command line."""
    creds = _pg_credentials(database_url)
    names = {"host": "PGHOST", "port": "PGPORT", "user": "PGUSER", "password": "PGPASSWORD", "database": "PGDATABASE"}
    return {**os.environ, **{names[k]: str(v) for k, v in creds.items()}}


def _sqlite_path(database_url: str) -> Path:
    return Path(expand_db_url(database_url)["credentials"]["file_path"])


async def _facts(backend: str, server_version: str, fetch: Fetch, referenced_sql: str) -> Snapshot:
    tables = [row[0] for row in await fetch(_tables_sql(backend))]
    rows = {t: (await fetch(f'SELECT count(*) FROM "{t}"'))[0][0] for t in tables}  # noqa: S608 (names from the catalogue)
    migrations: list[str] = []
    if MIGRATIONS_TABLE in tables:
        migrations = [
            row[0]
            for row in await fetch(
                f"SELECT name FROM {MIGRATIONS_TABLE} WHERE app = 'models' ORDER BY applied_at, name"  # noqa: S608
            )
        ]
    referenced = {row[0] for row in await fetch(referenced_sql)} if migrations else set()
    return Snapshot(backend, server_version, rows, migrations, referenced)


async def _run_tool(args: list[str], env: dict[str, str]) -> None:
    proc = await asyncio.create_subprocess_exec(
        *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        _, err = await proc.communicate()
    except asyncio.CancelledError:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()
        raise
    if proc.returncode != 0:
        raise BackupError(f"{Path(args[0]).name} 失败：{err.decode(errors='replace').strip()[-2000:]}")


async def _pg_tool(tool: str, server_major: int) -> str:
    """pg_dump/pg_restore, refusing one older than the server (pg_dump would refuse to dump it)."""
    path = shutil.which(tool)
    if path is None:
        raise BackupError(
            f"找不到 {tool}：请安装 PostgreSQL {server_major} 的客户端工具（postgresql-client-{server_major}）"
        )
    proc = await asyncio.create_subprocess_exec(path, "--version", stdout=asyncio.subprocess.PIPE)
    out, _ = await proc.communicate()
    major = int(out.decode().split()[-1].split(".")[0])
    if major < server_major:
        raise BackupError(
            f"{tool} 是 PostgreSQL {major} 的版本，数据库是 {server_major}：请安装 postgresql-client-{server_major}"
        )
    return path


async def _dump_postgres(database_url: str, writer: BackupWriter, referenced_sql: str) -> Snapshot:
    conn = await asyncpg.connect(**_pg_credentials(database_url))
    try:
        server = conn.get_server_version()
        pg_dump = await _pg_tool("pg_dump", server.major)
        target = writer.scratch(PG_DUMP_FILE)
        # The first statement of a REPEATABLE READ transaction fixes its snapshot: the one exported to pg_dump,
        # so the counts and the referenced files read below are those of the dump.
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            snapshot_id = await conn.fetchval("SELECT pg_export_snapshot()")
            dump = asyncio.create_task(
                _run_tool(
                    [pg_dump, "--format=custom", f"--snapshot={snapshot_id}", f"--file={target}"],
                    _libpq_env(database_url),
                )
            )
            try:
                facts = await _facts("postgres", f"{server.major}.{server.minor}", _pg_fetch(conn), referenced_sql)
            finally:
                await dump  # the snapshot must stay exported until pg_dump has taken it
        return facts
    finally:
        await conn.close()


def _pg_fetch(conn: asyncpg.Connection) -> Fetch:
    async def fetch(sql: str) -> list[Sequence[Any]]:
        return list(await conn.fetch(sql))

    return fetch


def _sqlite_fetch(conn: sqlite3.Connection) -> Fetch:
    async def fetch(sql: str) -> list[Sequence[Any]]:
        return conn.execute(sql).fetchall()

    return fetch


def _copy_sqlite(source: Path, target: Path) -> None:
    """SQLite's online backup: a consistent copy of a database in use, which a file copy is not (the WAL)."""
    with contextlib.closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as src:
        with contextlib.closing(sqlite3.connect(target)) as out:
            src.backup(out)


async def _dump_sqlite(database_url: str, writer: BackupWriter, referenced_sql: str) -> Snapshot:
    source = _sqlite_path(database_url)
    if not source.is_file():
        raise BackupError(f"数据库文件 {source} 不存在")
    target = writer.scratch(SQLITE_FILE)
    await asyncio.to_thread(_copy_sqlite, source, target)
    with contextlib.closing(sqlite3.connect(f"file:{target}?mode=ro", uri=True)) as copy:
        return await _facts("sqlite", sqlite3.sqlite_version, _sqlite_fetch(copy), referenced_sql)


# The files


async def _copy_one(store: Backend, writer: BackupWriter, key: str) -> FileEntry | None:
    try:
        entry = await writer.add_file(key, store)
    except FileNotFoundError:
        return None  # removed since it was listed (an erasure): the snapshot check decides
    if key.startswith("files/") and entry.sha256 != key.rsplit("/", 1)[-1]:
        log.warning("stored file %s does not match its name (sha256 %s)", key, entry.sha256)
    return entry


async def _copy_files(store: Backend, writer: BackupWriter) -> list[FileEntry]:
    """Every file the store lists, into the backup."""
    keys = await store.keys()
    entries: list[FileEntry] = []
    for start in range(0, len(keys), COPIES_AT_ONCE):
        batch = await asyncio.gather(*(_copy_one(store, writer, key) for key in keys[start : start + COPIES_AT_ONCE]))
        entries.extend(entry for entry in batch if entry is not None)
    return entries


# Taking a backup


def backup_name(now: datetime) -> str:
    return "relay-" + now.strftime("%Y%m%dT%H%M%S.") + f"{now.microsecond // 1000:03d}Z"


async def take_backup(
    *,
    database_url: str,
    store: Backend,
    target: BackupTarget,
    referenced_sql: str,
    keep: int,
    version: str,
) -> Backup:
    """Back the database and the store's files up to a new backup in `target`, then keep only the newest `keep`."""
    for attempt in range(1, ATTEMPTS + 1):
        started = datetime.now(UTC)
        clock = time.monotonic()
        name = backup_name(started)
        writer = await target.begin(name)
        try:
            manifest = await _write_backup(database_url, store, writer, referenced_sql)
            missing = sorted(manifest.pop("missing"))
            if missing:
                await writer.abort()
                if attempt < ATTEMPTS:
                    log.warning("backup: %d referenced files went while copying; again", len(missing))
                    continue
                raise BackupError(f"数据库引用的 {len(missing)} 个文件不在文件存储里：{', '.join(missing[:10])}")
            manifest.update(
                format=FORMAT,
                name=name,
                relay_version=version,
                started_at=started.isoformat(),
                finished_at=datetime.now(UTC).isoformat(),
                seconds=round(time.monotonic() - clock, 3),
            )
            await writer.commit(manifest)
        except BaseException:
            await writer.abort()
            raise
        removed = await prune(target, keep)
        return Backup(name, target.describe(name), manifest, removed)
    raise AssertionError("unreachable")


async def _write_backup(database_url: str, store: Backend, writer: BackupWriter, referenced_sql: str) -> dict[str, Any]:
    clock = time.monotonic()
    if backend_of(database_url) == "postgres":
        snapshot = await _dump_postgres(database_url, writer, referenced_sql)
        db_file = PG_DUMP_FILE
    else:
        snapshot = await _dump_sqlite(database_url, writer, referenced_sql)
        db_file = SQLITE_FILE
    db_entry = await writer.keep(db_file)
    db_seconds = time.monotonic() - clock
    files = await _copy_files(store, writer)
    return {
        "database": {
            "backend": snapshot.backend,
            "server_version": snapshot.server_version,
            "file": db_file,
            "sha256": db_entry.sha256,
            "size": db_entry.size,
            "migrations": snapshot.migrations,
            "migration_head": snapshot.migrations[-1] if snapshot.migrations else None,
            "rows": snapshot.rows,
            "seconds": round(db_seconds, 3),
        },
        "referenced_files": len(snapshot.referenced),
        "files": [f.as_dict() for f in files],
        "files_seconds": round(time.monotonic() - clock - db_seconds, 3),
        "missing": snapshot.referenced - {f.path for f in files},
    }


async def prune(target: BackupTarget, keep: int) -> list[str]:
    """Retention: the newest `keep` backups stay (at least the one just taken)."""
    names = await target.names()
    old = names[: max(0, len(names) - max(1, keep))]
    for name in old:
        await target.remove(name)
    return old


# Restoring


def _corrupt(names: list[str]) -> BackupError:
    return BackupError(f"备份已损坏：{len(names)} 个文件缺失或校验不符（{', '.join(names[:10])}）")


async def verify_database(reader: BackupReader) -> Path:
    """The database's file, local and hashing to what the manifest says."""
    database = reader.manifest["database"]
    try:
        path = await reader.local(database["file"])
    except FileNotFoundError:
        raise _corrupt([database["file"]]) from None
    if not path.is_file() or (await asyncio.to_thread(hash_file, path))[0] != database["sha256"]:
        raise _corrupt([database["file"]])
    return path


@contextlib.asynccontextmanager
async def _querying(database_url: str) -> AsyncIterator[Fetch]:
    """A connection of its own to the configured database (Relay's may not be open), for a few reads."""
    if backend_of(database_url) == "postgres":
        conn = await asyncpg.connect(**_pg_credentials(database_url))
        try:
            yield _pg_fetch(conn)
        finally:
            await conn.close()
        return
    with contextlib.closing(sqlite3.connect(_sqlite_path(database_url))) as lite:
        yield _sqlite_fetch(lite)


def _tables_sql(backend: str) -> str:
    if backend == "postgres":
        return "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
    return "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY 1"


async def tables_with_rows(database_url: str) -> list[str]:
    """The tables of the database that hold rows (the migrations' own record aside)."""
    if backend_of(database_url) == "sqlite" and not _sqlite_path(database_url).is_file():
        return []
    async with _querying(database_url) as fetch:
        tables = [row[0] for row in await fetch(_tables_sql(backend_of(database_url)))]
        return [
            t
            for t in tables
            if t != MIGRATIONS_TABLE and (await fetch(f'SELECT EXISTS (SELECT 1 FROM "{t}")'))[0][0]  # noqa: S608
        ]


async def _restore_postgres(database_url: str, dump: Path) -> None:
    conn = await asyncpg.connect(**_pg_credentials(database_url))
    try:
        pg_restore = await _pg_tool("pg_restore", conn.get_server_version().major)
        tables = [r[0] for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
        if tables:  # empty ones (`relay migrate` ran) or, with --force, the data being replaced
            await conn.execute("DROP TABLE " + ", ".join(f'"{t}"' for t in tables) + " CASCADE")
    finally:
        await conn.close()
    # No owner or grants: the backup may come from a server whose roles this one lacks; Relay's login owns all.
    await _run_tool(
        [
            pg_restore,
            "--no-owner",
            "--no-acl",
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={_pg_credentials(database_url)['database']}",
            str(dump),
        ],
        _libpq_env(database_url),
    )


def _restore_sqlite(database_url: str, copy: Path) -> None:
    """Through the backup API too: it writes the whole database, and SQLite keeps its WAL coherent."""
    target = _sqlite_path(database_url)
    target.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.closing(sqlite3.connect(f"file:{copy}?mode=ro", uri=True)) as src:
        with contextlib.closing(sqlite3.connect(target)) as out:
            src.backup(out)


async def _restore_file(reader: BackupReader, store: Backend, entry: dict[str, Any]) -> bool | None:
    """One file into the store once its bytes hash to the manifest's: True if written, False if the store
    already held it, None if the backup's copy is missing or damaged (nothing written)."""
    try:
        data = await reader.read(entry["path"])
    except FileNotFoundError:
        return None
    if len(data) != entry["size"] or await sha256_of(data) != entry["sha256"]:
        return None
    if await store.holds(entry["path"], data):
        return False
    await store.put(entry["path"], data, key_content_type(entry["path"]))
    return True


async def _restore_files(reader: BackupReader, store: Backend) -> int:
    """Into the store, checked file by file; a key already holding the same bytes is left alone. Damage
    anywhere stops the restore before the database is touched (files nothing refers to are harmless in a
    content-addressed store, and a second run skips them)."""
    entries = reader.manifest["files"]
    copied = 0
    bad: list[str] = []
    for start in range(0, len(entries), COPIES_AT_ONCE):
        batch = entries[start : start + COPIES_AT_ONCE]
        done = await asyncio.gather(*(_restore_file(reader, store, entry) for entry in batch))
        copied += sum(1 for written in done if written)
        bad.extend(entry["path"] for entry, written in zip(batch, done, strict=True) if written is None)
    if bad:
        raise _corrupt(bad)
    return copied


async def _row_counts(database_url: str, tables: list[str]) -> dict[str, int]:
    async with _querying(database_url) as fetch:
        return {t: (await fetch(f'SELECT count(*) FROM "{t}"'))[0][0] for t in tables}  # noqa: S608


async def restore_backup(*, reader: BackupReader, database_url: str, store: Backend, force: bool) -> int:
    """Restore into the database and file store; refuses a database holding data unless `force`. The files
    go first, so the restored rows never refer to a file not yet there. Returns the files copied."""
    manifest = reader.manifest
    backend = manifest["database"]["backend"]
    if backend != backend_of(database_url):
        raise BackupError(
            f"这是 {backend} 数据库的备份，配置的数据库是 {backend_of(database_url)}：只能恢复到同一种数据库"
        )
    filled = await tables_with_rows(database_url)
    if filled and not force:
        raise BackupError(
            f"目标数据库已有数据（{len(filled)} 张表有记录，如 {', '.join(filled[:5])}），恢复会覆盖它们。"
            "请恢复到新的空数据库；确认要覆盖请加 --force"
        )
    db_file = await verify_database(reader)
    copied = await _restore_files(reader, store)
    if backend == "postgres":
        await _restore_postgres(database_url, db_file)
    else:
        await asyncio.to_thread(_restore_sqlite, database_url, db_file)
    expected = manifest["database"]["rows"]
    found = await _row_counts(database_url, sorted(expected))
    wrong = [t for t in expected if found[t] != expected[t]]
    if wrong:
        raise BackupError(f"恢复后的行数与备份不符：{', '.join(f'{t} {found[t]}≠{expected[t]}' for t in wrong)}")
    return copied

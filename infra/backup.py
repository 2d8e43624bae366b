"""Backups of the database and the stored files, and restoring one into a fresh database and file root.

Consistent: the database is copied first, in one snapshot (pg_dump on a snapshot Relay exports and reads
itself; SQLite's online backup API), and the snapshot's rows say which files it refers to. The files are
copied after: a file is written before any row refers to it and never changes under its name (content-
addressed), so every file the snapshot refers to is already there. Copying takes everything present (files
newer than the snapshot too); a referenced file missing from the copy (a customer's data erased between the
snapshot and the copy) makes the backup start again with a new snapshot.

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

from infra.backup_target import BackupReader, BackupTarget, BackupWriter, FileEntry, hash_file

log = logging.getLogger(__name__)

FORMAT = 1
STORED_FOLDERS = ("files", "thumbs")
PG_DUMP_FILE = "database.pgdump"
SQLITE_FILE = "database.sqlite3"
MIGRATIONS_TABLE = "tortoise_migrations"
ATTEMPTS = 3

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


def _stored_files(root: Path) -> list[tuple[str, Path]]:
    found = []
    for folder in STORED_FOLDERS:
        base = root / folder
        if base.is_dir():
            for path in base.rglob("*"):
                if path.is_file() and not path.name.endswith(".tmp"):  # a file being written (infra/storage.py)
                    found.append((path.relative_to(root).as_posix(), path))
    return sorted(found)


def _copy_files(root: Path, writer: BackupWriter) -> list[FileEntry]:
    entries = []
    for name, path in _stored_files(root):
        try:
            entries.append(writer.add_file(name, path))
        except FileNotFoundError:
            continue  # removed since it was listed (an erasure): the snapshot check below decides
        if name.startswith("files/") and entries[-1].sha256 != path.name:
            log.warning("stored file %s does not match its name (sha256 %s)", name, entries[-1].sha256)
    return entries


# Taking a backup


def backup_name(now: datetime) -> str:
    return "relay-" + now.strftime("%Y%m%dT%H%M%S.") + f"{now.microsecond // 1000:03d}Z"


async def take_backup(
    *,
    database_url: str,
    files_root: Path,
    target: BackupTarget,
    referenced_sql: str,
    keep: int,
    version: str,
) -> Backup:
    """Back the database and files up to a new backup in `target`, then keep only the newest `keep`."""
    for attempt in range(1, ATTEMPTS + 1):
        started = datetime.now(UTC)
        clock = time.monotonic()
        name = backup_name(started)
        writer = await asyncio.to_thread(target.begin, name)
        try:
            manifest = await _write_backup(database_url, files_root, writer, referenced_sql)
            missing = sorted(manifest.pop("missing"))
            if missing:
                await asyncio.to_thread(writer.abort)
                if attempt < ATTEMPTS:
                    log.warning("backup: %d referenced files went while copying; again", len(missing))
                    continue
                raise BackupError(f"数据库引用的 {len(missing)} 个文件不在文件目录里：{', '.join(missing[:10])}")
            manifest.update(
                format=FORMAT,
                name=name,
                relay_version=version,
                started_at=started.isoformat(),
                finished_at=datetime.now(UTC).isoformat(),
                seconds=round(time.monotonic() - clock, 3),
            )
            await asyncio.to_thread(writer.commit, manifest)
        except BaseException:
            await asyncio.to_thread(writer.abort)
            raise
        removed = await asyncio.to_thread(prune, target, keep)
        return Backup(name, target.describe(name), manifest, removed)
    raise AssertionError("unreachable")


async def _write_backup(
    database_url: str, files_root: Path, writer: BackupWriter, referenced_sql: str
) -> dict[str, Any]:
    clock = time.monotonic()
    if backend_of(database_url) == "postgres":
        snapshot = await _dump_postgres(database_url, writer, referenced_sql)
        db_file = PG_DUMP_FILE
    else:
        snapshot = await _dump_sqlite(database_url, writer, referenced_sql)
        db_file = SQLITE_FILE
    db_entry = await asyncio.to_thread(writer.keep, db_file)
    db_seconds = time.monotonic() - clock
    files = await asyncio.to_thread(_copy_files, files_root, writer)
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


def prune(target: BackupTarget, keep: int) -> list[str]:
    """Retention: the newest `keep` backups stay (at least the one just taken)."""
    names = target.names()
    old = names[: max(0, len(names) - max(1, keep))]
    for name in old:
        target.remove(name)
    return old


# Restoring


def verify(reader: BackupReader) -> None:
    """Every file of the backup, the database's too, hashes to what the manifest says."""
    manifest = reader.manifest
    database = manifest["database"]
    expected = [(database["file"], database["sha256"])] + [(f["path"], f["sha256"]) for f in manifest["files"]]
    bad = []
    for name, sha256 in expected:
        path = reader.local(name)
        if not path.is_file() or hash_file(path)[0] != sha256:
            bad.append(name)
    if bad:
        raise BackupError(f"备份已损坏：{len(bad)} 个文件缺失或校验不符（{', '.join(bad[:10])}）")


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


def _restore_files(reader: BackupReader, files_root: Path) -> int:
    """Into the file root; a file already there under its name is the same file (content-addressed)."""
    copied = 0
    for entry in reader.manifest["files"]:
        target = files_root / entry["path"]
        if target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
        shutil.copyfile(reader.local(entry["path"]), tmp)
        os.replace(tmp, target)
        copied += 1
    return copied


async def _row_counts(database_url: str, tables: list[str]) -> dict[str, int]:
    async with _querying(database_url) as fetch:
        return {t: (await fetch(f'SELECT count(*) FROM "{t}"'))[0][0] for t in tables}  # noqa: S608


async def restore_backup(*, reader: BackupReader, database_url: str, files_root: Path, force: bool) -> int:
    """Restore into the database and file root; refuses a database holding data unless `force`. The files
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
    await asyncio.to_thread(verify, reader)
    copied = await asyncio.to_thread(_restore_files, reader, files_root)
    db_file = reader.local(manifest["database"]["file"])
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

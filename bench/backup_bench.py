"""Backup and restore times: `relay backup` and `relay restore` as an operator runs them (child processes, the
interpreter's start included), for the demo's data and for 100,000 orders, on PostgreSQL and SQLite.

The 100,000 orders are bench/stats_bench.py's (a company of 120 stores, each order with its stage events,
items, payments and visits, loaded with COPY), plus `--photos` distinct site photos (with thumbnails) attached to
the first orders; the SQLite copy is the same rows written into a migrated SQLite database. Each restore goes
into a new, empty database and file root, and checks (as `relay restore` always does) every file's sha256 and
every table's row count.

    .venv/bin/python bench/backup_bench.py [--orders 100000] [--photos 500] [--skip-sqlite-orders]

Writes bench/results/issue15-backup.md. Loopback only; the databases and folders are removed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import os
import platform
import random
import secrets
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.stats_bench import PG_ADMIN, PG_BASE, Generator, create_org, load_orders  # noqa: E402
from infra.backup_target import DirectoryTarget  # noqa: E402
from infra.bucket import Disk  # noqa: E402
from infra.security import PiiVault  # noqa: E402
from infra.storage import FileStore  # noqa: E402
from relay.db import migrate  # noqa: E402
from tests.support import SECRETS  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "issue15-backup.md"


@dataclass
class Row:
    data: str
    backend: str
    orders: int
    rows: int
    files: int
    files_mb: float
    dump_mb: float
    backup_s: float
    backup_inner_s: float
    database_s: float
    files_s: float
    again_s: float  # the next backup, nothing changed: its files hard-linked to this one's
    restore_s: float


def write_config(folder: Path, database_url: str, files: Path, backups: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    wecom, security = SECRETS["wecom"], SECRETS["security"]
    path = folder / "relay.toml"
    path.write_text(
        f"""
[server]
background = false
[database]
url = "{database_url}"
[wecom]
corp_id = "{wecom["corp_id"]}"
agent_id = {wecom["agent_id"]}
secret = "{wecom["secret"]}"
token = "{wecom["token"]}"
encoding_aes_key = "{wecom["encoding_aes_key"]}"
[storage]
path = "{files}"
[security]
secret_key = "{security["secret_key"]}"
pii_key = "{security["pii_key"]}"
[backup]
path = "{backups}"
keep = 14
""",
        encoding="utf-8",
    )
    return path


async def relay(config: Path, *args: str) -> tuple[float, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RELAY_")} | {"PYTHONPATH": str(ROOT)}
    started = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "relay.cli", "--config", str(config), *args,
        cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await proc.communicate()
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"relay {' '.join(args)} failed:\n{out.decode(errors='replace')}")
    print(f"  relay {args[0]}: {seconds:.1f} s · {out.decode().strip()}", flush=True)
    return seconds, out.decode()


@contextlib.asynccontextmanager
async def database(backend: str, folder: Path) -> AsyncIterator[str]:
    if backend == "sqlite":
        folder.mkdir(parents=True, exist_ok=True)
        yield f"sqlite://{folder / f'relay-{secrets.token_hex(3)}.sqlite3'}"
        return
    name = f"relay_bench_backup_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(PG_ADMIN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    try:
        yield PG_BASE + name
    finally:
        admin = await asyncpg.connect(PG_ADMIN)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def measure(label: str, backend: str, work: Path, source_url: str, files: Path, orders: int) -> Row:
    """`relay backup` of the source, then `relay restore` of it into a new database and file root."""
    print(f"{label} on {backend}: backup", flush=True)
    backups = work / f"backups-{backend}-{secrets.token_hex(2)}"
    config = write_config(work / f"live-{secrets.token_hex(2)}", source_url, files, backups)
    backup_s, _ = await relay(config, "backup")
    (name,) = await DirectoryTarget(backups).names()
    manifest = json.loads((backups / name / "manifest.json").read_text(encoding="utf-8"))
    again_s, _ = await relay(config, "backup")
    async with database(backend, work / "restored-db") as target_url:
        restored_files = work / f"restored-files-{secrets.token_hex(2)}"
        target = write_config(work / f"restored-{secrets.token_hex(2)}", target_url, restored_files, backups)
        print(f"{label} on {backend}: restore", flush=True)
        restore_s, _ = await relay(target, "restore", str(backups / name))
    shutil.rmtree(backups)
    shutil.rmtree(restored_files, ignore_errors=True)
    db = manifest["database"]
    return Row(
        data=label,
        backend=backend,
        orders=db["rows"].get("order", 0),
        rows=sum(db["rows"].values()),
        files=len(manifest["files"]),
        files_mb=sum(f["size"] for f in manifest["files"]) / 1048576,
        dump_mb=db["size"] / 1048576,
        backup_s=backup_s,
        backup_inner_s=manifest["seconds"],
        database_s=db["seconds"],
        files_s=manifest["files_seconds"],
        again_s=again_s,
        restore_s=restore_s,
    )


# The data


async def demo_data(database_url: str, files: Path) -> None:
    """The demo's company, seeded through the workflow as `relay demo` seeds it."""
    from relay.app import running_services
    from relay.config import load_config
    from relay.demo import seed

    await migrate(database_url)
    config = write_config(files.parent / "seed", database_url, files, files.parent / "unused")
    async with running_services(load_config(config), background=False):
        await seed()


def photo(rng: random.Random) -> bytes:
    """A distinct photo of a realistic size (noise does not compress, like a phone's JPEG of a wall)."""
    img = Image.frombytes("RGB", (400, 300), rng.randbytes(400 * 300 * 3)).resize((1200, 900))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=85)
    return out.getvalue()


async def many_orders(database_url: str, files: Path, *, orders: int, photos: int) -> None:
    await migrate(database_url)
    conn = await asyncpg.connect(database_url)
    try:
        org = await create_org(conn, PiiVault(str(SECRETS["security"]["pii_key"])), customers=2000, store_index=0)
        gen = Generator(org, seed=15, now=time.time(), windows=[])
        gen.plan(orders)
        load = await load_orders(conn, gen, orders=orders, batch=20_000)
        print(f"  loaded {orders:,} orders in {load.seconds:.0f} s: {load.rows}", flush=True)
        store = FileStore(Disk(files), max_image_bytes=10 << 20, max_file_bytes=20 << 20)
        rng = random.Random(15)
        order_ids = [r[0] for r in await conn.fetch('SELECT id FROM "order" ORDER BY id LIMIT $1', photos)]
        rows = []
        for order_id in order_ids:
            stored = await store.put_image(photo(rng))
            rows.append((order_id, "walls_floors", stored.sha256, stored.content_type, stored.size, "现场.jpg", True))
        await conn.executemany(
            "INSERT INTO attachment (order_id, category, sha256, content_type, size, filename, has_thumbnail,"
            " created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, now())",
            rows,
        )
        print(f"  {len(rows)} photos stored", flush=True)
    finally:
        await conn.close()


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return value


async def copy_to_sqlite(pg_url: str, sqlite_url: str) -> None:
    """The same rows in a migrated SQLite database (what a SQLite install with this history holds)."""
    await migrate(sqlite_url)
    path = sqlite_url.removeprefix("sqlite://")
    conn = await asyncpg.connect(pg_url)
    lite = sqlite3.connect(path)
    try:
        lite.execute("PRAGMA foreign_keys = OFF")
        tables = [r[0] for r in lite.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            if table.startswith("sqlite_") or table == "tortoise_migrations":
                continue
            columns = [r[1] for r in lite.execute(f'PRAGMA table_info("{table}")')]
            quoted = ", ".join(f'"{c}"' for c in columns)
            records = await conn.fetch(f'SELECT {quoted} FROM "{table}"')  # noqa: S608
            if records:
                lite.executemany(
                    f'INSERT INTO "{table}" ({quoted}) VALUES ({", ".join("?" * len(columns))})',  # noqa: S608
                    [[_sqlite_value(v) for v in r] for r in records],
                )
        lite.commit()
    finally:
        lite.close()
        await conn.close()


async def timed(what: str, work: Callable[[], Awaitable[None]]) -> float:
    started = time.perf_counter()
    await work()
    seconds = time.perf_counter() - started
    print(f"  {what}: {seconds:.0f} s", flush=True)
    return seconds


async def run(args: argparse.Namespace) -> list[Row]:
    work = Path(tempfile.mkdtemp(prefix="relay-bench-backup-"))
    rows: list[Row] = []
    try:
        for backend in ("postgres", "sqlite"):
            async with database(backend, work / "demo-db") as url:
                files = work / f"demo-files-{backend}"
                await timed(f"demo data on {backend}", lambda url=url, files=files: demo_data(url, files))
                rows.append(await measure("demo", backend, work, url, files, 0))
        async with database("postgres", work / "db") as url:
            files = work / "orders-files"
            await timed(
                f"{args.orders:,} orders on postgres",
                lambda: many_orders(url, files, orders=args.orders, photos=args.photos),
            )
            label = f"{args.orders:,} orders + {args.photos} photos"
            rows.append(await measure(label, "postgres", work, url, files, args.orders))
            if not args.skip_sqlite_orders:
                async with database("sqlite", work / "orders-sqlite") as lite_url:
                    await timed("the same rows into SQLite", lambda: copy_to_sqlite(url, lite_url))
                    rows.append(await measure(label, "sqlite", work, lite_url, files, args.orders))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return rows


def markdown(rows: list[Row], command: str) -> str:
    lines = [
        "# Backup and restore times (issue 15, part 5)",
        "",
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC · {platform.node()} · {os.cpu_count()} CPUs shared with other "
        f"work (load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}) · Python {platform.python_version()}"
        " · PostgreSQL 15 on loopback, pg_dump/pg_restore 15",
        "",
        f"    {command}",
        "",
        "Each time is the `relay backup` or `relay restore` command run as an operator runs it (a child process: "
        "the interpreter's start and Relay's imports included, 0.7-2 s on this shared machine). *In backup* is the "
        "backup's own time from its manifest, split into the database's part (dump or copy, and its sha256) and the "
        "files' (copied and hashed). *Next backup* is a second `relay backup` right after, nothing changed: the "
        "database again, the files hard-linked to the first backup's. The restore goes into a new, empty "
        "database and a new file root and includes checking every file's sha256 (the dump's too) and every "
        "table's row count.",
        "",
        "| data | database | orders | rows (all tables) | files | files MB | dump MB | `relay backup` s "
        "| in backup s (database + files) | next backup s | `relay restore` s |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r.data} | {r.backend} | {r.orders:,} | {r.rows:,} | {r.files:,} | {r.files_mb:.1f} | "
            f"{r.dump_mb:.1f} | {r.backup_s:.1f} | {r.backup_inner_s:.1f} ({r.database_s:.1f} + {r.files_s:.1f}) | "
            f"{r.again_s:.1f} | {r.restore_s:.1f} |"
        )
    lines += [
        "",
        "The 100,000 orders are bench/stats_bench.py's generator (each with its stage events, items, payments "
        "and visits); the photos are distinct 1200×900 JPEGs with their thumbnails (files = photos + thumbnails). "
        "PostgreSQL's dump is pg_dump's custom format (compressed); SQLite's is the database file itself, "
        "copied with SQLite's online backup API.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--photos", type=int, default=500)
    parser.add_argument("--skip-sqlite-orders", action="store_true")
    args = parser.parse_args()
    rows = asyncio.run(run(args))
    command = ".venv/bin/python bench/backup_bench.py" + "".join(f" {a}" for a in sys.argv[1:])
    RESULTS.write_text(markdown(rows, command), encoding="utf-8")
    print(RESULTS.read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()

"""Benchmark: what recording one audit row adds to a request (the order page, a reveal, an export).

Migrates a fresh database (a temporary SQLite file, or a temporary PostgreSQL database on 127.0.0.1:5432),
then times N calls of workflow.audit.record as the order page makes them, one after another, and prints
p50 / p99 / max in milliseconds. Loopback only; the temporary database is dropped on exit.

    .venv/bin/python bench/audit_bench.py [--backend sqlite|postgres] [-n 500]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg

from models import AuditAction, OrgUnit, Staff
from relay.db import close_db, migrate, open_db
from workflow import audit

PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"


async def run(url: str, n: int) -> list[float]:
    await migrate(url)
    await open_db(url)
    try:
        unit = await OrgUnit.create(name="公司", path="/1/")
        staff = await Staff.create(userid="bench", name="bench", roles=["sales"], org_unit=unit)
        timings = []
        for _ in range(n):
            start = time.perf_counter()
            await audit.record(AuditAction.ORDER_VIEW, actor=staff, ip="127.0.0.1")
            timings.append((time.perf_counter() - start) * 1000)
        return timings
    finally:
        await close_db()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("-n", type=int, default=500)
    args = parser.parse_args()
    if args.backend == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            timings = await run(f"sqlite://{Path(tmp) / 'bench.sqlite3'}", args.n)
    else:
        name = f"relay_bench_{uuid.uuid4().hex[:8]}"
        admin = await asyncpg.connect(PG_ADMIN)
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            timings = await run(f"postgres://postgres@127.0.0.1:5432/{name}", args.n)
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()
    timings.sort()
    p99 = timings[min(len(timings) - 1, int(len(timings) * 0.99))]
    print(
        f"{args.backend}: {len(timings)} audit rows, p50 {statistics.median(timings):.2f} ms, "
        f"p99 {p99:.2f} ms, max {timings[-1]:.2f} ms"
    )


if __name__ == "__main__":
    asyncio.run(main())

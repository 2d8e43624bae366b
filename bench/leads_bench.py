"""Benchmark: bookings (预约) arriving at once at one store, each assigned under the store's row lock.

Seeds the demo's staff (上海徐汇店 has two consultants) into a fresh database (a temporary SQLite file, or a
temporary PostgreSQL database on 127.0.0.1:5432), then books N leads through workflow.leads.create_lead as
reception would, `--concurrency` at a time, and prints the booking time (p50 / p95 / max, ms), bookings a
second, and where they went: each consultant's count and how many wait in the store's queue. Every
booking takes the store's lock to assign, so this is the worst case: all of them at one store.

    .venv/bin/python bench/leads_bench.py [--backend sqlite|postgres] [-n 200] [--concurrency 10]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import statistics
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

import asyncpg

from infra.config import DatabaseConfig
from infra.kv import MemoryStore
from infra.runtime import build_runtime
from models import Lead, LeadSource, OrgUnit, Staff
from relay.db import close_db, migrate, open_db
from relay.demo import demo_config, seed
from workflow.leads import LeadInput, create_lead

PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"
STORE = "上海徐汇店"


async def run(url: str, data_dir: Path, n: int, concurrency: int) -> None:
    config = demo_config(data_dir=data_dir, port=1, emulator_port=2)
    config = dataclasses.replace(config, database=DatabaseConfig(url=url))
    await migrate(url)
    await open_db(url)
    build_runtime(config, MemoryStore())
    try:
        await seed(with_orders=False)
        store = await OrgUnit.get(name=STORE)
        reception = await Staff.get(userid="fangqiantai")
        await Lead.all().delete()  # the demo's own bookings: start from an empty store
        timings: list[float] = []
        gate = asyncio.Semaphore(concurrency)

        async def book(i: int) -> None:
            async with gate:
                start = time.perf_counter()
                data = LeadInput(name=f"压测{i}", phone=f"139{i:08d}")
                await create_lead(actor=reception, store=store, data=data, source=LeadSource.STAFF)
                timings.append((time.perf_counter() - start) * 1000)

        began = time.perf_counter()
        await asyncio.gather(*(book(i) for i in range(n)))
        elapsed = time.perf_counter() - began
        timings.sort()
        held = Counter(
            name
            for name in await Lead.filter(consultant_id__isnull=False)
            .prefetch_related("consultant")
            .values_list("consultant__name", flat=True)
        )
        queued = await Lead.filter(consultant_id__isnull=True).count()
        print(f"{url.split(':')[0]}: {n} bookings at one store, {concurrency} at a time")
        print(
            f"booking ms p50 {statistics.median(timings):.1f}, p95 {timings[int(len(timings) * 0.95) - 1]:.1f}, "
            f"max {timings[-1]:.1f}; {n / elapsed:.0f} bookings/s"
        )
        print(f"assigned: {dict(held)}; queued: {queued}")
    finally:
        await close_db()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("-n", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.backend == "sqlite":
            await run(f"sqlite://{Path(tmp) / 'bench.sqlite3'}", Path(tmp), args.n, args.concurrency)
            return
        name = f"relay_bench_{uuid.uuid4().hex[:8]}"
        admin = await asyncpg.connect(PG_ADMIN)
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            await run(f"postgres://postgres@127.0.0.1:5432/{name}", Path(tmp), args.n, args.concurrency)
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()


if __name__ == "__main__":
    asyncio.run(main())

"""Benchmark: dealers' orders through their lifecycle (workflow/dealers.py), one after another.

Seeds the demo's staff, catalogue, stock and dealer price lists into a fresh database (a temporary PostgreSQL
database on 127.0.0.1:5432, or a temporary SQLite file), then has the demo's dealers make N orders of three
lines (two made to measure, one stocked), submit them (prices fixed, the stocked line reserved, the managers'
card queued) and the dealer manager accept them (the stocked line issued, one piece per made-to-measure unit,
the cards queued). Prints submit and accept times (p50 / p95 / max, ms) and the time of the dealer manager's
list of every order (the list page's query, at most 500 rows) once they are all there.

    .venv/bin/python bench/dealer_bench.py [--backend postgres|sqlite] [-n 200]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg

from infra.config import DatabaseConfig
from infra.kv import MemoryStore
from infra.runtime import build_runtime
from models import DealerPiece, Product, Staff, StockLevel
from relay.db import close_db, migrate, open_db
from relay.demo import demo_config, seed
from workflow import dealers, stock

PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"


def summary(label: str, timings: list[float]) -> str:
    timings = sorted(timings)
    p95 = timings[max(int(len(timings) * 0.95) - 1, 0)]
    return f"{label} ms p50 {statistics.median(timings):.1f}, p95 {p95:.1f}, max {timings[-1]:.1f}"


async def run(url: str, data_dir: Path, n: int) -> None:
    config = demo_config(data_dir=data_dir, port=1, emulator_port=2)
    config = dataclasses.replace(config, database=DatabaseConfig(url=url))
    await migrate(url)
    await open_db(url)
    build_runtime(config, MemoryStore())
    try:
        await seed(with_orders=False)
        from relay.demo_dealers import seed_dealers

        await seed_dealers()
        warehouse = await stock.default_warehouse()
        await StockLevel.filter(warehouse_id=warehouse.id).update(on_hand=100_000, reserved=0, safety_level=0)
        members = [await Staff.get(userid=u) for u in ("hengmei", "hengmeixu", "jiajia")]
        manager = await Staff.get(userid="qudaojingli")
        models = {p.model: p.id for p in await Product.all()}
        submits, accepts = [], []
        for i in range(n):
            member = members[i % len(members)]
            order = None
            for model, quantity in (("K5", 2), ("S1", 1), ("LS-01", 5)):
                order = await dealers.add_to_cart(
                    actor=member, product_id=models[model], quantity=quantity, order=order
                )
            assert order is not None
            start = time.perf_counter()
            await dealers.submit(actor=member, order=order)
            submits.append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            await dealers.accept(actor=manager, order=order)
            accepts.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        listed = await dealers.list_orders(manager, dealers.OrderFilter())
        listing = (time.perf_counter() - start) * 1000
        print(f"{url.split(':')[0]}: {n} dealer orders of 3 lines (2 made to measure, 1 stocked), one at a time")
        print(summary("submit", submits))
        print(summary("accept", accepts))
        print(f"the manager's list: {len(listed)} rows in {listing:.1f} ms; pieces {await DealerPiece.all().count()}")
    finally:
        await close_db()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="postgres")
    parser.add_argument("-n", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.backend == "sqlite":
            await run(f"sqlite://{Path(tmp) / 'bench.sqlite3'}", Path(tmp), args.n)
            return
        name = f"relay_bench_{uuid.uuid4().hex[:8]}"
        admin = await asyncpg.connect(PG_ADMIN)
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            await run(f"postgres://postgres@127.0.0.1:5432/{name}", Path(tmp), args.n)
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()


if __name__ == "__main__":
    asyncio.run(main())

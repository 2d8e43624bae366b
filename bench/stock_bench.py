"""Benchmark: orders reserving stock at once (workflow.stock.reserve, one conditional UPDATE per line).

Seeds the demo (its staff, catalogue and 华东仓) into a fresh database (a temporary PostgreSQL database on
127.0.0.1:5432, or a temporary SQLite file), gives the stocked products a fresh stock of `--stock` units
each, then has N orders reserve `--lines` products of one unit each, `--concurrency` at a time, each in
its own transaction. With `--products 1` every order wants the same product: the worst case, all waiting on
one row. Prints the reservation time (p50 / p95 / max, ms), reservations a second, how many won and how
many were told OutOfStock, and checks that no level went below zero and that the winners got exactly the
stock there was.

    .venv/bin/python bench/stock_bench.py [--backend postgres|sqlite] [-n 500] [--concurrency 10]
        [--products 1] [--lines 1] [--stock 250]
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
from models import Product, StockLevel, StockMove, StockMoveKind
from relay.db import close_db, migrate, open_db
from relay.demo import demo_config, seed
from workflow import stock

PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"


@dataclasses.dataclass(frozen=True)
class Plan:
    n: int
    concurrency: int
    products: int
    lines: int
    stock: int


async def run(url: str, data_dir: Path, plan: Plan) -> None:
    config = demo_config(data_dir=data_dir, port=1, emulator_port=2)
    config = dataclasses.replace(config, database=DatabaseConfig(url=url))
    await migrate(url)
    await open_db(url)
    build_runtime(config, MemoryStore())
    try:
        await seed(with_orders=False)
        warehouse = await stock.default_warehouse()
        stocked = await Product.filter(stock_kind__isnull=False).order_by("id").limit(plan.products)
        ids = [p.id for p in stocked]
        await StockMove.all().delete()
        # A fresh stock, no safety levels: what is measured is the reservation, not purchasing's cards.
        await StockLevel.filter(warehouse_id=warehouse.id).update(on_hand=plan.stock, reserved=0, safety_level=0)
        timings: list[float] = []
        refused = 0
        gate = asyncio.Semaphore(plan.concurrency)

        async def order(i: int) -> None:
            nonlocal refused
            wanted = [stock.Line(ids[(i + k) % len(ids)], 1) for k in range(min(plan.lines, len(ids)))]
            async with gate:
                start = time.perf_counter()
                try:
                    await stock.reserve(
                        warehouse_id=warehouse.id, lines=wanted, ref=f"bench:{i}", actor=None, reason="压测"
                    )
                except stock.OutOfStock:
                    refused += 1
                timings.append((time.perf_counter() - start) * 1000)

        began = time.perf_counter()
        await asyncio.gather(*(order(i) for i in range(plan.n)))
        elapsed = time.perf_counter() - began
        timings.sort()
        levels = await StockLevel.filter(warehouse_id=warehouse.id, product_id__in=ids)
        lowest = min(level.on_hand - level.reserved for level in levels)
        reserved = sum(level.reserved for level in levels)
        moves = await StockMove.filter(kind=StockMoveKind.RESERVED).count()
        assert lowest >= 0, lowest
        assert reserved == moves, (reserved, moves)
        print(
            f"{url.split(':')[0]}: {plan.n} orders of {plan.lines} line(s) over {len(ids)} product(s) "
            f"({plan.stock} each), {plan.concurrency} at a time"
        )
        print(
            f"reserve ms p50 {statistics.median(timings):.1f}, p95 {timings[int(len(timings) * 0.95) - 1]:.1f}, "
            f"max {timings[-1]:.1f}; {plan.n / elapsed:.0f} reservations/s"
        )
        print(f"won {plan.n - refused}, told out of stock {refused}; lowest available {lowest}; reserved {reserved}")
    finally:
        await close_db()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="postgres")
    parser.add_argument("-n", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--products", type=int, default=1)
    parser.add_argument("--lines", type=int, default=1)
    parser.add_argument("--stock", type=int, default=250)
    args = parser.parse_args()
    plan = Plan(args.n, args.concurrency, args.products, args.lines, args.stock)
    with tempfile.TemporaryDirectory() as tmp:
        if args.backend == "sqlite":
            await run(f"sqlite://{Path(tmp) / 'bench.sqlite3'}", Path(tmp), plan)
            return
        name = f"relay_bench_{uuid.uuid4().hex[:8]}"
        admin = await asyncpg.connect(PG_ADMIN)
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            await run(f"postgres://postgres@127.0.0.1:5432/{name}", Path(tmp), plan)
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()


if __name__ == "__main__":
    asyncio.run(main())

"""Benchmark: how long 我的任务 takes to read a member's queue (workflow.queue.queue_for), on SQLite.

Seeds the demo (staff, products, an order at every stage, through the workflow), then --orders more rows
written directly: half waiting for a measure dispatcher in the demo's store, half long finished, paid in
full and visited (sales' old orders, which the queue must skip without evaluating them). Times queue_for
for each demo member (the median of --runs) and prints a Markdown table.

    .venv/bin/python bench/queue_bench.py [--orders 2000] [--runs 5]

Everything lives in a temporary folder, removed on exit.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from tortoise.transactions import in_transaction

from infra.kv import MemoryStore
from infra.runtime import build_runtime, runtime
from infra.timeutil import utcnow
from models import Customer, Order, OrderState, OrgUnit, Payment, PaymentKind, PaymentMethod, Staff
from relay.db import close_db, migrate, open_db
from relay.demo import demo_config, seed
from workflow.queue import queue_for


async def extra_orders(n: int) -> None:
    sales = await Staff.get(userid="zhangxiaoshou")
    store = await OrgUnit.get(id=sales.org_unit_id)
    vault = runtime().vault
    async with in_transaction():
        customer = await Customer.create(
            name="压测客户", phone_encrypted=vault.encrypt("13800000000"), phone_index=vault.blind_index("13800000000")
        )
        for i in range(n):
            waiting = i % 2 == 0
            order = await Order.create(
                number=f"QB{i:06d}",
                customer=customer,
                address="上海",
                sales=sales,
                org_unit=store,
                state=OrderState.CREATED if waiting else OrderState.VISITED,
                state_since=utcnow(),
                contract_amount=None if waiting else Decimal("1000"),
            )
            if not waiting:
                await Payment.create(
                    order=order, amount=Decimal("1000"), method=PaymentMethod.CASH, kind=PaymentKind.FULL
                )


async def main(orders: int, runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        config = demo_config(data_dir=Path(tmp), port=1, emulator_port=2)
        await migrate(config.database.url)
        await open_db(config.database.url)
        build_runtime(config, MemoryStore())
        try:
            await seed()
            await extra_orders(orders)
            print(f"SQLite, {await Order.all().count()} orders\n")
            print("| member | items | median ms | max ms |\n|---|---|---|---|")
            for member in await Staff.all().order_by("id"):
                times, items = [], 0
                for _ in range(runs):
                    start = time.perf_counter()
                    items = len(await queue_for(member))
                    times.append((time.perf_counter() - start) * 1000)
                print(f"| {member.name} | {items} | {statistics.median(times):.0f} | {max(times):.0f} |")
        finally:
            await close_db()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main(args.orders, args.runs))

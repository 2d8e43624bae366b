"""Give the benchmark's measurer an accepted measure task, so the photo burst takes the site-photo path.

Goes through the workflow like the demo's seed: sales opens an order, a dispatcher sends it to the
measurer, the measurer accepts. Run after `relay migrate` and the staff and product imports, before
`relay serve` (the cards it queues are delivered once Relay runs).
Run: python bench/seed_task.py --config X --measurer sunceliang [more measurers: one order each, numbered on]
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import date, timedelta

from infra.timeutil import local_today
from models import Order, Product, Staff, Task, TaskKind
from relay.app import running_services
from relay.config import load_config
from workflow.orders import ItemInput, create_order
from workflow.tasks import answer_task, dispatch_task


async def dispatch_and_accept(*, dispatcher: Staff, measurer: Staff, order: Order, day: date) -> Task:
    task = await dispatch_task(actor=dispatcher, order=order, kind=TaskKind.MEASURE, worker_id=measurer.id, day=day)
    return await answer_task(actor=measurer, task_id=task.id, accept=True)


async def seed(
    config_path: str, *, sales: str, dispatcher: str, measurers: list[str], number: str, dispatched: int = 0
) -> None:
    async with running_services(load_config(config_path), background=False):
        for i, measurer in enumerate(measurers):
            await seed_one(
                sales=sales,
                dispatcher=dispatcher,
                measurer=measurer,
                number=number if i == 0 else f"{number}-M{i:03d}",
                dispatched=dispatched,
            )


async def seed_one(*, sales: str, dispatcher: str, measurer: str, number: str, dispatched: int) -> None:
    seller = await Staff.get(userid=sales)
    boss = await Staff.get(userid=dispatcher)
    worker = await Staff.get(userid=measurer)
    product = await Product.filter(active=True).order_by("id").first()
    assert product is not None, "import the products first"
    order = await create_order(
        actor=seller,
        number=number,
        customer_name="压测客户",
        phone="13800000000",
        address="上海市徐汇区漕溪北路 1 号",
        items=[ItemInput(product_id=product.id, room="主卫")],
        expected_measure_date=local_today() + timedelta(days=1),
    )
    task = await dispatch_and_accept(dispatcher=boss, measurer=worker, order=order, day=local_today())
    for i in range(dispatched):  # cards with 接单 waiting to be tapped (bench/e2e_bench.py)
        more = await create_order(
            actor=seller,
            number=f"{number}-T{i + 1:03d}",
            customer_name="压测客户",
            phone="13800000000",
            address="上海市徐汇区漕溪北路 1 号",
            items=[ItemInput(product_id=product.id, room="主卫")],
            expected_measure_date=local_today() + timedelta(days=1),
        )
        await dispatch_task(actor=boss, order=more, kind=TaskKind.MEASURE, worker_id=worker.id, day=local_today())
    print(f"order {order.number}: measure task {task.id} accepted by {worker.userid}", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="seed one accepted measure task for the callback benchmark")
    parser.add_argument("--config", required=True)
    parser.add_argument("--sales", default="zhangxiaoshou")
    parser.add_argument("--dispatcher", default="zhaopaidan")
    parser.add_argument("--measurer", nargs="+", default=["sunceliang"])
    parser.add_argument("--number", default="BENCH-0001")
    parser.add_argument(
        "--dispatched", type=int, default=0, help="also this many orders dispatched to each measurer, not accepted"
    )
    args = parser.parse_args(argv)
    asyncio.run(
        seed(
            args.config,
            sales=args.sales,
            dispatcher=args.dispatcher,
            measurers=args.measurer,
            number=args.number,
            dispatched=args.dispatched,
        )
    )


if __name__ == "__main__":
    main()

"""Orders for the managers' numbers: N orders over the last two months across a few stores, each at a
random stage with its stage times, so 本月统计 has real figures and a chart with several groups.

Writes the rows directly (like the stats tests' generator), not through the workflow: only the figures
matter here. Run after `relay migrate` and the staff import, before `relay serve`.
Run: python bench/seed_orders.py --config X [--orders 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import random
from datetime import time, timedelta

from tortoise.transactions import in_transaction

from infra.security import PiiVault
from infra.timeutil import local_moment, local_today
from models import Customer, Order, OrderState, Staff
from relay.config import load_config
from relay.db import close_db, open_db
from workflow.admin import ensure_unit

STORES = [
    "朗斯家居/华东区/上海徐汇店",
    "朗斯家居/华东区/上海浦东店",
    "朗斯家居/华东区/杭州西湖店",
    "朗斯家居/华南区/广州天河店",
    "朗斯家居/华南区/深圳南山店",
    "朗斯家居/华北区/北京朝阳店",
]
# The stage each order reached, and the stage-time column set on reaching it.
PROGRESS = [
    (OrderState.CREATED, None),
    (OrderState.MEASURED, "measured_at"),
    (OrderState.DESIGNED, "designed_at"),
    (OrderState.CONFIRMED, "confirmed_at"),
    (OrderState.IN_STOCK, "in_stock_at"),
    (OrderState.INSTALLED, "installed_at"),
]


async def seed(config_path: str, *, orders: int, seed: int) -> None:
    config = load_config(config_path)
    await open_db(config.database.url)
    try:
        rng = random.Random(seed)
        sales = await Staff.get(userid="zhangxiaoshou")
        units = [await ensure_unit(path) for path in STORES]
        today = local_today()
        async with in_transaction():
            vault = PiiVault(config.security.pii_key)
            phone = "13800000000"
            customer = await Customer.create(
                name="压测客户", phone_encrypted=vault.encrypt(phone), phone_index=vault.blind_index(phone)
            )
            for i in range(orders):
                created = local_moment(today - timedelta(days=rng.randint(0, 60)), time(rng.randint(8, 20)))
                reached = rng.randint(0, len(PROGRESS) - 1)
                stamps = {}
                moment = created
                for _, column in PROGRESS[1 : reached + 1]:
                    moment += timedelta(hours=rng.randint(5, 24 * 6))
                    stamps[column] = moment
                order = await Order.create(
                    number=f"TX{i:06d}",
                    customer=customer,
                    address="—",
                    sales=sales,
                    org_unit=rng.choice(units),
                    state=PROGRESS[reached][0],
                    state_since=moment,
                    **stamps,
                )
                await Order.filter(id=order.id).update(created_at=created)  # auto_now_add sets it on create
        print(f"{orders} orders over {len(units)} stores", flush=True)
    finally:
        await close_db()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="seed orders for the managers' numbers")
    parser.add_argument("--config", required=True)
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=8)
    args = parser.parse_args(argv)
    asyncio.run(seed(args.config, orders=args.orders, seed=args.seed))


if __name__ == "__main__":
    main()

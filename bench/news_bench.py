"""Benchmark: posting news (公告) to a large audience, and what one card per member would cost instead.

Seeds the demo's staff into a fresh database (a temporary SQLite file, or a temporary PostgreSQL database on
127.0.0.1:5432) and N sales in one new store, then posts a promotion to that store through
workflow.news.post_news, `--repeat` times, and prints the time of a post (the audience read, the item, the
delivery rows and the outbox rows, in one transaction: p50 / max, ms) and how many outbox rows it queued. For
comparison it then queues, in one transaction as well, what one card per member would be: N outbox rows of one
recipient each (and the same N delivery rows).

    .venv/bin/python bench/news_bench.py [--backend sqlite|postgres] [-n 5000] [--repeat 3]
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
from tortoise.transactions import in_transaction

from bot.outbox import enqueue_message
from cards.news import news_card
from infra.config import DatabaseConfig
from infra.delivery import Priority
from infra.kv import MemoryStore
from infra.runtime import build_runtime, runtime
from models import News, NewsDelivery, OutboxMessage, Role, Staff
from relay.db import close_db, migrate, open_db
from relay.demo import demo_config, seed
from workflow.admin import ensure_unit
from workflow.news import NewsInput, news_view, post_news

PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"


async def run(url: str, data_dir: Path, n: int, repeat: int) -> None:
    config = demo_config(data_dir=data_dir, port=1, emulator_port=2)
    config = dataclasses.replace(config, database=DatabaseConfig(url=url))
    await migrate(url)
    await open_db(url)
    build_runtime(config, MemoryStore())
    try:
        await seed(with_orders=False)
        store = await ensure_unit("朗斯家居/华东区/压测门店")
        await Staff.bulk_create(
            [
                Staff(userid=f"bench{i:05d}", name=f"压测{i}", roles=[Role.SALES.value], org_unit=store)
                for i in range(n)
            ],
            batch_size=1000,
        )
        author = await Staff.get(userid="liujingli")
        form = NewsInput(
            title="年终冲刺", body="本月成交前十名门店有奖励。" * 5, kind="promotion", roles=[], unit_ids=[store.id]
        )
        timings: list[float] = []
        rows: list[int] = []
        for _ in range(repeat):
            before = await OutboxMessage.all().count()
            start = time.perf_counter()
            await post_news(author=author, form=form)
            timings.append((time.perf_counter() - start) * 1000)
            rows.append(await OutboxMessage.all().count() - before)

        # The alternative: a card of its own for every member, queued in the same one transaction.
        members = await Staff.filter(org_unit_id=store.id).order_by("id")
        news = await News.filter(author_id=author.id).order_by("-id").first()
        assert news is not None
        view = news_view(news, author)
        start = time.perf_counter()
        async with in_transaction():
            for member in members:
                await enqueue_message(news_card([member.userid], view, links=runtime().links), priority=Priority.PUSH)
            await NewsDelivery.filter(news_id=news.id).delete()
            await NewsDelivery.bulk_create(
                [NewsDelivery(news_id=news.id, staff_id=m.id, card_task_id="x") for m in members], batch_size=500
            )
        single = (time.perf_counter() - start) * 1000

        print(f"{url.split(':')[0]}: news to {n} members, {repeat} posts")
        print(
            f"post ms p50 {statistics.median(timings):.0f}, max {max(timings):.0f}; "
            f"outbox rows per post {rows[0]} (one card per {-(-n // rows[0])} members)"
        )
        print(f"one card per member instead: {single:.0f} ms for {n} outbox rows")
    finally:
        await close_db()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("-n", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.backend == "sqlite":
            await run(f"sqlite://{Path(tmp) / 'bench.sqlite3'}", Path(tmp), args.n, args.repeat)
            return
        name = f"relay_bench_{uuid.uuid4().hex[:8]}"
        admin = await asyncpg.connect(PG_ADMIN)
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            await run(f"postgres://postgres@127.0.0.1:5432/{name}", Path(tmp), args.n, args.repeat)
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()


if __name__ == "__main__":
    asyncio.run(main())

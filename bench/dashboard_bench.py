"""The managers' dashboard as a browser opens it: the page, then its chart (`<img src=chart.png>`).

Starts Relay (the real app factory, no background loops) on a fresh SQLite database in a temp folder, with the
demo's staff and `--orders` generated orders, and opens the dashboard as 王总 (the whole company):

- *first open*: a period nobody has opened yet (each a different month), one after another (idle), then
  `--clients` managers at once (under load: their pages and charts compete for the same 2 cores);
- *revisit*: the same periods again, idle and under load.

Each figure is the time from asking for the page to having the chart's last byte. Run it from a checkout
to measure that checkout (`cd <checkout> && .venv/bin/python bench/dashboard_bench.py`).

    .venv/bin/python bench/dashboard_bench.py [--orders 2000] [--clients 8] [--rounds 3]

Writes bench/results/dashboard-sqlite.md (`--report` to write elsewhere). Loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import unused_port
from gitinfo import working_tree_label  # noqa: E402  (bench/ is the script's folder)

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from infra.runtime import runtime  # noqa: E402
from infra.timeutil import local_moment, local_today  # noqa: E402
from models import Customer, Order, OrderState, Staff  # noqa: E402
from relay.app import init_app  # noqa: E402
from relay.config import load_config  # noqa: E402
from relay.db import migrate  # noqa: E402
from relay.demo import demo_data  # noqa: E402
from webviews.auth import SESSION_COOKIE, session_value  # noqa: E402
from workflow.admin import ensure_unit, import_products, import_staff  # noqa: E402

RESULTS = ROOT / "bench" / "results"
STORES = ["朗斯家居/华东区/上海徐汇店", "朗斯家居/华东区/上海浦东店", "朗斯家居/华南区/广州天河店",
          "朗斯家居/华北区/北京朝阳店"]  # fmt: skip
STAMPS = ("measured_at", "designed_at", "confirmed_at", "in_stock_at", "installed_at")
STATES = (OrderState.CREATED, OrderState.MEASURED, OrderState.DESIGNED, OrderState.CONFIRMED, OrderState.IN_STOCK,
          OrderState.INSTALLED)  # fmt: skip


def config(url: str, storage: Path, port: int) -> Any:
    return load_config(
        None,
        env={},
        overrides={
            "server": {"host": "127.0.0.1", "port": port, "public_url": f"http://127.0.0.1:{port}"},
            "database": {"url": url},
            "redis": {"url": ""},
            "wecom": {
                "corp_id": "wwbenchdash000001",
                "agent_id": 1000002,
                "secret": secrets.token_urlsafe(24),
                "token": secrets.token_hex(8),
                "encoding_aes_key": "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C",
                "api_base": "http://127.0.0.1:9/cgi-bin/",  # never called
                "oauth_url": "http://127.0.0.1:9/connect/oauth2/authorize",
            },
            "storage": {"path": str(storage)},
            "security": {
                "secret_key": secrets.token_urlsafe(32),
                "pii_key": secrets.token_urlsafe(32),
                "api_per_minute": 1_000_000,
            },  # fmt: skip
            "schedule": {"automatic": False},
        },
    )


async def seed(orders: int) -> None:
    await import_staff(demo_data("staff.csv"))
    await import_products(demo_data("products.csv"))
    rng = random.Random(11)
    sales = await Staff.get(userid="zhangxiaoshou")
    vault = runtime().vault
    customer = await Customer.create(
        name="压测客户", phone_encrypted=vault.encrypt("13800000000"), phone_index=vault.blind_index("13800000000")
    )
    units = [await ensure_unit(path) for path in STORES]
    today = local_today()
    for i in range(orders):
        created = local_moment(today - timedelta(days=rng.randint(0, 730)))
        reached = rng.randint(0, len(STATES) - 1)
        stamps, moment = {}, created
        for column in STAMPS[:reached]:
            moment += timedelta(hours=rng.randint(5, 24 * 6))
            stamps[column] = moment
        order = await Order.create(
            number=f"DB{i:06d}", customer=customer, address="—", sales=sales, org_unit=rng.choice(units),
            state=STATES[reached], **stamps,
        )  # fmt: skip
        await Order.filter(id=order.id).update(created_at=created)


def months(first: int, n: int) -> list[str]:
    """`n` distinct month queries, counting back from `first` months ago."""
    out = []
    today = local_today().replace(day=1)
    for k in range(first, first + n):
        year, month = divmod(today.year * 12 + today.month - 1 - k, 12)
        start = date(year, month + 1, 1)
        end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        out.append(f"from={start.isoformat()}&to={end.isoformat()}")
    return out


async def open_dashboard(http: aiohttp.ClientSession, base: str, query: str) -> float:
    t0 = time.perf_counter()
    async with http.get(f"{base}/h5/dashboard?{query}") as resp:
        await resp.read()
        assert resp.status == 200, resp.status
    async with http.get(f"{base}/h5/dashboard/chart.png?{query}") as resp:
        body = await resp.read()
        assert resp.status == 200 and body[:4] == b"\x89PNG", resp.status
    return (time.perf_counter() - t0) * 1000


async def sequential(http: aiohttp.ClientSession, base: str, queries: list[str]) -> list[float]:
    return [await open_dashboard(http, base, q) for q in queries]


async def concurrent(http: aiohttp.ClientSession, base: str, queries: list[str], clients: int) -> list[float]:
    async def client(mine: list[str]) -> list[float]:
        return [await open_dashboard(http, base, q) for q in mine]

    parts = await asyncio.gather(*(client(queries[i::clients]) for i in range(clients)))
    return [t for part in parts for t in part]


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def run(args: argparse.Namespace) -> str:
    folder = Path(tempfile.mkdtemp(prefix="relay-bench-dashboard-"))
    url = f"sqlite://{folder / 'relay.sqlite3'}"
    try:
        await migrate(url)
        port = unused_port()
        app = init_app(config(url, folder / "files", port), background=False)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        base = f"http://127.0.0.1:{port}"
        try:
            t0 = time.perf_counter()
            await seed(args.orders)
            print(f"seeded {args.orders} orders in {time.perf_counter() - t0:.1f}s", flush=True)
            cookies = {SESSION_COOKIE: session_value("wangzong")}
            load = os.getloadavg()
            rows = []
            async with aiohttp.ClientSession(cookies=cookies) as http:
                await open_dashboard(http, base, months(0, 1)[0])  # the process's first chart: matplotlib's start-up
                idle = months(1, 8)
                loaded = months(9, args.clients * args.rounds)
                many = args.clients
                for name, work in (
                    ("first open, idle (one at a time)", lambda: sequential(http, base, idle)),
                    ("revisit, idle", lambda: sequential(http, base, idle)),
                    (f"first open, {many} managers at once", lambda: concurrent(http, base, loaded, many)),
                    (f"revisit, {many} managers at once", lambda: concurrent(http, base, loaded, many)),
                ):
                    times = await work()
                    print(f"{name}: p50 {statistics.median(times):,.0f} ms, p95 {pct(times, 95):,.0f} ms", flush=True)
                    rows.append(
                        f"| {name} | {len(times)} | {statistics.median(times):,.0f} | {pct(times, 95):,.0f} | "
                        f"{max(times):,.0f} |"
                    )
        finally:
            await runner.cleanup()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return "\n".join(
        [
            "# Dashboard: first open and revisit (SQLite)",
            "",
            f"`.venv/bin/python bench/dashboard_bench.py --orders {args.orders} --clients {args.clients} "
            f"--rounds {args.rounds}`",
            "",
            f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; Relay: {working_tree_label()}; {args.orders:,} orders over two "
            f"years in 4 stores, as 王总 (the whole company, 3 regions). Load average before the runs {load[0]:.2f} / "
            f"{load[1]:.2f} / {load[2]:.2f} on 2 cores (shared with other work: compare rows of one run).",
            "",
            "From asking for `/h5/dashboard?from=…&to=…` to the last byte of its `chart.png`, ms; each first open "
            "is a month nobody opened before.",
            "",
            "| case | opens | p50 | p95 | max |",
            "|---|---:|---:|---:|---:|",
            *rows,
            "",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--report", type=Path, default=RESULTS / "dashboard-sqlite.md")
    args = parser.parse_args(argv)
    text = asyncio.run(run(args))
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(text, encoding="utf-8")
    print(f"wrote {args.report}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The managers' numbers with money (本月统计) on SQLite, over the million orders `stats_bench.py --keep` loaded.

Copies that PostgreSQL database's rows (company tree, staff, customers, orders with their priced lines,
payments, events and visits) into a fresh SQLite file that Relay's migrations built, stored exactly as
tortoise stores them (datetimes as UTC text, decimals as text), checks that the money figures on SQLite
equal those on PostgreSQL, then times `workflow.stats.stats_for` for the top manager and the store manager,
本月 and the previous month, `--runs` times each, through Relay's runtime (`running_services`, no Redis).

    .venv/bin/python bench/stats_sqlite.py --database <the URL stats_bench.py --keep printed> [--file PATH]

Writes bench/results/issue12-stats-sqlite.md. Reads PostgreSQL only; the SQLite file is deleted at the end
unless --keep.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
from gitinfo import working_tree_label  # noqa: E402  (bench/ is the script's folder)
from stats_bench import bench_config, previous_month  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from cards.views import Stats  # noqa: E402
from infra.timeutil import local_today  # noqa: E402
from models import Staff  # noqa: E402
from relay.app import running_services  # noqa: E402
from relay.db import migrate  # noqa: E402
from workflow.stats import parse_period, stats_for  # noqa: E402

RESULTS = ROOT / "bench" / "results"
TABLES = ("org_unit", "staff", "customer", "order", "order_item", "payment", "order_event", "visit")
VIEWERS = {"top manager": "bench-boss", "store manager": "bench-store-manager"}


def to_sqlite(value: Any) -> Any:
    """As tortoise's SQLite executor adapts a value (tortoise/backends/sqlite/executor.py)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bool):
        return int(value)
    return value


async def copy(pg: asyncpg.Connection, path: Path) -> dict[str, tuple[int, float]]:
    done: dict[str, tuple[int, float]] = {}
    lite = sqlite3.connect(path)
    try:
        lite.execute("PRAGMA synchronous = OFF")  # a bulk load into a throwaway file
        for table in TABLES:
            t0 = time.perf_counter()
            columns = [r[1] for r in lite.execute(f'PRAGMA table_info("{table}")')]
            found = await pg.fetch("SELECT column_name FROM information_schema.columns WHERE table_name = $1", table)
            pg_columns = {r[0] for r in found}
            cols = [c for c in columns if c in pg_columns]
            quoted = ", ".join(f'"{c}"' for c in cols)
            insert = f'INSERT INTO "{table}" ({quoted}) VALUES ({", ".join("?" for _ in cols)})'
            n = 0
            async with pg.transaction():
                cursor = await pg.cursor(f'SELECT {quoted} FROM "{table}" ORDER BY id')
                while rows := await cursor.fetch(20_000):
                    lite.executemany(insert, [tuple(to_sqlite(v) for v in row) for row in rows])
                    n += len(rows)
            lite.commit()
            done[table] = (n, time.perf_counter() - t0)
            print(f"  {table}: {n:,} rows in {done[table][1]:.0f} s", flush=True)
    finally:
        lite.close()
    return done


def money_of(stats: Stats) -> tuple[Any, ...]:
    m = stats.total.money
    assert m is not None
    series = tuple((s.series, s.orders, s.quantity, s.amount) for s in stats.series)
    return (m.contract, m.contract_orders, m.collected, m.collected_confirmed, m.outstanding,
            m.outstanding_orders, m.avg_discount, series, stats.total.counts)  # fmt: skip


async def figures(url: str, storage: Path, periods: dict[str, Any]) -> dict[tuple[str, str], Stats]:
    out = {}
    async with running_services(bench_config(url, storage), background=False):
        for who, userid in VIEWERS.items():
            viewer = await Staff.get(userid=userid)
            for asked, period in periods.items():
                out[(who, asked)] = await stats_for(viewer, period)
    return out


async def run(args: argparse.Namespace) -> str:
    storage = Path(tempfile.mkdtemp(prefix="relay-bench-sqlite-"))
    path = args.file or storage / "relay.sqlite3"
    url = f"sqlite://{path}"
    today = local_today()
    periods = {"本月": parse_period("本月", today=today), previous_month(today): parse_period(previous_month(today))}
    lines: list[str] = []
    try:
        await migrate(url)
        pg = await asyncpg.connect(args.database)
        try:
            print(f"copying {args.database} into {path}", flush=True)
            copied = await copy(pg, path)
        finally:
            await pg.close()
        size = path.stat().st_size

        print("the same figures on both databases?", flush=True)
        on_pg = await figures(args.database, storage, periods)
        on_lite = await figures(url, storage, periods)
        same = {key: money_of(on_pg[key]) == money_of(on_lite[key]) for key in on_pg}

        print(f"timing stats_for, {args.runs} runs a case", flush=True)
        load = os.getloadavg()
        rows: list[str] = []
        async with running_services(bench_config(url, storage), background=False):
            for who, userid in VIEWERS.items():
                viewer = await Staff.get(userid=userid)
                for asked, period in periods.items():
                    times = []
                    for _ in range(args.runs):
                        t0 = time.perf_counter()
                        await stats_for(viewer, period)
                        times.append((time.perf_counter() - t0) * 1000)
                    rest = times[1:] or times
                    print(f"  {who} · {asked}: {' / '.join(f'{t:,.0f}' for t in times)} ms", flush=True)
                    rows.append(
                        f"| {who} · {asked} | {times[0]:,.0f} | {statistics.median(rest):,.0f} | {min(rest):,.0f} | "
                        f"{max(rest):,.0f} | {' / '.join(f'{t:,.0f}' for t in times)} |"
                    )
        lines = [
            "# Stats benchmark: SQLite, 本月统计 with money over the million generated orders",
            "",
            f"`.venv/bin/python bench/stats_sqlite.py --database {args.database} --runs {args.runs}`",
            "",
            f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; Relay: {working_tree_label()}; machine: {os.cpu_count()} "
            f"cores; SQLite {sqlite3.sqlite_version}; file {size / 2**20:,.0f} MiB (migrated by `relay.db.migrate`, "
            "no ANALYZE: Relay runs none). Load average before the timings "
            f"{' / '.join(f'{x:.2f}' for x in load)}.",
            "",
            "Rows copied from the PostgreSQL database `stats_bench.py --keep` loaded (same orders, lines, payments):",
            "",
            *[f"- {t}: {n:,} rows ({s:.0f} s)" for t, (n, s) in copied.items()],
            "",
            "Money figures (contract, collected, confirmed, outstanding, orders, average discount, by series) and "
            "the five counts, SQLite against PostgreSQL: "
            + ", ".join(f"{who} · {asked} {'same' if ok else '**DIFFERENT**'}" for (who, asked), ok in same.items())
            + ".",
            "",
            "| case | cold ms | median ms | min ms | max ms | every run, ms |",
            "|---|---:|---:|---:|---:|---|",
            *rows,
            "",
        ]
    finally:
        if args.keep:
            print(f"kept {path}", flush=True)
        else:
            shutil.rmtree(storage, ignore_errors=True)
            if args.file:
                Path(args.file).unlink(missing_ok=True)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--database", required=True, help="a PostgreSQL database loaded by stats_bench.py --keep")
    parser.add_argument("--file", type=Path, help="the SQLite file to write (default: a temporary one)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the SQLite file")
    parser.add_argument("--report", type=Path, default=RESULTS / "issue12-stats-sqlite.md")
    args = parser.parse_args(argv)
    text = asyncio.run(run(args))
    args.report.write_text(text, encoding="utf-8")
    print(f"wrote {args.report}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

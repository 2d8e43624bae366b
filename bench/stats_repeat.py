"""The managers' numbers asked again and again, on a database `stats_bench.py --keep` loaded once.

A statement's plan can change after it has run a few times on a connection (PostgreSQL plans a prepared
statement for its values five times, then may switch to one generic plan), so a figure that is fast on its
first asks may not stay fast. This times `workflow.stats.stats_for` `--runs` times in a row for the top
manager and a store manager, for 本月 and for the whole previous month, through Relay's runtime; then the
chart: drawn once, and asked again for the same scope and period (the cache).

    .venv/bin/python bench/stats_repeat.py --database <the URL `stats_bench.py --keep` printed>

Writes bench/results/stats-repeat-postgres.md. Reads only; the database is left as it was.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from gitinfo import working_tree_label  # noqa: E402  (bench/ is the script's folder)
from stats_bench import bench_config, previous_month  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from cards.views import Period  # noqa: E402
from infra.timeutil import local_today  # noqa: E402
from models import Staff  # noqa: E402
from relay.app import running_services  # noqa: E402
from workflow.stats import parse_period, stats_for  # noqa: E402

RESULTS = ROOT / "bench" / "results"
VIEWERS = {"top manager": "bench-boss", "store manager": "bench-store-manager"}


async def run(args: argparse.Namespace) -> str:
    storage = Path(tempfile.mkdtemp(prefix="relay-bench-repeat-"))
    today = local_today()
    periods = {"本月": parse_period("本月", today=today), previous_month(today): parse_period(previous_month(today))}
    load = os.getloadavg()
    rows: list[str] = []
    chart_lines: list[str] = []
    try:
        async with running_services(bench_config(args.database, storage), background=False):
            for who, userid in VIEWERS.items():
                viewer = await Staff.get(userid=userid)
                for asked, period in periods.items():
                    times = []
                    for _ in range(args.runs):
                        t0 = time.perf_counter()
                        await stats_for(viewer, period)
                        times.append((time.perf_counter() - t0) * 1000)
                    first, rest = times[:5], times[5:]
                    print(f"{who} · {asked}: " + " / ".join(f"{t:,.0f}" for t in times), flush=True)
                    rows.append(
                        f"| {who} · {asked} | {statistics.median(first):,.0f} | "
                        f"{statistics.median(rest) if rest else float('nan'):,.0f} | {min(times):,.0f} | "
                        f"{max(times):,.0f} | {' / '.join(f'{t:,.0f}' for t in times)} |"
                    )
            if not args.no_chart:
                chart_lines = await time_chart(periods["本月"])
    finally:
        shutil.rmtree(storage, ignore_errors=True)
    return "\n".join(
        [
            "# Stats asked again and again: PostgreSQL, 1,000,000 orders",
            "",
            f"`.venv/bin/python bench/stats_repeat.py --database <kept database> --runs {args.runs}`",
            "",
            f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; Relay: {working_tree_label()}; database "
            f"`{args.database.rsplit('/', 1)[1]}` (loaded by `bench/stats_bench.py --keep`: 1,000,000 orders over "
            "three years, 120 stores, the store manager's store about 8,400 orders). Load average before the runs "
            f"{load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} on 2 cores (other engineers' work shares this machine: "
            "compare runs within this table, not with a quiet machine).",
            "",
            f"`stats_for` {args.runs} times in a row per case on one connection pool, ms. PostgreSQL plans a "
            "prepared statement for its values on its first five runs and may then switch to a generic plan: "
            "*runs 1–5* and *runs 6+* are the medians before and after that point.",
            "",
            "| case | runs 1–5 median | runs 6+ median | min | max | every run |",
            "|---|---:|---:|---:|---:|---|",
            *rows,
            "",
            *chart_lines,
            "",
        ]
    )


async def time_chart(period: Period) -> list[str]:
    from cards.charts import chart_data
    from workflow.charts import chart_file, chart_key

    lines = []
    stats = await stats_for(await Staff.get(userid=VIEWERS["top manager"]), period)
    key = chart_key(stats.unit.id, period)
    for attempt in ("drawn (the first of the process)", "asked again (cached)"):
        t0 = time.perf_counter()
        await chart_file(key, chart_data(stats))
        lines.append(f"- chart for the top manager · 本月, {attempt}: {(time.perf_counter() - t0) * 1000:,.1f} ms")
        print(lines[-1], flush=True)
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--database", required=True, help="a database loaded by stats_bench.py --keep")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--no-chart", action="store_true", help="time the numbers only (a checkout before the cache)")
    parser.add_argument("--report", type=Path, default=RESULTS / "stats-repeat-postgres.md")
    args = parser.parse_args(argv)
    text = asyncio.run(run(args))
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(text, encoding="utf-8")
    print(f"wrote {args.report}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

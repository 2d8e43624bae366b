"""Where the test suite's time goes: a pytest plugin that writes, per test, the CPU its process spent, the CPU
of the child processes it ended (Relay processes, pg_dump, schemathesis) and the wall time, one JSON line
per test into a file per xdist worker; and a report of them.

    rm -f /tmp/suite-cpu-*.jsonl
    PYTHONPATH=bench .venv/bin/python -m pytest -n 3 --dist loadgroup -q -p no:cacheprovider -p suite_cpu
    .venv/bin/python bench/suite_cpu.py            # the totals, the costliest modules and tests

(A child's CPU is counted when it is reaped: a process that outlives its test lands on a later one.)
"""

from __future__ import annotations

import collections
import glob
import json
import os
import sys
import time
from collections.abc import Generator
from typing import Any

import pytest

PATTERN = os.environ.get("SUITE_CPU_FILES", "/tmp/suite-cpu-{worker}.jsonl")


def _write(row: dict[str, Any]) -> None:
    path = PATTERN.format(worker=os.environ.get("PYTEST_XDIST_WORKER", "main"))
    with open(path, "a", encoding="utf-8") as out:
        out.write(json.dumps(row) + "\n")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, None, None]:
    cpu, wall, before = time.process_time(), time.perf_counter(), os.times()
    yield
    after = os.times()
    child = (after.children_user + after.children_system) - (before.children_user + before.children_system)
    row = {
        "id": item.nodeid,
        "cpu": time.process_time() - cpu,
        "child": child,
        "wall": time.perf_counter() - wall,
        "end": time.time(),  # when it ended: what ran last, and alone
    }
    _write(row)


def report(rows: list[dict[str, Any]], top: int = 25) -> str:
    lines = [
        f"{len(rows)} tests: {sum(r['cpu'] for r in rows):.0f} s CPU in the test processes, "
        f"{sum(r['child'] for r in rows):.0f} s in their children, {sum(r['wall'] for r in rows):.0f} s of test time",
        "",
        "| module | tests | CPU s | children s | wall s |",
        "|---|---:|---:|---:|---:|",
    ]
    modules: dict[str, list[float]] = collections.defaultdict(lambda: [0, 0.0, 0.0, 0.0])
    for r in rows:
        m = modules[r["id"].split("::")[0]]
        m[0] += 1
        m[1] += r["cpu"]
        m[2] += r["child"]
        m[3] += r["wall"]
    for name, (n, cpu, child, wall) in sorted(modules.items(), key=lambda kv: -(kv[1][1] + kv[1][2]))[:top]:
        lines.append(f"| {name} | {n:.0f} | {cpu:.1f} | {child:.1f} | {wall:.1f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    files = glob.glob(PATTERN.format(worker="*"))
    if not files:
        sys.exit(f"no {PATTERN.format(worker='*')}: run the suite with -p suite_cpu first")
    rows = []
    for name in files:
        with open(name, encoding="utf-8") as f:
            rows += [json.loads(line) for line in f]
    print(report(rows))

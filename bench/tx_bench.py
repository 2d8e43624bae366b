"""Benchmark: how long a WeCom callback takes to be stored and answered while managers ask for 本月统计, on
SQLite (the demo's setup).

On SQLite a transaction holds Relay's one database connection, so a callback's INSERT waits for any
transaction open at that moment; when a chat handler drew and stored the chart inside the inbox
transaction, every callback that arrived meanwhile waited for the chart.

Starts the WeCom emulator and `relay serve` on a fresh SQLite file (as bench/callback_bench.py does),
seeds N orders over a few stores (bench/seed_orders.py), then sends probe callbacks — a text message from
a salesperson, one at a time, every --interval seconds — and times each from sending to the empty 200:
first with nothing else going on (idle), then while three managers each ask for 本月统计 again and again
(each waits for its answer to be handled before asking again) until --stats requests are handled.

    .venv/bin/python bench/tx_bench.py [--before REV] [--stats 30] [--orders 2000] [--interval 0.02]

--before REV runs the same against Relay as committed at REV (exported with git archive) first, for the
figures before a change. Writes bench/results/tx-sqlite.md. Loopback only; every subprocess and the
temporary files are removed on exit, also on error or Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import platform
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from callback_bench import (  # bench/ is the script's folder
    BENCH,
    CALLBACK_PATH,
    DEMO_DATA,
    PYTHON,
    RELAY,
    RESULTS,
    ROOT,
    Callback,
    Corp,
    Inbox,
    Processes,
    StepFailed,
    cdata,
    emulator_toml,
    export_commit,
    free_port,
    log_levels,
    relay_toml,
    seal,
    tail,
    wait_http,
)
from gitinfo import working_tree_label
from yarl import URL

MANAGERS = ("wangzong", "liujingli", "chendianzhang")
PROBE_USER = "zhangxiaoshou"


@dataclass
class Run:
    label: str
    idle: list[float]  # probe latencies, seconds
    during: list[float]
    stats_seconds: list[float]  # each 本月统计 from sending it to its inbox row handled
    stats_wall: float
    outbox: Counter[str]
    log_counts: Counter[str]
    log_samples: list[str]
    load_before: tuple[float, float, float]


class Messages:
    """Text callbacks sealed like WeCom's, each with its own MsgId (none is a re-send)."""

    def __init__(self, corp: Corp) -> None:
        self.corp = corp
        self._next_id = 8_000_000_000_000_000_000 + secrets.randbelow(10**17)

    def text(self, userid: str, content: str) -> Callback:
        self._next_id += 1
        xml = (
            f"<xml><ToUserName>{cdata(self.corp.corp_id)}</ToUserName><FromUserName>{cdata(userid)}</FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime><MsgType>{cdata('text')}</MsgType>"
            f"<Content>{cdata(content)}</Content><MsgId>{self._next_id}</MsgId>"
            f"<AgentID>{self.corp.agent_id}</AgentID></xml>"
        )
        return seal(self.corp, xml)


async def post(http: aiohttp.ClientSession, url: str, callback: Callback) -> float:
    """Send one callback; seconds to the whole answer, which must be the empty 200."""
    started = time.perf_counter()
    async with http.post(
        URL(url).with_query(callback.params), data=callback.body, headers={"Content-Type": "text/xml"}
    ) as resp:
        body = await resp.read()
    elapsed = time.perf_counter() - started
    if resp.status != 200 or body:
        raise StepFailed(f"callback answered {resp.status} {body[:80]!r}")
    return elapsed


async def handled(inbox: Inbox, userid: str) -> int:
    rows = await inbox.query(f"SELECT COUNT(*) FROM inbox WHERE userid = '{userid}' AND state IN ('done', 'failed')")
    return int(rows[0][0])


async def wait_handled(inbox: Inbox, userid: str, count: int, within: float = 120.0) -> None:
    deadline = time.monotonic() + within
    while await handled(inbox, userid) < count:
        if time.monotonic() > deadline:
            raise StepFailed(f"{userid}'s messages not handled in {within:.0f}s")
        await asyncio.sleep(0.02)


async def probe(
    http: aiohttp.ClientSession, url: str, messages: Messages, *, interval: float, until: asyncio.Event
) -> list[float]:
    """One probe callback at a time, one every `interval` seconds, until told to stop."""
    latencies = []
    while not until.is_set():
        started = time.perf_counter()
        latencies.append(await post(http, url, messages.text(PROBE_USER, "你好")))
        await asyncio.sleep(max(0.0, interval - (time.perf_counter() - started)))
    return latencies


async def ask_for_stats(
    http: aiohttp.ClientSession, url: str, messages: Messages, inbox: Inbox, *, total: int
) -> list[float]:
    """Each manager asks for 本月统计, waits for it to be handled, and asks again, until `total` are handled."""
    asked = iter(range(total))
    seconds: list[float] = []

    async def manager(userid: str) -> None:
        done = await handled(inbox, userid)
        for _ in asked:
            started = time.perf_counter()
            await post(http, url, messages.text(userid, "本月统计"))
            done += 1
            await wait_handled(inbox, userid, done)
            seconds.append(time.perf_counter() - started)

    await asyncio.gather(*(manager(m) for m in MANAGERS))
    return seconds


async def run_source(source: Path, label: str, args: argparse.Namespace) -> Run:
    tmp = Path(tempfile.mkdtemp(prefix="relay-txbench-"))
    procs = Processes(logs=tmp, source=source)
    try:
        return await _run(source, label, args, tmp, procs)
    finally:
        await procs.stop_all()
        if args.keep:
            print(f"[{label}] kept {tmp}", flush=True)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


async def _run(source: Path, label: str, args: argparse.Namespace, tmp: Path, procs: Processes) -> Run:
    corp = Corp.random()
    emu_port, relay_port = free_port(), free_port()
    emu_url, relay_url = f"http://127.0.0.1:{emu_port}", f"http://127.0.0.1:{relay_port}"
    database_url = f"sqlite://{tmp / 'relay.sqlite3'}"
    config = tmp / "config.toml"
    toml = relay_toml(
        corp, port=relay_port, emu_url=emu_url, database_url=database_url, redis_url="", storage=tmp / "files"
    )
    # No scheduler: the alert scan would otherwise raise alerts for the seeded orders mid-measurement.
    config.write_text(toml + "\n[schedule]\nautomatic = false\n", encoding="utf-8")
    emu_config = tmp / "emulator.toml"
    emu_config.write_text(
        emulator_toml(
            corp, callback_url=relay_url + CALLBACK_PATH, public_url=emu_url, staff_csv=source / DEMO_DATA / "staff.csv"
        ),
        encoding="utf-8",
    )
    print(f"[{label}] {tmp}: emulator on {emu_port}, seeding {args.orders} orders", flush=True)
    emulator = await procs.start("emulator", [PYTHON, "-m", "emulator", "--config", emu_config, "--port", emu_port])
    relay_cli: list[str | Path | int] = [RELAY, "--config", config]
    await procs.run("migrate", [*relay_cli, "migrate"])
    await procs.run("staff-import", [*relay_cli, "staff", "import", source / DEMO_DATA / "staff.csv"])
    await procs.run("products-import", [*relay_cli, "products", "import", source / DEMO_DATA / "products.csv"])
    await procs.run("seed-orders", [PYTHON, BENCH / "seed_orders.py", "--config", config, "--orders", args.orders])
    url = relay_url + CALLBACK_PATH
    messages = Messages(corp)
    timeout = aiohttp.ClientTimeout(total=60)
    async with Inbox(database_url) as inbox, aiohttp.ClientSession(timeout=timeout) as http:
        await wait_http(http, emu_url + "/emulator/api/users", emulator)
        relay = await procs.start("relay-serve", [*relay_cli, "serve"])
        await wait_http(http, relay_url + "/healthz", relay)
        # Warm: each manager's first chart (matplotlib's fonts), the probe's path, the outbox's token.
        for userid in MANAGERS:
            await post(http, url, messages.text(userid, "本月统计"))
        for _ in range(20):
            await post(http, url, messages.text(PROBE_USER, "你好"))
        for userid in MANAGERS:
            await wait_handled(inbox, userid, 1)
        await wait_handled(inbox, PROBE_USER, 20)
        await asyncio.sleep(1)  # the warm-up's answers go out before anything is timed

        load_before = os.getloadavg()
        print(f"[{label}] idle: probes for {args.idle:.0f}s", flush=True)
        stop = asyncio.Event()
        probing = asyncio.create_task(probe(http, url, messages, interval=args.interval, until=stop))
        await asyncio.sleep(args.idle)
        stop.set()
        idle = await probing

        print(f"[{label}] during: probes while the managers ask for 本月统计 {args.stats} times", flush=True)
        stop = asyncio.Event()
        probing = asyncio.create_task(probe(http, url, messages, interval=args.interval, until=stop))
        started = time.perf_counter()
        try:
            stats_seconds = await ask_for_stats(http, url, messages, inbox, total=args.stats)
        finally:
            stop.set()
        stats_wall = time.perf_counter() - started
        during = await probing
        await wait_handled(inbox, PROBE_USER, 20 + len(idle) + len(during))
        outbox = await inbox.count("SELECT state, COUNT(*) FROM outbox GROUP BY state")
    if relay.proc.returncode is not None:
        raise StepFailed(f"Relay exited with {relay.proc.returncode} during the run:\n{tail(relay.log)}")
    counts, samples = log_levels(relay.log)
    return Run(label, idle, during, stats_seconds, stats_wall, outbox, counts, samples, load_before)


def pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)] * 1000 if ordered else float("nan")


def ms(value: float) -> str:
    return "—" if math.isnan(value) else f"{value:,.1f}"


def markdown(runs: list[Run], args: argparse.Namespace) -> str:
    rows = []
    for run in runs:
        for phase, values in (("idle", run.idle), ("during 本月统计", run.during)):
            slow = sum(1 for v in values if v > 0.1)
            rows.append(
                f"| {run.label} | {phase} | {len(values)} | {ms(pct(values, 0.5))} | {ms(pct(values, 0.9))} | "
                f"{ms(pct(values, 0.99))} | {ms(max(values, default=float('nan')) * 1000)} | {slow} |"
            )
    notes = []
    for run in runs:
        median = statistics.median(run.stats_seconds) * 1000 if run.stats_seconds else float("nan")
        logs = ", ".join(f"{k} {v}" for k, v in sorted(run.log_counts.items())) or "none"
        notes.append(
            f"- {run.label}: {len(run.stats_seconds)} 本月统计 handled in {run.stats_wall:.1f} s (median "
            f"{ms(median)} ms from sending one to its inbox row done, {ms(pct(run.stats_seconds, 0.9))} ms p90); "
            f"outbox after the run {dict(run.outbox)}; Relay log lines: {logs}; load average before "
            f"{' / '.join(f'{x:.2f}' for x in run.load_before)}."
        )
        notes += [f"  - log sample: `{s}`" for s in run.log_samples]
    command = "`.venv/bin/python bench/tx_bench.py" + (f" --before {args.before}" if args.before else "")
    command += f" --stats {args.stats} --orders {args.orders} --interval {args.interval} --idle {args.idle:g}`"
    return "\n".join(
        [
            "# Callbacks while 本月统计 runs: SQLite",
            "",
            command,
            "",
            f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {os.cpu_count()} CPUs; Python {platform.python_version()}. "
            f"`relay serve` on a SQLite file with {args.orders} orders over 6 stores in 3 regions (the top "
            "manager's chart has three groups), the WeCom emulator, and this client, all on this machine; the "
            "scheduler is off (`schedule.automatic = false`), so no alert or reminder runs in between.",
            "",
            f"A probe is a text callback (`你好` from {PROBE_USER}), encrypted and signed like WeCom's, sent one at a "
            f"time every {args.interval * 1000:.0f} ms; its latency is from sending it to reading Relay's empty 200 "
            "(verified, decrypted, checked for a re-send, stored). *Idle*: probes alone for "
            f"{args.idle:g} s. *During 本月统计*: probes while {', '.join(MANAGERS)} each send 本月统计, wait until "
            f"it is handled and send it again, {args.stats} in all; each is answered with the markdown card and "
            "the chart (drawn, stored, uploaded by the outbox).",
            "",
            "| Relay | phase | probes | p50 ms | p90 ms | p99 ms | max ms | over 100 ms |",
            "|---|---|---:|---:|---:|---:|---:|---:|",
            *rows,
            "",
            *notes,
            "",
        ]
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", metavar="REV", help="first run Relay as committed at REV (git archive)")
    parser.add_argument("--stats", type=int, default=30, help="本月统计 requests in the busy phase (default 30)")
    parser.add_argument("--orders", type=int, default=2000, help="orders seeded (default 2000)")
    parser.add_argument("--interval", type=float, default=0.02, help="seconds between probes (default 0.02)")
    parser.add_argument("--idle", type=float, default=5.0, help="seconds of probes alone (default 5)")
    parser.add_argument("--keep", action="store_true", help="keep the temp dirs (configs, logs, SQLite file)")
    args = parser.parse_args(argv)
    if args.stats < 1 or args.orders < 0 or args.interval <= 0:
        parser.error("--stats must be positive, --orders not negative, --interval positive")
    return args


async def main_async(args: argparse.Namespace) -> int:
    loop = asyncio.get_running_loop()
    main_task = asyncio.current_task()
    assert main_task is not None
    # SIGTERM/SIGHUP unwind like Ctrl-C, so the finally blocks stop the subprocesses and remove the files.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(sig, main_task.cancel)
    RESULTS.mkdir(parents=True, exist_ok=True)
    runs = []
    exported: Path | None = None
    try:
        if args.before:
            exported = Path(tempfile.mkdtemp(prefix="relay-txbench-src-"))
            commit = await asyncio.to_thread(export_commit, args.before, exported)
            runs.append(await run_source(exported, f"before: commit {commit}", args))
        runs.append(await run_source(ROOT, f"after: {working_tree_label()}", args))
    except (StepFailed, OSError, subprocess.SubprocessError) as exc:
        print(f"FAILED: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        if exported is not None:
            shutil.rmtree(exported, ignore_errors=True)
    text = markdown(runs, args)
    out = RESULTS / "tx-sqlite.md"
    out.write_text(text, encoding="utf-8")
    print("\n" + text + f"\n(written to {out.relative_to(ROOT)})\n", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return asyncio.run(main_async(args))
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("interrupted; subprocesses stopped and temporary files removed", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

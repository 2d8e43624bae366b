"""Benchmark: webhook delivery latency, from the change's commit to the receiver getting the request.

A fresh PostgreSQL database with Redis and one `relay worker` process (its own process, as deployed). This
process plays `relay serve`: it commits changes that queue an `order.state_changed` event (the same
`workflow.webhooks.emit` a transition calls, inside a transaction) and then publishes the wake-up, as
serve's write middleware does; the receiver (aiohttp, in this process) checks each request's signature
and notes when it arrived. Timed: one event at a time (`--samples`, a pause between), then a burst
(`--burst` events committed back to back). `--redis-url ""` runs without wake-ups: the worker then
finds events only at its poll (schedule.poll_seconds, 0.5 s), the baseline.

    PYTHONPATH=. .venv/bin/python bench/webhook_bench.py [--samples 100] [--burst 200] [--redis-url redis://127.0.0.1:6386/13]

Writes bench/results/issue15-webhooks.md (with --write). The worker and the temporary database are removed on exit.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import json
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web
from callback_bench import (  # noqa: E402  (bench/ is the script's folder)
    PYTHON,
    ROOT,
    Corp,
    Processes,
    StepFailed,
    database,
    free_port,
    relay_toml,
    tail,
)
from tortoise.transactions import in_transaction

from infra.kv import MemoryStore
from infra.runtime import build_runtime
from infra.wakeup import open_wakeups
from relay.config import load_config
from relay.db import close_db, open_db
from workflow import webhooks

RESULT = ROOT / "bench" / "results" / "issue15-webhooks.md"


class Receiver:
    def __init__(self) -> None:
        self.secret = ""
        self.arrived: dict[int, float] = {}  # seq -> perf_counter when the request came in
        self.bad_signatures = 0
        self.repeats = 0
        self.changed = asyncio.Event()

    async def handle(self, request: web.Request) -> web.Response:
        now = time.perf_counter()
        body = await request.read()
        parts = dict(p.split("=", 1) for p in request.headers["X-Relay-Signature"].split(","))
        mac = hmac.new(self.secret.encode(), parts["t"].encode() + b"." + body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(mac, parts["v1"]):
            self.bad_signatures += 1
            return web.Response(status=401)
        seq = json.loads(body)["data"]["seq"]
        if seq in self.arrived:
            self.repeats += 1
        self.arrived.setdefault(seq, now)
        self.changed.set()
        return web.Response(status=200)

    async def wait_for(self, seqs: range, within: float = 120.0) -> None:
        async with asyncio.timeout(within):
            while not all(s in self.arrived for s in seqs):
                self.changed.clear()
                await self.changed.wait()


def summary(latencies: list[float]) -> tuple[float, float, float]:
    ordered = sorted(latencies)
    p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
    return statistics.median(ordered), p95, ordered[-1]


async def run(args: argparse.Namespace) -> list[tuple[str, int, tuple[float, float, float]]]:
    tmp = Path(tempfile.mkdtemp(prefix="relay-webhooks-"))
    procs = Processes(logs=tmp, source=ROOT)
    receiver = Receiver()
    runner = web.AppRunner(web.Application(), access_log=None)
    runner.app.router.add_post("/hook", receiver.handle)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    rows = []
    try:
        async with database("postgres", tmp) as (database_url, _):
            config_path = tmp / "config.toml"
            config_path.write_text(
                relay_toml(
                    Corp.random(),
                    port=free_port(),
                    emu_url="http://127.0.0.1:9",  # no WeCom: this run sends no chat message
                    database_url=database_url,
                    redis_url=args.redis_url,
                    storage=tmp / "files",
                ),
                encoding="utf-8",
            )
            cli = [PYTHON, "-m", "relay.cli", "--config", config_path]
            await procs.run("migrate", [*cli, "migrate"])
            config = load_config(config_path, env={})
            await open_db(database_url)
            build_runtime(config, MemoryStore())
            wakeups = open_wakeups(args.redis_url, database_url)
            await wakeups.start()
            try:
                created = await webhooks.create_subscription(
                    actor=None,
                    form=webhooks.SubscriptionInput("bench", f"http://127.0.0.1:{port}/hook", ["order.state_changed"]),
                )
                receiver.secret = created.secret
                worker = await procs.start("worker", [*cli, "worker"])
                async with asyncio.timeout(120):
                    while "Relay worker running" not in worker.log.read_text(errors="replace"):
                        if worker.proc.returncode is not None:
                            raise StepFailed(f"the worker exited:\n{tail(worker.log)}")
                        await asyncio.sleep(0.1)
                await asyncio.sleep(1)  # its loops are up and idle

                committed: dict[int, float] = {}

                async def change(seq: int) -> None:
                    async with in_transaction():
                        await webhooks.emit(
                            webhooks.ORDER_STATE_CHANGED,
                            {"seq": seq, "order_number": f"B{seq:06d}", "from": "created", "to": "cancelled"},
                        )
                    committed[seq] = time.perf_counter()
                    wakeups.notify("outbox")

                print(f"one at a time: {args.samples} events ...", flush=True)
                for seq in range(args.samples):
                    await change(seq)
                    await receiver.wait_for(range(seq, seq + 1))
                    await asyncio.sleep(args.pause)
                one = [(receiver.arrived[s] - committed[s]) * 1000 for s in range(args.samples)]
                rows.append(("one at a time", args.samples, summary(one)))

                first = args.samples
                burst = range(first, first + args.burst)
                print(f"burst: {args.burst} events committed back to back ...", flush=True)
                for seq in burst:
                    await change(seq)
                await receiver.wait_for(burst)
                together = [(receiver.arrived[s] - committed[s]) * 1000 for s in burst]
                rows.append((f"burst of {args.burst}", args.burst, summary(together)))
                if receiver.bad_signatures or receiver.repeats:
                    raise StepFailed(f"{receiver.bad_signatures} bad signatures, {receiver.repeats} repeats")
                await procs.stop_all()  # before the database goes
            finally:
                await wakeups.close()
                await close_db()
    finally:
        await procs.stop_all()
        await runner.cleanup()
        with contextlib.suppress(OSError):
            for path in sorted(tmp.rglob("*"), reverse=True):
                path.unlink() if path.is_file() else path.rmdir()
            tmp.rmdir()
    return rows


def report(rows: list[tuple[str, int, tuple[float, float, float]]], args: argparse.Namespace) -> str:
    wake = "with Redis wake-ups" if args.redis_url else "**without Redis: the worker finds events at its 0.5 s poll**"
    lines = [
        "# Issue 15: webhook delivery latency (bench/webhook_bench.py)",
        "",
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, Python {platform.python_version()}, "
        f"PostgreSQL on loopback, one `relay worker` process, {wake}. From the commit of the change that "
        "queued the event to the receiver (aiohttp on loopback, checking the signature) getting the request.",
        "",
        "| events | n | p50 ms | p95 ms | max ms |",
        "|---|---|---|---|---|",
        *(f"| {label} | {n} | {p50:.1f} | {p95:.1f} | {top:.1f} |" for label, n, (p50, p95, top) in rows),
        "",
        "    PYTHONPATH=. .venv/bin/python bench/webhook_bench.py "
        + " ".join(
            f"--{k.replace('_', '-')} {v!r}" if isinstance(v, str) else f"--{k.replace('_', '-')} {v}"
            for k, v in vars(args).items()
            if k != "write"
        ),
        "",
    ]
    return "\n".join(lines)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--burst", type=int, default=200)
    parser.add_argument("--pause", type=float, default=0.05, help="seconds between single events")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6386/13")
    parser.add_argument("--write", action="store_true", help=f"write {RESULT.relative_to(ROOT)}")
    args = parser.parse_args()
    rows = await run(args)
    text = report(rows, args)
    print(text)
    if args.write:
        RESULT.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        print("interrupted; the worker stopped and temporary data removed", file=sys.stderr)

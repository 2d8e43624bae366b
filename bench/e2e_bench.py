"""End to end at the emulator, with `relay serve` and `relay worker` in separate processes.

What a member waits for, timed where WeCom would see it (the emulator runs inside this process, so every
time is taken when the emulator itself receives the call): text -> reply (帮助, until its card arrives),
tap -> card updated (接单 on a measure task card, until the card is rewritten), 本月统计 -> chart (until
the image arrives). On PostgreSQL with Redis, `relay serve` with server.background = false and one
`relay worker`: the serve process stores the callback, the worker handles it and sends the answer.
Measured idle, then while other members send `--load` callbacks a second (texts and taps).

    .venv/bin/python bench/e2e_bench.py [--samples 40] [--load 20] [--redis-url redis://127.0.0.1:6379/1]

Writes bench/results/e2e-postgres.md. Every subprocess and the temporary database are removed on exit.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import platform
import shlex
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from aiohttp import web
from callback_bench import (  # noqa: E402  (bench/ is the script's folder)
    BENCH,
    DEMO_DATA,
    PYTHON,
    RELAY,
    RESULTS,
    ROOT,
    Corp,
    Processes,
    StepFailed,
    database,
    emulator_toml,
    free_port,
    relay_toml,
    tail,
    wait_http,
)
from gitinfo import working_tree_label

from emulator import EMULATOR_STATE, EmulatorState, create_app, load_config

TEXTER = "zhangxiaoshou"  # asks 帮助
MEASURER = "sunceliang"  # taps 接单
MANAGER = "chendianzhang"  # asks 本月统计
# Members whose callbacks make the background load (never one of the three above).
LOADERS = ("lixiaoshou", "zhaopaidan", "qianpaidan", "zhouceliang", "wuceliang", "wangzong", "liujingli")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)] if ordered else float("nan")


async def until(state: EmulatorState, done: Callable[[], bool], within: float = 20.0) -> float:
    """perf_counter() at the change of the emulator's chat that made `done` true."""
    async with asyncio.timeout(within):
        while not done():
            await state.chats.changed()
    return time.perf_counter()


@dataclass
class Phase:
    name: str
    text: list[float] = field(default_factory=list)
    tap: list[float] = field(default_factory=list)
    stats_numbers: list[float] = field(default_factory=list)
    stats_chart: list[float] = field(default_factory=list)
    timeouts: int = 0  # samples whose answer did not come within a minute
    load_sent: int = 0
    load_seconds: float = 0.0
    pending_after: int = 0


async def text_reply(state: EmulatorState) -> float:
    before = len(state.bot_messages(TEXTER))
    started = time.perf_counter()
    result = await state.user_sends_text(TEXTER, "帮助")
    if result.status != 200:
        raise StepFailed(f"帮助: {result}")
    return (await until(state, lambda: len(state.bot_messages(TEXTER)) > before)) - started


async def tap_update(state: EmulatorState) -> float:
    for entry in state.bot_messages(MEASURER):
        card = entry.card
        if card is None:
            continue
        keys = [b.key for b in card.buttons if b.text == "接单"]
        if keys:
            break
    else:
        raise StepFailed("no measure card with 接单 left: seed more (--samples)")
    rev = entry.rev
    started = time.perf_counter()
    result = await state.user_clicks(MEASURER, entry.msgid, keys[0])
    if result.status != 200:
        raise StepFailed(f"接单: {result}")
    return (await until(state, lambda: entry.rev > rev)) - started


async def stats_chart(state: EmulatorState) -> tuple[float, float]:
    before = len(state.bot_messages(MANAGER))
    started = time.perf_counter()
    result = await state.user_sends_text(MANAGER, "本月统计")
    if result.status != 200:
        raise StepFailed(f"本月统计: {result}")
    numbers = await until(state, lambda: len(state.bot_messages(MANAGER)) > before)

    def chart() -> bool:
        return any(e.msgtype == "image" for e in state.bot_messages(MANAGER)[before:])

    return numbers - started, (await until(state, chart)) - started


async def background_load(state: EmulatorState, rate: float, phase: Phase, stop: asyncio.Event) -> None:
    """`rate` callbacks a second from other members: texts that each get an answer, at a steady pace."""
    started = time.perf_counter()
    inflight: set[asyncio.Task[object]] = set()
    n = 0
    while not stop.is_set():
        due = started + n / rate
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(0.0, due - time.perf_counter())):
                await stop.wait()
        if stop.is_set():
            break
        member = LOADERS[n % len(LOADERS)]
        task = asyncio.create_task(state.user_sends_text(member, "我的任务" if n % 2 else "帮助"))
        inflight.add(task)
        task.add_done_callback(inflight.discard)
        n += 1
    if inflight:
        await asyncio.gather(*inflight, return_exceptions=True)
    phase.load_sent = n
    phase.load_seconds = time.perf_counter() - started


MEMBER_PACE = 2.1  # seconds between samples: under WeCom's 30 messages a minute per member


async def measure(state: EmulatorState, phase: Phase, samples: int, stats_every: int) -> None:
    for i in range(samples):
        try:
            phase.text.append(await text_reply(state))
            phase.tap.append(await tap_update(state))
            if i % stats_every == 0:
                numbers, chart = await stats_chart(state)
                phase.stats_numbers.append(numbers)
                phase.stats_chart.append(chart)
        except TimeoutError:
            phase.timeouts += 1
            print(f"{phase.name}: sample {i + 1} not answered within 20 s", flush=True)
        # Pacing between samples, not part of any measurement: one member gets at most 30 messages a minute
        # from WeCom (Relay's pacer holds the rest back, rightly), so samples come 2.1 s apart.
        await asyncio.sleep(MEMBER_PACE)


async def pending_inbox(database_url: str) -> int:
    import asyncpg

    conn = await asyncpg.connect(database_url)
    try:
        return int(await conn.fetchval("SELECT COUNT(*) FROM inbox WHERE state = 'pending'"))
    finally:
        await conn.close()


async def run(args: argparse.Namespace) -> tuple[list[Phase], tuple[float, float, float]]:
    tmp = Path(tempfile.mkdtemp(prefix="relay-e2e-"))
    procs = Processes(logs=tmp, source=ROOT)
    corp = Corp.random()
    emu_port, relay_port = free_port(), free_port()
    emu_url, relay_url = f"http://127.0.0.1:{emu_port}", f"http://127.0.0.1:{relay_port}"
    runner: web.AppRunner | None = None
    try:
        async with database("postgres", tmp) as (database_url, _), aiohttp.ClientSession() as http:
            config = tmp / "config.toml"
            config.write_text(
                relay_toml(
                    corp,
                    port=relay_port,
                    emu_url=emu_url,
                    database_url=database_url,
                    redis_url=args.redis_url,
                    storage=tmp / "files",
                ),
                encoding="utf-8",
            )
            emu_config = tmp / "emulator.toml"
            emu_config.write_text(
                emulator_toml(
                    corp,
                    callback_url=relay_url + "/wecom/callback",
                    public_url=emu_url,
                    staff_csv=ROOT / DEMO_DATA / "staff.csv",
                ),
                encoding="utf-8",
            )
            emulator = create_app(load_config(emu_config))
            runner = web.AppRunner(emulator, access_log=None)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", emu_port).start()
            state = emulator[EMULATOR_STATE]

            cli: list[str | Path | int] = [RELAY, "--config", config]
            await procs.run("migrate", [*cli, "migrate"])
            await procs.run("staff", [*cli, "staff", "import", ROOT / DEMO_DATA / "staff.csv"])
            await procs.run("products", [*cli, "products", "import", ROOT / DEMO_DATA / "products.csv"])
            taps = args.samples * 2 + 2
            await procs.run(
                "seed",
                [PYTHON, BENCH / "seed_task.py", "--config", config, "--measurer", MEASURER, "--dispatched", taps],
            )
            serve = await procs.start("serve", [*cli, "serve"])
            worker = await procs.start("worker", [*cli, "worker"])
            await wait_http(http, relay_url + "/healthz", serve)
            # The seeded cards go out at WeCom's pace for one member, 30 a minute: give them their minutes.
            seeding = 60 * (taps // 30 + 2)
            async with asyncio.timeout(seeding + 60):
                while "Relay worker running" not in worker.log.read_text(errors="replace"):
                    if worker.proc.returncode is not None:
                        raise StepFailed(f"the worker exited:\n{tail(worker.log)}")
                    await asyncio.sleep(0.1)
                # The seeded cards reach the measurer first: nothing else runs when timing starts.
                await until(state, lambda: len(state.cards(MEASURER)) >= taps, within=seeding)
            # The seeded cards took the measurer's minute at WeCom: timing starts once it has passed.
            await asyncio.sleep(61)

            phases = []
            idle = Phase("idle")
            print("idle ...", flush=True)
            await measure(state, idle, args.samples, args.stats_every)
            idle.pending_after = await pending_inbox(database_url)
            phases.append(idle)

            if not args.load:
                await procs.stop_all()  # before the database goes
                return phases, os.getloadavg()
            loaded = Phase(f"{args.load:g} callbacks/s from other members")
            print(f"under {args.load:g} callbacks/s ...", flush=True)
            stop = asyncio.Event()
            load = asyncio.create_task(background_load(state, args.load, loaded, stop))
            await asyncio.sleep(2)  # the load reaches its pace before timing starts
            await measure(state, loaded, args.samples, args.stats_every)
            stop.set()
            await load
            loaded.pending_after = await pending_inbox(database_url)
            phases.append(loaded)
            for service in (serve, worker):
                if service.proc.returncode is not None:
                    raise StepFailed(f"{service.name} exited during the run:\n{tail(service.log)}")
            await procs.stop_all()  # before the database goes
            return phases, os.getloadavg()
    finally:
        await procs.stop_all()
        if runner is not None:
            await runner.cleanup()
        if args.keep:
            print(f"kept {tmp}", flush=True)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def markdown(
    args: argparse.Namespace, phases: list[Phase], load_before: tuple[float, ...], load_after: tuple[float, ...]
) -> str:
    def row(phase: Phase, what: str, values: list[float]) -> str:
        ms = [v * 1000 for v in values]
        if not ms:
            return f"| {phase.name} | {what} | 0 | — | — | — |"
        return f"| {phase.name} | {what} | {len(ms)} | {pct(ms, 0.5):.0f} | {pct(ms, 0.95):.0f} | {max(ms):.0f} |"

    lines = [
        "# End to end at the emulator: serve and worker in separate processes",
        "",
        "`relay serve` (server.background = false) and one `relay worker` on PostgreSQL "
        + (
            "with Redis (wake-ups over pub/sub, polling every 0.5 s as the safety net)"
            if args.redis_url
            else "**without Redis: no wake-ups, the worker finds work at its 0.5 s poll** (the baseline)"
        )
        + "; the emulator runs in the benchmark's process and each "
        "time is taken when the emulator receives Relay's call. "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, Relay: {working_tree_label()}, {os.cpu_count()} CPUs shared with "
        f"other work (load average {' / '.join(f'{x:.2f}' for x in load_before)} before, "
        f"{' / '.join(f'{x:.2f}' for x in load_after)} after), Python {platform.python_version()}.",
        "",
        f"    {args.command_line}",
        "",
        "| phase | what the member waits for | samples | p50 ms | p95 ms | max ms |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for phase in phases:
        lines += [
            row(phase, "text 帮助 → its card", phase.text),
            row(phase, "tap 接单 → card updated", phase.tap),
            row(phase, "本月统计 → the numbers", phase.stats_numbers),
            row(phase, "本月统计 → the chart", phase.stats_chart),
        ]
    lines.append("")
    for phase in phases:
        if phase.timeouts:
            lines.append(f"- {phase.name}: **{phase.timeouts} samples not answered within 20 s** (left out above).")
        if phase.load_sent:
            lines.append(
                f"- {phase.name}: {phase.load_sent} callbacks in {phase.load_seconds:.0f} s "
                f"({phase.load_sent / phase.load_seconds:.1f}/s, texts 帮助 / 我的任务 from {len(LOADERS)} members); "
                f"inbox rows still pending when the phase ended: {phase.pending_after}."
            )
    lines.append(
        "- Targets (issue 11): text → reply p95 < 60 ms, tap → card update p95 < 80 ms, idle. Before (issue 11, "
        "serve without background loops and one worker, no wake-up): text → reply 250 ms p50, 493 ms p95."
    )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=40, help="texts and taps per phase (default 40)")
    parser.add_argument("--stats-every", type=int, default=4, help="a 本月统计 every this many samples (default 4)")
    parser.add_argument("--load", type=float, default=20.0, help="background callbacks/s (default 20; 0: idle only)")
    parser.add_argument(
        "--redis-url",
        default="redis://127.0.0.1:6379/1",
        help='Redis for the wake-ups; "" runs without (the worker finds work only at its 0.5 s poll: the baseline)',
    )
    parser.add_argument("--out", default="e2e-postgres.md", help="file name in bench/results/")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (configs, logs)")
    args = parser.parse_args(argv)
    args.command_line = ".venv/bin/python bench/e2e_bench.py " + shlex.join(argv if argv is not None else sys.argv[1:])

    async def go() -> int:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None
        for sig in (signal.SIGTERM, signal.SIGHUP):
            loop.add_signal_handler(sig, task.cancel)
        load_before = os.getloadavg()
        try:
            phases, load_after = await run(args)
        except StepFailed as exc:
            print(f"FAILED: {exc}", file=sys.stderr)
            return 1
        text = markdown(args, phases, load_before, load_after)
        RESULTS.mkdir(parents=True, exist_ok=True)
        out = RESULTS / args.out
        out.write_text(text, encoding="utf-8")
        print("\n" + text + f"\n(written to {out.relative_to(ROOT)})", flush=True)
        return 0

    try:
        return asyncio.run(go())
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("interrupted; subprocesses stopped and temporary data removed", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

"""Sustained mixed load: does background handling keep up? The backlog over time, for 1 and 2 workers.

For each worker count, a fresh PostgreSQL database (with Redis), `relay serve` (server.background = false)
and that many `relay worker` processes; the emulator runs in this process. For `--seconds` it sends
`--rate` callbacks a second at a steady pace, mixed: texts (帮助 / 我的任务) from `--members` members,
site photos (1280×960 JPEG) from as many measurers (the demo's and more added to the staff) who each
have an accepted measure task, and taps (接单) on measure task cards. Every `--every` seconds it counts the
inbox rows still pending, the outbox rows due and not sent, and those waiting for a member's turn (the
pacer); then it gives the workers up to `--drain` seconds to finish.

    .venv/bin/python bench/load_bench.py [--workers 1 2] [--rate 20] [--seconds 60] [--members 40]

Writes bench/results/load-postgres.md (or --out). Every subprocess and the temporary databases are removed on exit.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import platform
import shlex
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import asyncpg
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
from PIL import Image, ImageDraw, ImageFilter

from emulator import EMULATOR_STATE, EmulatorState, create_app, load_config

DEMO_TEXTERS = ("zhangxiaoshou", "lixiaoshou", "zhaopaidan", "qianpaidan", "wangzong", "liujingli")
DEMO_MEASURERS = ("sunceliang", "zhouceliang", "wuceliang")
# With the bench's own members, set by --members: a member's messages are handled one after another, and
# WeCom takes at most 30 a minute to one member (Relay paces them), so load from the demo's few members
# measures their limits, not a worker's.
TEXTERS: list[str] = list(DEMO_TEXTERS)
MEASURERS: list[str] = list(DEMO_MEASURERS)


def bench_staff(path: Path, members: int) -> Path:
    """The demo staff, with more sales (texting) and measurers (sending photos): `members` of each."""
    TEXTERS[:] = [*DEMO_TEXTERS, *(f"xiaoshou{i:02d}" for i in range(1, max(0, members - len(DEMO_TEXTERS)) + 1))]
    MEASURERS[:] = [*DEMO_MEASURERS, *(f"celiang{i:02d}" for i in range(1, max(0, members - len(DEMO_MEASURERS)) + 1))]
    rows = (ROOT / DEMO_DATA / "staff.csv").read_text(encoding="utf-8-sig").rstrip("\n").split("\n")
    rows += [f"{u},销售{u[-2:]},sales,朗斯家居/华东区/上海徐汇店" for u in TEXTERS[len(DEMO_TEXTERS) :]]
    rows += [f"{u},测量{u[-2:]},measurer,朗斯家居/华东区/上海徐汇店" for u in MEASURERS[len(DEMO_MEASURERS) :]]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


# Of every 10 callbacks: 5 texts, 4 photos, 1 tap.
MIX = ("text", "photo", "text", "photo", "text", "tap", "text", "photo", "text", "photo")


def site_photo(seed: int, size: tuple[int, int] = (1280, 960)) -> bytes:
    """A JPEG with a photo's entropy (shapes, blur, sensor noise), about 200 KB."""
    import io
    import random

    rng = random.Random(seed)
    img = Image.linear_gradient("L").resize(size).convert("RGB")
    draw = ImageDraw.Draw(img)
    for _ in range(40):
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        color = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        draw.rectangle((x, y, x + rng.randrange(40, 400), y + rng.randrange(40, 300)), fill=color)
    img = Image.blend(img.filter(ImageFilter.GaussianBlur(2)), Image.effect_noise(size, 24).convert("RGB"), 0.18)
    out = io.BytesIO()
    img.save(out, "JPEG", quality=85)
    return out.getvalue()


@dataclass
class Run:
    workers: int
    # (s, inbox pending, outbox due, handled, outbox waiting for a member's turn)
    samples: list[tuple[float, int, int, int, int]] = field(default_factory=list)
    sent: Counter[str] = field(default_factory=Counter)
    refused: int = 0
    send_seconds: float = 0.0
    drained_after: float | None = None  # seconds after the last callback until nothing was pending
    final: dict[str, Counter[str]] = field(default_factory=dict)  # msg_type -> state counts
    load: tuple[float, float, float] = (0.0, 0.0, 0.0)
    attachments: int = 0


async def counts(conn: asyncpg.Connection) -> tuple[int, int, int, int]:
    pending = int(await conn.fetchval("SELECT COUNT(*) FROM inbox WHERE state = 'pending'"))
    due = int(await conn.fetchval("SELECT COUNT(*) FROM outbox WHERE state = 'pending' AND next_attempt_at <= now()"))
    done = int(await conn.fetchval("SELECT COUNT(*) FROM inbox WHERE state <> 'pending'"))
    later = int(await conn.fetchval("SELECT COUNT(*) FROM outbox WHERE state = 'pending' AND next_attempt_at > now()"))
    return pending, due, done, later


def tap_targets(state: EmulatorState) -> list[tuple[str, str, str]]:
    """(measurer, card msgid, 接单 key) for every card still offering 接单."""
    out = []
    for userid in MEASURERS:
        for entry in state.bot_messages(userid):
            card = entry.card
            if card is not None:
                out += [(userid, entry.msgid, b.key) for b in card.buttons if b.text == "接单"]
    return out


async def drive(state: EmulatorState, run: Run, rate: float, seconds: float, photos: list[bytes]) -> None:
    taps = tap_targets(state)
    # Each kind round the members in turn (not by n: every photo's n is odd, and would reach half of them).
    photos_sent, texts_sent = itertools.count(), itertools.count()
    inflight: set[asyncio.Task[None]] = set()
    started = time.perf_counter()

    async def one(kind: str, n: int) -> None:
        if kind == "photo":
            userid = MEASURERS[next(photos_sent) % len(MEASURERS)]
            result = await state.user_sends_image(userid, photos[n % len(photos)], f"site-{n}.jpg")
        elif kind == "tap" and taps:
            userid, msgid, key = taps.pop()
            result = await state.user_clicks(userid, msgid, key)
        else:
            kind = "text"
            who = TEXTERS[next(texts_sent) % len(TEXTERS)]
            result = await state.user_sends_text(who, "我的任务" if n % 4 else "帮助")
        run.sent[kind] += 1
        if result.status != 200:
            run.refused += 1

    n = 0
    while (now := time.perf_counter()) - started < seconds:
        due = started + n / rate
        if due > now:
            await asyncio.sleep(due - now)
        task = asyncio.create_task(one(MIX[n % len(MIX)], n))
        inflight.add(task)
        task.add_done_callback(inflight.discard)
        n += 1
    if inflight:
        await asyncio.gather(*inflight)
    run.send_seconds = time.perf_counter() - started


async def one_run(args: argparse.Namespace, workers: int, photos: list[bytes]) -> Run:
    tmp = Path(tempfile.mkdtemp(prefix="relay-load-"))
    procs = Processes(logs=tmp, source=ROOT)
    corp = Corp.random()
    emu_port, relay_port = free_port(), free_port()
    emu_url, relay_url = f"http://127.0.0.1:{emu_port}", f"http://127.0.0.1:{relay_port}"
    runner: web.AppRunner | None = None
    run = Run(workers)
    staff = bench_staff(tmp / "staff.csv", args.members)
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
                    corp, callback_url=relay_url + "/wecom/callback", public_url=emu_url,
                    staff_csv=staff,
                ),
                encoding="utf-8",
            )  # fmt: skip
            emulator = create_app(load_config(emu_config))
            runner = web.AppRunner(emulator, access_log=None)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", emu_port).start()
            state = emulator[EMULATOR_STATE]

            cli: list[str | Path | int] = [RELAY, "--config", config]
            await procs.run("migrate", [*cli, "migrate"])
            await procs.run("staff", [*cli, "staff", "import", staff])
            await procs.run("products", [*cli, "products", "import", ROOT / DEMO_DATA / "products.csv"])
            taps_needed = int(args.rate * args.seconds / len(MIX)) + 3
            await procs.run(
                "seed",
                [
                    PYTHON, BENCH / "seed_task.py", "--config", config, "--measurer", *MEASURERS,
                    "--number", "LOAD-0001", "--dispatched", taps_needed // len(MEASURERS) + 1,
                ],
                within=900,
            )  # fmt: skip
            serve = await procs.start("serve", [*cli, "serve"])
            started = [await procs.start(f"worker-{i + 1}", [*cli, "worker"]) for i in range(workers)]
            await wait_http(http, relay_url + "/healthz", serve)
            async with asyncio.timeout(300):
                for worker in started:
                    while "Relay worker running" not in worker.log.read_text(errors="replace"):
                        if worker.proc.returncode is not None:
                            raise StepFailed(f"{worker.name} exited:\n{tail(worker.log)}")
                        await asyncio.sleep(0.2)
                while len(tap_targets(state)) < taps_needed:  # the seeded cards have arrived
                    await state.chats.changed()

            conn = await asyncpg.connect(database_url)
            try:
                # The seed's notices still queued (hundreds of cards to the 2 dispatchers, whom the pacer lets
                # have 30 a minute) are set aside: the load starts from an empty queue, and the tap cards are in.
                await conn.execute("UPDATE outbox SET state = 'failed', last_error = 'seed' WHERE state = 'pending'")
                print(f"[{workers} worker(s)] {args.rate:g} callbacks/s for {args.seconds:g} s", flush=True)
                load_start = time.perf_counter()
                sender = asyncio.create_task(drive(state, run, args.rate, args.seconds, photos))
                while True:
                    elapsed = time.perf_counter() - load_start
                    pending, due, done, later = await counts(conn)
                    run.samples.append((elapsed, pending, due, done, later))
                    print(
                        f"  {elapsed:5.0f} s: inbox pending {pending}, outbox due {due}, handled {done}, "
                        f"outbox waiting for a member's turn {later}",
                        flush=True,
                    )
                    if sender.done() and not pending and not due and not later:
                        run.drained_after = elapsed - run.send_seconds
                        break
                    if sender.done() and elapsed > run.send_seconds + args.drain:
                        break
                    if sender.done():
                        sender.result()  # a failure in sending ends the run here
                        await asyncio.sleep(args.every)
                    else:
                        with contextlib.suppress(TimeoutError):
                            async with asyncio.timeout(args.every):
                                await asyncio.shield(sender)
                rows = await conn.fetch("SELECT msg_type, state, COUNT(*) AS n FROM inbox GROUP BY msg_type, state")
                for r in rows:
                    run.final.setdefault(r["msg_type"], Counter())[r["state"]] += r["n"]
                run.attachments = int(await conn.fetchval("SELECT COUNT(*) FROM attachment"))
            finally:
                await conn.close()
            run.load = os.getloadavg()
            for service in [serve, *started]:
                if service.proc.returncode is not None:
                    raise StepFailed(f"{service.name} exited during the run:\n{tail(service.log)}")
            await procs.stop_all()  # before the database goes
            return run
    finally:
        await procs.stop_all()
        if runner is not None:
            await runner.cleanup()
        if args.keep:
            print(f"kept {tmp}", flush=True)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def markdown(args: argparse.Namespace, runs: list[Run], load_before: tuple[float, ...]) -> str:
    lines = [
        "# Sustained mixed load: the backlog over time",
        "",
        f"`relay serve` (server.background = false) and 1 or 2 `relay worker` on PostgreSQL with Redis; "
        f"{args.rate:g} callbacks/s for {args.seconds:g} s, of every ten: 5 texts (帮助 / 我的任务 from "
        f"{len(TEXTERS)} members), 4 site photos (1280×960 JPEG ≈ 200 KB, from {len(MEASURERS)} measurers "
        "with an accepted task: each is downloaded, checked, thumbnailed and stored) and 1 tap (接单 on a "
        "measure task card). The emulator runs in the benchmark's process. "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, Relay: {working_tree_label()}, {os.cpu_count()} CPUs **shared "
        f"with other engineers' work** (load average {' / '.join(f'{x:.2f}' for x in load_before)} before the "
        f"first run), Python {platform.python_version()}.",
        "",
        f"    {args.command_line}",
        "",
    ]
    for run in runs:
        handled = sum(c["done"] + c["failed"] for c in run.final.values())
        sent = sum(run.sent.values())
        lines += [
            f"## {run.workers} worker{'s' if run.workers > 1 else ''}",
            "",
            f"Sent {sent} callbacks in {run.send_seconds:.0f} s ({sent / run.send_seconds:.1f}/s: "
            + ", ".join(f"{v} {k}s" for k, v in sorted(run.sent.items()))
            + f"; {run.refused} not answered 200). "
            + (
                f"Everything handled and sent **{run.drained_after:.1f} s after the last callback**."
                if run.drained_after is not None
                else f"**Not drained** {args.drain:g} s after the last callback."
            )
            + f" Load average at the end {' / '.join(f'{x:.2f}' for x in run.load)}.",
            "",
            "| s | inbox pending | outbox due | handled | outbox waiting for a member's turn |",
            "|---:|---:|---:|---:|---:|",
            *(f"| {t:.0f} | {p} | {d} | {h} | {w} |" for t, p, d, h, w in run.samples),
            "",
            "Final inbox by kind: "
            + "; ".join(f"{k}: {dict(v)}" for k, v in sorted(run.final.items()))
            + f". Handled {handled}; attachments stored {run.attachments}.",
            "",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--rate", type=float, default=20.0, help="callbacks a second (default 20)")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the load lasts (default 60)")
    parser.add_argument("--every", type=float, default=5.0, help="backlog sample interval (default 5 s)")
    parser.add_argument("--drain", type=float, default=120.0, help="longest wait after the load (default 120 s)")
    parser.add_argument("--members", type=int, default=40, help="members texting, and sending photos (default 40)")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/1")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--out", default="load-postgres.md", help="file name in bench/results/")
    args = parser.parse_args(argv)
    args.command_line = ".venv/bin/python bench/load_bench.py " + shlex.join(argv if argv is not None else sys.argv[1:])

    async def go() -> int:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None
        for sig in (signal.SIGTERM, signal.SIGHUP):
            loop.add_signal_handler(sig, task.cancel)
        load_before = os.getloadavg()
        photos = [site_photo(seed) for seed in range(8)]
        runs = []
        try:
            for workers in args.workers:
                runs.append(await one_run(args, workers, photos))
        except StepFailed as exc:
            print(f"FAILED: {exc}", file=sys.stderr)
            return 1
        text = markdown(args, runs, load_before)
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

"""Benchmark: how long after the emulator has a message the demo console shows it.

Starts `relay demo` (Relay, the emulator and its console, on a fresh SQLite demo) on free loopback ports,
opens the console in headless Chromium as a salesperson, and sends --rounds chat messages as that member
through the emulator's API ("帮助" and "我的任务" in turn, --gap seconds apart, jittered so as not to
fall in step with a poll). Each message makes two chat entries: the member's own bubble, which the
emulator has at once, and the bot's answer, which it has once Relay replied.

When the emulator got an entry is its own record (the entry's `changed_at`); when the console shows it
is taken by a MutationObserver in the page (Date.now() as the entry's node is added). Both read the same
system clock. The figure is the difference, per entry: p50, p95 and max in milliseconds.

    .venv/bin/python bench/console_bench.py [--before REV] [--rounds 40] [--gap 0.7]

--before REV measures the console as committed at REV first: Relay and the console's page and script
from REV (exported with git archive), the emulator's Python from here, for its timestamps (the console
page talks to it through the same API). Writes bench/results/console.md. Loopback only; the demo
processes and temporary files are removed on exit.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import platform
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from playwright.async_api import async_playwright

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
CHROMIUM = os.environ.get("RELAY_CHROMIUM", "/usr/bin/chromium-headless-shell")  # as the tests (scripts/test)
MEMBER = "zhangxiaoshou"
TEXTS = ("帮助", "我的任务")

# Date.now() when each chat entry's node enters the console's chat (a card updated in place is a new
# node for the same seq: only the first counts here).
OBSERVE = """() => {
  window.shownAt = {};
  new MutationObserver((changes) => {
    const now = Date.now();
    for (const change of changes) for (const node of change.addedNodes) {
      const seq = node.dataset && node.dataset.seq;
      if (seq && !(seq in window.shownAt)) window.shownAt[seq] = now;
    }
  }).observe(document.getElementById('chat'), { childList: true });
}"""


@dataclass
class Run:
    label: str
    commit: str
    own: list[float] = field(default_factory=list)  # ms, the member's own messages
    replies: list[float] = field(default_factory=list)  # ms, the bot's answers
    missing: int = 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=True).stdout


def export_commit(rev: str, into: Path) -> str:
    commit = git("rev-parse", "--short", f"{rev}^{{commit}}").strip()
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", commit], capture_output=True, check=True
    )
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")
    return commit


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def wait_until_up(url: str, within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            try:
                async with http.get(url) as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError(f"the demo did not come up at {url}")


async def measure(tree: Path, run: Run, args: argparse.Namespace, work: Path) -> None:
    relay_port, emu_port = free_port(), free_port()
    emulator = f"http://127.0.0.1:{emu_port}"
    code = "import sys; from relay.cli import main; sys.exit(main(sys.argv[1:]))"
    demo = [sys.executable, "-c", code, "demo", "--port", str(relay_port), "--emulator-port", str(emu_port)]
    env = {**os.environ, "PYTHONPATH": str(tree)}
    log = (work / f"{run.label}.log").open("w")
    proc = await asyncio.create_subprocess_exec(
        *demo, "--data", str(work / f"data-{run.label}"), cwd=tree, env=env, stdout=log, stderr=log
    )
    try:
        await wait_until_up(f"{emulator}/emulator/api/users")
        await wait_until_up(f"http://127.0.0.1:{relay_port}/healthz")
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox"])
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            await page.goto(f"{emulator}/")
            await page.locator(f'#members .member[data-userid="{MEMBER}"]').click()
            await page.wait_for_function("document.querySelectorAll('#chat .msg').length > 0")
            await asyncio.sleep(1.5)  # the seeded cards and the enter_agent answer settle first
            await page.evaluate(OBSERVE)
            async with aiohttp.ClientSession() as http:
                had = await at_emulator(http, emulator, args, rounds=args.rounds)
            await asyncio.sleep(2.0)
            shown = {int(k): v for k, v in (await page.evaluate("window.shownAt")).items()}
            await browser.close()
        for seq, (direction, at) in had.items():
            if seq not in shown:
                run.missing += 1
            else:
                (run.own if direction == "in" else run.replies).append(shown[seq] - at)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(proc.wait(), timeout=20)
        except TimeoutError:
            proc.kill()
            await proc.wait()
        log.close()


async def at_emulator(
    http: aiohttp.ClientSession, emulator: str, args: argparse.Namespace, *, rounds: int
) -> dict[int, tuple[str, float]]:
    """Send the messages; seq -> (direction, ms since the epoch the emulator got it)."""
    async with http.get(f"{emulator}/emulator/api/chat", params={"userid": MEMBER}) as resp:
        rev = (await resp.json())["rev"]
    for i in range(rounds):
        async with http.post(f"{emulator}/emulator/api/send", json={"userid": MEMBER, "text": TEXTS[i % 2]}) as resp:
            await resp.read()
        await asyncio.sleep(args.gap * random.uniform(0.6, 1.4))
    await asyncio.sleep(1.0)
    async with http.get(f"{emulator}/emulator/api/chat", params={"userid": MEMBER, "after": rev}) as resp:
        entries = (await resp.json())["entries"]
    return {e["seq"]: (e["direction"], e["changed_at"] * 1000) for e in entries}


def row(run: Run, name: str, values: list[float]) -> str:
    cells = [f"{pct(values, q):.0f}" for q in (0.5, 0.95)] + [f"{max(values, default=float('nan')):.0f}"]
    return f"| {run.label} ({run.commit}) | {name} | {len(values)} | {' | '.join(cells)} |"


def report(runs: list[Run], args: argparse.Namespace) -> str:
    lines = [
        "# Console: from the emulator having a message to the console showing it",
        "",
        f"`{' '.join(['.venv/bin/python', 'bench/console_bench.py', *sys.argv[1:]])}` — "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, {os.cpu_count()} cores, "
        f"`relay demo` (SQLite), headless Chromium; {args.rounds} messages as {MEMBER}, about {args.gap} s apart.",
        "",
        "| console | entries | n | p50 ms | p95 ms | max ms |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for run in runs:
        lines += [row(run, "member's own", run.own), row(run, "bot's answer", run.replies)]
        all_values = run.own + run.replies
        lines.append(row(run, "all", all_values))
    lines += ["", "Entries the console never showed: " + ", ".join(f"{r.label} {r.missing}" for r in runs), ""]
    lines.append(
        "From the emulator's record of when it got each entry (`changed_at`) to Date.now() in the console page as "
        "the entry's node is added. The member's own: the emulator has it as the message is sent; the bot's answer: "
        "once Relay sent it. `before` is the console's page and script at that commit (it polls once a second)."
    )
    return "\n".join(lines) + "\n"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", help="also measure Relay as committed at this revision, first")
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--gap", type=float, default=0.7, help="seconds between messages (jittered ±40 %%)")
    args = parser.parse_args()
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="console-bench-") as tmp:
        work = Path(tmp)
        if args.before:
            old = work / "before"
            old.mkdir()
            commit = export_commit(args.before, old)
            for source in (ROOT / "emulator").glob("*.py"):
                shutil.copy(source, old / "emulator" / source.name)
            runs.append(Run("before", commit))
            await measure(old, runs[-1], args, work)
        dirty = " + changes" if git("status", "--porcelain", "--untracked-files=no").strip() else ""
        runs.append(Run("after", git("rev-parse", "--short", "HEAD").strip() + dirty))
        await measure(ROOT, runs[-1], args, work)
    text = report(runs, args)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "console.md").write_text(text)
    print(text)
    for run in runs:
        print(f"{run.label}: median of all {statistics.median(run.own + run.replies or [float('nan')]):.0f} ms")


if __name__ == "__main__":
    asyncio.run(main())

"""Benchmark of the WeCom callback: requests/s and latency to the empty 200, beside what its stack allows.

Three servers on loopback, on one database (SQLite, or a fresh PostgreSQL database with Redis): the bare
aiohttp app (bench/bare_server.py, does nothing: the floor), the minimal correct handler
(bench/minimal_server.py: verify, decrypt, parse, one INSERT ... ON CONFLICT DO NOTHING: the yardstick),
and `relay serve` (web only, server.background = false). The same kind of encrypted, signed image
callbacks go to each at concurrency 1 and 50, in interleaved rounds; the report gives Relay as a
percentage of the minimal handler in the same run.

    .venv/bin/python bench/callback_bench.py [--backend sqlite|postgres|both] [--rounds 3] [--concurrency 1 50]

Writes bench/results/callback-<backend>.md. Every subprocess and the temporary database are removed on
exit, also on error or Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import csv
import hashlib
import io
import math
import os
import platform
import secrets
import shlex
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from gitinfo import git, working_tree_label  # noqa: E402  (bench/ is the script's folder)
from wechatpy.enterprise.crypto import PrpCrypto
from yarl import URL

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
DEMO_DATA = Path("relay") / "demo_data"  # staff.csv and products.csv, inside the Relay source tree
PYTHON = Path(sys.executable)
RELAY = PYTHON.parent / "relay"
PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"
PG_BASE = "postgres://postgres@127.0.0.1:5432/"
REDIS_URL = "redis://127.0.0.1:6379/14"
AGENT_ID = 1000002
CALLBACK_PATH = "/wecom/callback"


# --- subprocesses ---------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def child_env(source: Path) -> dict[str, str]:
    # RELAY_<SECTION>_<KEY> would override the generated config.toml: none leaks in from the caller.
    env = {k: v for k, v in os.environ.items() if not k.startswith("RELAY_")}
    # Ahead of the venv's editable install, so `relay` and `-m emulator` run the code under test.
    env["PYTHONPATH"] = str(source) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["PYTHONUNBUFFERED"] = "1"
    return env


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


class StepFailed(Exception):
    pass


@dataclass
class Service:
    name: str
    proc: asyncio.subprocess.Process
    log: Path


@dataclass
class Processes:
    """Every subprocess this run starts, each in its own process group, stopped in reverse order."""

    logs: Path
    source: Path  # the Relay tree the children run
    services: list[Service] = field(default_factory=list)

    async def run(self, name: str, argv: Sequence[str | Path | int], within: float = 120.0) -> str:
        """A command to completion; its output, or StepFailed with it."""
        log = self.logs / f"{name}.log"
        with log.open("wb") as out:
            proc = await asyncio.create_subprocess_exec(
                *map(str, argv),
                cwd=self.source,
                env=child_env(self.source),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
            service = Service(name, proc, log)
            self.services.append(service)
            try:
                rc = await asyncio.wait_for(proc.wait(), within)
            except TimeoutError:
                raise StepFailed(f"{name} did not finish in {within:.0f}s:\n{tail(log)}") from None
            finally:
                if proc.returncode is not None:
                    self.services.remove(service)
        text = log.read_text(errors="replace")
        if rc != 0:
            raise StepFailed(f"{name} exited with {rc}:\n{tail(log)}")
        return text

    async def start(self, name: str, argv: Sequence[str | Path | int]) -> Service:
        log = self.logs / f"{name}.log"
        out = log.open("wb")
        try:
            proc = await asyncio.create_subprocess_exec(
                *map(str, argv),
                cwd=self.source,
                env=child_env(self.source),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        finally:
            out.close()  # the child holds its own copy
        service = Service(name, proc, log)
        self.services.append(service)
        return service

    async def stop_all(self) -> None:
        while self.services:
            await self._stop(self.services.pop())

    @staticmethod
    async def _stop(service: Service) -> None:
        proc = service.proc
        if proc.returncode is not None:
            return
        # start_new_session made the child a group leader: its group is exactly what we started.
        for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, sig)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(proc.wait(), wait)
                return


async def wait_http(session: aiohttp.ClientSession, url: str, service: Service, within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if service.proc.returncode is not None:
            raise StepFailed(f"{service.name} exited with {service.proc.returncode}:\n{tail(service.log)}")
        with contextlib.suppress(aiohttp.ClientError, TimeoutError):
            async with session.get(url, timeout=aiohttp.ClientTimeout(total=2)) as resp:
                if resp.status == 200:
                    return
        await asyncio.sleep(0.1)
    raise StepFailed(f"{service.name} not answering {url} after {within:.0f}s:\n{tail(service.log)}")


# --- the corp, the configs ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Corp:
    corp_id: str
    secret: str
    token: str
    encoding_aes_key: str
    agent_id: int = AGENT_ID

    @classmethod
    def random(cls) -> Corp:
        return cls(
            corp_id="wwbench" + secrets.token_hex(5),
            secret=secrets.token_urlsafe(24),
            token=secrets.token_hex(8),
            encoding_aes_key=base64.b64encode(secrets.token_bytes(32)).decode()[:43],
        )

    @property
    def aes_key(self) -> bytes:
        return base64.b64decode(self.encoding_aes_key + "=")


def toml_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def emulator_toml(corp: Corp, *, callback_url: str, public_url: str, staff_csv: Path) -> str:
    lines = [
        f"corp_id = {toml_str(corp.corp_id)}",
        f"corp_secret = {toml_str(corp.secret)}",
        f"agent_id = {corp.agent_id}",
        f"token = {toml_str(corp.token)}",
        f"encoding_aes_key = {toml_str(corp.encoding_aes_key)}",
        f"callback_url = {toml_str(callback_url)}",
        f"public_url = {toml_str(public_url)}",
    ]
    for row in csv.DictReader(io.StringIO(staff_csv.read_text(encoding="utf-8-sig"))):
        lines += [
            "",
            "[[users]]",
            f"userid = {toml_str(row['userid'])}",
            f"name = {toml_str(row['name'])}",
            "department = [1]",
            f"position = {toml_str(row['roles'])}",
        ]
    return "\n".join(lines) + "\n"


def relay_toml(corp: Corp, *, port: int, emu_url: str, database_url: str, redis_url: str, storage: Path) -> str:
    # background = false: `relay serve` as it runs beside workers, answering callbacks and nothing else.
    return f"""\
[server]
host = "127.0.0.1"
port = {port}
public_url = "http://127.0.0.1:{port}"
background = false

[database]
url = {toml_str(database_url)}

[redis]
url = {toml_str(redis_url)}

[wecom]
corp_id = {toml_str(corp.corp_id)}
agent_id = {corp.agent_id}
secret = {toml_str(corp.secret)}
token = {toml_str(corp.token)}
encoding_aes_key = {toml_str(corp.encoding_aes_key)}
api_base = "{emu_url}/cgi-bin/"
oauth_url = "{emu_url}/connect/oauth2/authorize"

[storage]
path = {toml_str(str(storage))}

[security]
secret_key = {toml_str(secrets.token_urlsafe(48))}
pii_key = {toml_str(secrets.token_urlsafe(48))}
"""


# --- the burst ------------------------------------------------------------------------------------------


def cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def sign(token: str, timestamp: str, nonce: str, encrypted: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypted])).encode()).hexdigest()


@dataclass(frozen=True)
class Callback:
    params: dict[str, str]
    body: bytes


def seal(corp: Corp, inner_xml: str) -> Callback:
    """Encrypt and sign like WeCom (90968): PKCS#7 to 32, receiveid = corp id, sha1 of the sorted four."""
    timestamp = str(int(time.time()))
    nonce = str(secrets.randbelow(10**10))
    encrypted = PrpCrypto(corp.aes_key).encrypt(inner_xml, corp.corp_id).decode()
    body = (
        f"<xml><ToUserName>{cdata(corp.corp_id)}</ToUserName><AgentID>{cdata(str(corp.agent_id))}</AgentID>"
        f"<Encrypt>{cdata(encrypted)}</Encrypt></xml>"
    )
    params = {"msg_signature": sign(corp.token, timestamp, nonce, encrypted), "timestamp": timestamp, "nonce": nonce}
    return Callback(params=params, body=body.encode())


def image_xml(corp: Corp, *, userid: str, create_time: int, pic_url: str, media_id: str, msg_id: int) -> str:
    """An image message's inner XML, fields in WeCom's order (90239)."""
    return (
        f"<xml><ToUserName>{cdata(corp.corp_id)}</ToUserName><FromUserName>{cdata(userid)}</FromUserName>"
        f"<CreateTime>{create_time}</CreateTime><MsgType>{cdata('image')}</MsgType>"
        f"<PicUrl>{cdata(pic_url)}</PicUrl><MediaId>{cdata(media_id)}</MediaId><MsgId>{msg_id}</MsgId>"
        f"<AgentID>{corp.agent_id}</AgentID></xml>"
    )


def image_callbacks(corp: Corp, *, userid: str, media_ids: Sequence[str], count: int, emu_url: str) -> list[Callback]:
    first_msg_id = 7_000_000_000_000_000_000 + secrets.randbelow(10**17)  # unique MsgIds: none is a re-send
    create_time = int(time.time())
    out = []
    for i in range(count):
        media_id = media_ids[i % len(media_ids)]
        pic_url = f"{emu_url}/emulator/media/{media_id}"
        xml = image_xml(
            corp, userid=userid, create_time=create_time, pic_url=pic_url, media_id=media_id, msg_id=first_msg_id + i
        )
        out.append(seal(corp, xml))
    return out


def verify_url_params(corp: Corp) -> dict[str, str]:
    """A GET URL check (echostr): warms Relay's stack and crypto without storing anything."""
    timestamp, nonce = str(int(time.time())), str(secrets.randbelow(10**10))
    echostr = PrpCrypto(corp.aes_key).encrypt(str(secrets.randbelow(10**19)), corp.corp_id).decode()
    return {
        "msg_signature": sign(corp.token, timestamp, nonce, echostr),
        "timestamp": timestamp,
        "nonce": nonce,
        "echostr": echostr,
    }


@dataclass
class BurstResult:
    label: str
    latencies: list[float]  # seconds, one per answered request
    wall: float  # first request sent to last response read
    statuses: Counter[str]
    errors: int

    @property
    def requests(self) -> int:
        return len(self.latencies)

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[max(0, math.ceil(q * len(ordered)) - 1)] * 1000 if ordered else float("nan")

    @property
    def rps(self) -> float:
        return self.requests / self.wall if self.wall else float("nan")


async def burst(label: str, url: str, callbacks: Sequence[Callback], concurrency: int) -> BurstResult:
    """Every callback once, `concurrency` in flight; latency is send to the whole response read."""
    urls = [URL(url).with_query(cb.params) for cb in callbacks]
    headers = {"Content-Type": "text/xml; charset=utf-8"}
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    errors = 0
    queue = iter(range(len(callbacks)))
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def worker() -> None:
            nonlocal errors
            for i in queue:
                started = time.perf_counter()
                try:
                    async with session.post(urls[i], data=callbacks[i].body, headers=headers) as resp:
                        body = await resp.read()
                        status = resp.status
                except (aiohttp.ClientError, TimeoutError) as exc:
                    latencies.append(time.perf_counter() - started)
                    statuses[type(exc).__name__] += 1
                    errors += 1
                    continue
                latencies.append(time.perf_counter() - started)
                if status == 200 and body == b"":
                    statuses["200 empty"] += 1
                else:
                    statuses[f"{status} {body[:60]!r}"] += 1
                    errors += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - started
    return BurstResult(label, latencies, wall, statuses, errors)


async def warm_up(
    url: str, count: int, *, method: str = "GET", params: dict[str, str] | None = None, body: bytes = b""
) -> None:
    async with aiohttp.ClientSession() as session:

        async def one() -> None:
            async with session.request(method, url, params=params, data=body or None) as resp:
                await resp.read()
                if resp.status != 200:
                    raise StepFailed(f"warm-up {method} {url}: {resp.status} {await resp.text()}")

        await asyncio.gather(*(one() for _ in range(count)))


# --- the database ---------------------------------------------------------------------------------------


def parse_ts(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class Inbox:
    """Reads Relay's tables directly (sqlite3 / asyncpg), never through Relay."""

    def __init__(self, database_url: str) -> None:
        self.url = database_url
        self._pg: Any = None

    async def __aenter__(self) -> Inbox:
        if self.url.startswith("postgres"):
            import asyncpg

            self._pg = await asyncpg.connect(self.url)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._pg is not None:
            await self._pg.close()

    async def query(self, sql: str) -> list[tuple[Any, ...]]:
        if self._pg is not None:
            return [tuple(r) for r in await self._pg.fetch(sql)]
        path = self.url.removeprefix("sqlite://")

        def read() -> list[tuple[Any, ...]]:
            # Read-only and short: a reader must not hold Relay's writer up for long.
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
            try:
                return conn.execute(sql).fetchall()
            finally:
                conn.close()

        return await asyncio.to_thread(read)

    async def states(self, userid: str) -> Counter[str]:
        rows = await self.query(f"SELECT state, COUNT(*) FROM inbox WHERE userid = '{userid}' GROUP BY state")
        return Counter({str(state): int(n) for state, n in rows})

    async def handled_window(self, userid: str) -> tuple[datetime | None, datetime | None, datetime | None]:
        rows = await self.query(
            f"SELECT MIN(received_at), MAX(received_at), MAX(processed_at) FROM inbox WHERE userid = '{userid}'"
        )
        first, last, done = rows[0]
        return parse_ts(first), parse_ts(last), parse_ts(done)

    async def count(self, sql: str) -> Counter[str]:
        return Counter({str(k): int(n) for k, n in await self.query(sql)})


@contextlib.asynccontextmanager
async def database(backend: str, tmp: Path) -> AsyncIterator[tuple[str, str]]:
    """(database url, redis url): a SQLite file in tmp, or a fresh PostgreSQL database dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite://{tmp / 'relay.sqlite3'}", ""
        return
    import asyncpg

    name = f"relay_bench_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(PG_ADMIN)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield PG_BASE + name, REDIS_URL
    finally:
        admin = await asyncpg.connect(PG_ADMIN)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


# --- one backend ----------------------------------------------------------------------------------------

SERVERS = ("bare aiohttp", "minimal correct", "Relay")


@dataclass
class Report:
    backend: str
    args: argparse.Namespace
    # (concurrency, server) -> one result per round
    results: dict[tuple[int, str], list[BurstResult]]
    stored: dict[str, int]  # rows each storing server holds after the run
    sent: dict[str, int]
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]
    relay_log_counts: Counter[str]


def log_levels(path: Path) -> Counter[str]:
    counts: Counter[str] = Counter()
    for line in path.read_text(errors="replace").splitlines():
        for level in (" WARNING ", " ERROR ", " CRITICAL ", "Traceback"):
            if level in line:
                counts[level.strip()] += 1
    return counts


async def count_rows(database_url: str, table: str) -> int:
    async with Inbox(database_url) as db:
        return int((await db.query(f"SELECT COUNT(*) FROM {table}"))[0][0])


async def run_backend(backend: str, args: argparse.Namespace) -> Report:
    tmp = Path(tempfile.mkdtemp(prefix=f"relay-bench-{backend}-"))
    procs = Processes(logs=tmp, source=args.source)
    print(f"[{backend}] temp dir {tmp}", flush=True)
    try:
        async with database(backend, tmp) as (database_url, redis_url), aiohttp.ClientSession() as http:
            try:
                return await _run(backend, args, tmp, procs, http, database_url, redis_url)
            finally:
                await procs.stop_all()
    finally:
        await procs.stop_all()
        if args.keep:
            print(f"[{backend}] kept {tmp}", flush=True)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


async def _run(
    backend: str,
    args: argparse.Namespace,
    tmp: Path,
    procs: Processes,
    http: aiohttp.ClientSession,
    database_url: str,
    redis_url: str,
) -> Report:
    corp = Corp.random()
    relay_port, bare_port, minimal_port = free_port(), free_port(), free_port()
    urls = {
        "Relay": f"http://127.0.0.1:{relay_port}",
        "bare aiohttp": f"http://127.0.0.1:{bare_port}",
        "minimal correct": f"http://127.0.0.1:{minimal_port}",
    }
    config = tmp / "config.toml"
    config.write_text(
        relay_toml(
            corp,
            port=relay_port,
            emu_url="http://127.0.0.1:9",  # never called: serve runs no background work here
            database_url=database_url,
            redis_url=redis_url,
            storage=tmp / "files",
        ),
        encoding="utf-8",
    )
    relay_cli: list[str | Path | int] = [RELAY, "--config", config]
    await procs.run("migrate", [*relay_cli, "migrate"])
    services = {
        "Relay": await procs.start("relay-serve", [*relay_cli, "serve"]),
        "bare aiohttp": await procs.start("bare", [PYTHON, BENCH / "bare_server.py", "--port", bare_port]),
        "minimal correct": await procs.start(
            "minimal",
            [
                PYTHON,
                BENCH / "minimal_server.py",
                "--port",
                minimal_port,
                "--database",
                database_url,
                "--token",
                corp.token,
                "--aes-key",
                corp.encoding_aes_key,
                "--corp-id",
                corp.corp_id,
            ],
        ),  # fmt: skip
    }
    for name, service in services.items():
        await wait_http(http, urls[name] + "/healthz", service)

    warm = image_callbacks(corp, userid=args.userid, media_ids=["warm"], count=1, emu_url="http://127.0.0.1:9")[0]
    await warm_up(urls["Relay"] + CALLBACK_PATH, 100, params=verify_url_params(corp))
    await warm_up(urls["bare aiohttp"] + CALLBACK_PATH, 100, method="POST", body=warm.body)
    await warm_up(urls["minimal correct"] + CALLBACK_PATH, 100, method="POST", params=warm.params, body=warm.body)

    results: dict[tuple[int, str], list[BurstResult]] = {}
    sent: Counter[str] = Counter()
    load_before = os.getloadavg()
    for concurrency in args.concurrency:
        requests = args.requests if concurrency > 1 else args.requests_sequential
        for round_no in range(args.rounds):
            # Interleaved, and the order turned each round: the machine's other load falls on all three alike.
            order = SERVERS[round_no % 3 :] + SERVERS[: round_no % 3]
            for name in order:
                callbacks = image_callbacks(
                    corp,
                    userid=args.userid,
                    media_ids=[f"bench-{i}" for i in range(16)],
                    count=requests,
                    emu_url="http://127.0.0.1:9",
                )
                print(f"[{backend}] c={concurrency} round {round_no + 1}: {requests} callbacks -> {name}", flush=True)
                result = await burst(name, urls[name] + CALLBACK_PATH, callbacks, concurrency)
                results.setdefault((concurrency, name), []).append(result)
                sent[name] += requests
    load_after = os.getloadavg()
    for name, service in services.items():
        if service.proc.returncode is not None:
            raise StepFailed(f"{name} exited with {service.proc.returncode} during the run:\n{tail(service.log)}")
    stored = {
        "Relay": await count_rows(database_url, "inbox"),
        "minimal correct": await count_rows(database_url, "bench_minimal_inbox"),
    }
    return Report(
        backend, args, results, stored, dict(sent), load_before, load_after, log_levels(services["Relay"].log)
    )


# --- the report -----------------------------------------------------------------------------------------


def export_commit(rev: str, into: Path) -> str:
    """The tree of `rev`, unpacked into `into` (read-only on the repository); its short hash."""
    commit = git("rev-parse", "--short", f"{rev}^{{commit}}").strip()
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", commit], capture_output=True, timeout=120, check=True
    ).stdout
    import tarfile

    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return commit


def fmt(value: float | None, digits: int = 1) -> str:
    return "—" if value is None or math.isnan(value) else f"{value:,.{digits}f}"


def median_run(runs: list[BurstResult]) -> BurstResult:
    return sorted(runs, key=lambda r: r.rps)[len(runs) // 2]


def markdown(report: Report) -> str:
    args = report.args
    lines = [
        f"# Callback benchmark: {report.backend}",
        "",
        f"Encrypted image callbacks from measurer `{args.userid}` (each with its own MsgId), posted to three "
        f"servers on one {report.backend} database: a bare aiohttp handler that does nothing (the floor), the "
        "minimal correct handler (`bench/minimal_server.py`: verify, decrypt, parse, one INSERT … ON CONFLICT DO "
        "NOTHING) and `relay serve` (web only, `server.background = false`, as beside workers). "
        f"{args.rounds} rounds per concurrency, the three interleaved and their order turned each round; "
        "the table shows each server's median round (req/s) and the range over rounds. "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, Relay: {args.source_label}, {os.cpu_count()} CPUs shared "
        f"with other work (load average {' / '.join(f'{x:.2f}' for x in report.load_before)} before, "
        f"{' / '.join(f'{x:.2f}' for x in report.load_after)} after), Python {platform.python_version()}, "
        f"aiohttp {aiohttp.__version__}.",
        "",
        f"    {args.command_line}",
        "",
        "| concurrency | server | requests × rounds | errors | req/s (median) | req/s (range) | p50 ms | p99 ms "
        "| Relay / minimal |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    verdicts = []
    for concurrency in args.concurrency:
        minimal = median_run(report.results[(concurrency, "minimal correct")])
        for name in SERVERS:
            runs = report.results[(concurrency, name)]
            mid = median_run(runs)
            share = ""
            if name == "Relay":
                ratio = mid.rps / minimal.rps * 100
                share = f"**{ratio:.0f} %**"
                verdicts.append((concurrency, ratio))
            elif name == "minimal correct":
                share = "100 %"
            rates = sorted(r.rps for r in runs)
            lines.append(
                f"| {concurrency} | {name} | {runs[0].requests} × {len(runs)} | {sum(r.errors for r in runs)} | "
                f"{fmt(mid.rps, 0)} | {fmt(rates[0], 0)}–{fmt(rates[-1], 0)} | {fmt(mid.pct(0.50))} | "
                f"{fmt(mid.pct(0.99))} | {share} |"
            )
    lines += [""]
    for concurrency, ratio in verdicts:
        within = "within" if ratio >= 90 else "**not** within"
        lines.append(
            f"- Concurrency {concurrency}: Relay at {ratio:.0f} % of the minimal correct handler ({within} 10 %)."
        )
    statuses = Counter[str]()
    for runs in report.results.values():
        for r in runs:
            statuses.update({f"{r.label}: {k}": v for k, v in r.statuses.items()})
    log_counts = ", ".join(f"{k} {v}" for k, v in sorted(report.relay_log_counts.items())) or "none"
    lines += [
        "- Answers: " + "; ".join(f"{k} × {v}" for k, v in sorted(statuses.items())) + ".",
        f"- Stored: Relay's inbox {report.stored['Relay']} rows of {report.sent.get('Relay', 0)} sent; the minimal "
        f"handler's table {report.stored['minimal correct']} of {report.sent.get('minimal correct', 0)}. "
        f"Relay's log: {log_counts}.",
        f"- Database: {'a SQLite file (WAL)' if report.backend == 'sqlite' else 'PostgreSQL, Redis db 14'}. "
        "The client (one Python process) and the servers share the machine's CPUs; latency is from sending the "
        "request to reading the whole answer. The messages are stored, not handled (no worker runs): handling "
        "is measured by `bench/load_bench.py`.",
    ]
    return "\n".join(lines) + "\n"


# --- main -----------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="callbacks per burst when concurrent (2000)")
    parser.add_argument(
        "--requests-sequential", type=int, default=500, help="callbacks per burst at concurrency 1 (500)"
    )
    parser.add_argument(
        "--concurrency", type=int, nargs="+", default=[1, 50], help="requests in flight (default: 1 50)"
    )
    parser.add_argument("--rounds", type=int, default=3, help="bursts per server and concurrency (default 3)")
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--userid", default="sunceliang", help="the member sending the photos")
    parser.add_argument(
        "--commit",
        metavar="REV",
        help="run Relay as committed at REV (exported with git archive) instead of the working tree",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (configs, logs, SQLite file)")
    args = parser.parse_args(argv)
    if args.requests < 1 or args.requests_sequential < 1 or args.rounds < 1 or min(args.concurrency) < 1:
        parser.error("--requests, --requests-sequential, --rounds and --concurrency must be positive")
    args.command_line = ".venv/bin/python bench/callback_bench.py " + shlex.join(
        argv if argv is not None else sys.argv[1:]
    )
    return args


async def main_async(args: argparse.Namespace) -> int:
    loop = asyncio.get_running_loop()
    main_task = asyncio.current_task()
    assert main_task is not None
    # SIGTERM/SIGHUP unwind like Ctrl-C, so the finally blocks stop the subprocesses and drop the database.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(sig, main_task.cancel)
    RESULTS.mkdir(parents=True, exist_ok=True)
    exported: Path | None = None
    try:
        if args.commit:
            exported = Path(tempfile.mkdtemp(prefix="relay-bench-src-"))
            try:
                commit = await asyncio.to_thread(export_commit, args.commit, exported)
            except (OSError, subprocess.SubprocessError) as exc:
                print(f"cannot export {args.commit}: {exc}", file=sys.stderr)
                return 2
            args.source, args.source_label = exported, f"commit {commit} (git archive)"
        else:
            args.source, args.source_label = ROOT, working_tree_label()
        return await run_all(args)
    finally:
        if exported is not None:
            shutil.rmtree(exported, ignore_errors=True)


async def run_all(args: argparse.Namespace) -> int:
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    failed = 0
    for backend in backends:
        try:
            report = await run_backend(backend, args)
        except StepFailed as exc:
            print(f"[{backend}] FAILED: {exc}", file=sys.stderr, flush=True)
            failed += 1
            continue
        text = markdown(report)
        out = RESULTS / f"callback-{backend}.md"
        out.write_text(text, encoding="utf-8")
        print("\n" + text + f"\n(written to {out.relative_to(ROOT)})\n", flush=True)
        if any(r.errors for runs in report.results.values() for r in runs):
            failed += 1
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return asyncio.run(main_async(args))
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("interrupted; subprocesses stopped and temporary data removed", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

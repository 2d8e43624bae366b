"""Benchmark of the WeCom callback: requests/s and latency to the empty 200 under a burst of photo messages.

Starts the WeCom emulator, Relay (`relay serve`, on SQLite or PostgreSQL + Redis) and a bare aiohttp app
(bench/bare_server.py, the floor) as subprocesses on free loopback ports. Uploads real JPEGs to the
emulator for real media_ids, builds N image callbacks from one measurer, encrypted and signed as WeCom
does, and fires the same bodies at the bare app and then at Relay with an aiohttp client at a fixed
concurrency. Relay answers before it handles a message (the handling is background work in the same
process), so it also waits until every stored inbox row is done or failed, polling the database.

    .venv/bin/python bench/callback_bench.py [--requests 2000] [--concurrency 50] [--backend sqlite|postgres|both]

Writes bench/results/callback-<backend>.md. Loopback only; every subprocess and the temporary database
are removed on exit, also on error or Ctrl-C.
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
import random
import secrets
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
from PIL import Image, ImageDraw, ImageFilter
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
    return f"""\
[server]
host = "127.0.0.1"
port = {port}
public_url = "http://127.0.0.1:{port}"

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


def site_photo(seed: int, size: tuple[int, int] = (1280, 960)) -> bytes:
    """A real JPEG with a photo's entropy (shapes, gradients, sensor noise), about 200-300 KB."""
    rng = random.Random(seed)
    width, height = size
    img = Image.linear_gradient("L").resize(size).convert("RGB")
    draw = ImageDraw.Draw(img)
    for _ in range(40):
        x, y = rng.randrange(width), rng.randrange(height)
        w, h = rng.randrange(40, 400), rng.randrange(40, 300)
        color = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        draw.rectangle((x, y, x + w, y + h), fill=color)
    img = img.filter(ImageFilter.GaussianBlur(2))
    noise = Image.effect_noise(size, 24).convert("RGB")
    img = Image.blend(img, noise, 0.18)
    out = io.BytesIO()
    img.save(out, "JPEG", quality=85)
    return out.getvalue()


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


async def upload_media(
    session: aiohttp.ClientSession, emu_url: str, corp: Corp, photos: Sequence[bytes], count: int
) -> list[str]:
    async with session.get(
        f"{emu_url}/cgi-bin/gettoken", params={"corpid": corp.corp_id, "corpsecret": corp.secret}
    ) as resp:
        answer = await resp.json()
    if answer.get("errcode") != 0:
        raise StepFailed(f"gettoken: {answer}")
    token = answer["access_token"]
    media_ids: list[str] = [""] * count
    slots = asyncio.Semaphore(8)

    async def one(i: int) -> None:
        form = aiohttp.FormData()
        form.add_field("media", photos[i % len(photos)], filename=f"site-{i}.jpg", content_type="image/jpeg")
        async with (
            slots,
            session.post(
                f"{emu_url}/cgi-bin/media/upload", params={"access_token": token, "type": "image"}, data=form
            ) as resp,
        ):
            result = await resp.json()
        if result.get("errcode") != 0 or not result.get("media_id"):
            raise StepFailed(f"media/upload: {result}")
        media_ids[i] = result["media_id"]

    await asyncio.gather(*(one(i) for i in range(count)))
    return media_ids


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


@dataclass
class Drain:
    states: Counter[str]
    seconds_from_burst_start: float | None  # until the last row was marked done/failed (its processed_at)
    seconds_after_last_answer: float | None
    timed_out: bool
    attachments: int
    outbox: Counter[str]
    last_errors: list[str]


async def wait_drained(
    inbox: Inbox, *, userid: str, expected: int, burst_started: float, burst_ended: float, within: float
) -> Drain:
    deadline = time.monotonic() + within
    timed_out = True
    states: Counter[str] = Counter()
    while time.monotonic() < deadline:
        states = await inbox.states(userid)
        if states["done"] + states["failed"] >= expected and not states["pending"]:
            timed_out = False
            break
        await asyncio.sleep(0.25)
    _, _, last_done = await inbox.handled_window(userid)
    from_start = after_last = None
    if last_done is not None and not timed_out:
        from_start = last_done.timestamp() - burst_started
        after_last = last_done.timestamp() - burst_ended
    errors = [
        str(r[0])[:300]
        for r in await inbox.query("SELECT last_error FROM inbox WHERE last_error <> '' ORDER BY id DESC LIMIT 3")
    ]
    attachments = int((await inbox.query("SELECT COUNT(*) FROM attachment"))[0][0])
    outbox = await inbox.count("SELECT state, COUNT(*) FROM outbox GROUP BY state")
    return Drain(states, from_start, after_last, timed_out, attachments, outbox, errors)


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


async def forget_redis_keys(corp: Corp, userid: str, database_url: str) -> None:
    """Only this run's keys in db 14 (others share it): this corp's token, and the measurer's chat
    context while it still names this run's order or task."""
    import redis.asyncio as redis

    async with Inbox(database_url) as db:
        ours = {str(r[0]) for r in await db.query("SELECT id FROM task")}
        ours |= {str(r[0]) for r in await db.query('SELECT id FROM "order"')}
    client = redis.from_url(REDIS_URL, decode_responses=True)
    try:
        keys = [key async for key in client.scan_iter(match=f"relay:*{corp.corp_id}*", count=500)]
        async for key in client.scan_iter(match=f"relay:chat:*:{userid}", count=500):
            if await client.get(key) in ours:
                keys.append(key)
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


# --- one backend ----------------------------------------------------------------------------------------


@dataclass
class Report:
    backend: str
    args: argparse.Namespace
    bare: BurstResult
    relay: BurstResult
    drain: Drain
    photo_bytes: int
    media_ids: int
    seeded_task: str
    relay_log_counts: Counter[str]
    relay_log_samples: list[str]
    load_before: tuple[float, float, float]  # the machine's load average just before the bursts


def log_levels(path: Path) -> tuple[Counter[str], list[str]]:
    counts: Counter[str] = Counter()
    samples: list[str] = []
    for line in path.read_text(errors="replace").splitlines():
        for level in (" WARNING ", " ERROR ", " CRITICAL ", "Traceback"):
            if level in line:
                counts[level.strip()] += 1
                if len(samples) < 5 and line not in samples:
                    samples.append(line[:300])
    return counts, samples


async def run_backend(backend: str, args: argparse.Namespace) -> Report:
    tmp = Path(tempfile.mkdtemp(prefix=f"relay-bench-{backend}-"))
    procs = Processes(logs=tmp, source=args.source)
    corp = Corp.random()
    emu_port, relay_port, bare_port = free_port(), free_port(), free_port()
    emu_url, relay_url, bare_url = (f"http://127.0.0.1:{p}" for p in (emu_port, relay_port, bare_port))
    print(f"[{backend}] temp dir {tmp}", flush=True)
    try:
        async with database(backend, tmp) as (database_url, redis_url), aiohttp.ClientSession() as http:
            try:
                return await _run(
                    backend,
                    args,
                    tmp,
                    procs,
                    corp,
                    http,
                    database_url,
                    redis_url,
                    emu_url=emu_url,
                    relay_url=relay_url,
                    bare_url=bare_url,
                    ports=(emu_port, relay_port, bare_port),
                )
            finally:
                await procs.stop_all()
                if redis_url:
                    with contextlib.suppress(Exception):
                        await forget_redis_keys(corp, args.userid, database_url)
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
    corp: Corp,
    http: aiohttp.ClientSession,
    database_url: str,
    redis_url: str,
    *,
    emu_url: str,
    relay_url: str,
    bare_url: str,
    ports: tuple[int, int, int],
) -> Report:
    emu_port, relay_port, bare_port = ports
    config = tmp / "config.toml"
    config.write_text(
        relay_toml(
            corp,
            port=relay_port,
            emu_url=emu_url,
            database_url=database_url,
            redis_url=redis_url,
            storage=tmp / "files",
        ),
        encoding="utf-8",
    )
    emu_config = tmp / "emulator.toml"
    emu_config.write_text(
        emulator_toml(
            corp,
            callback_url=relay_url + CALLBACK_PATH,
            public_url=emu_url,
            staff_csv=args.source / DEMO_DATA / "staff.csv",
        ),
        encoding="utf-8",
    )

    print(f"[{backend}] starting emulator on {emu_port}, preparing Relay's database", flush=True)
    emulator = await procs.start("emulator", [PYTHON, "-m", "emulator", "--config", emu_config, "--port", emu_port])
    relay_cli: list[str | Path | int] = [RELAY, "--config", config]
    await procs.run("migrate", [*relay_cli, "migrate"])
    await procs.run("staff-import", [*relay_cli, "staff", "import", args.source / DEMO_DATA / "staff.csv"])
    await procs.run("products-import", [*relay_cli, "products", "import", args.source / DEMO_DATA / "products.csv"])
    seeded = "none (--no-task)"
    if not args.no_task:
        seeded = (
            (
                await procs.run(
                    "seed-task", [PYTHON, BENCH / "seed_task.py", "--config", config, "--measurer", args.userid]
                )
            )
            .strip()
            .splitlines()[-1]
        )
    await wait_http(http, f"{emu_url}/emulator/api/users", emulator)

    relay = await procs.start("relay-serve", [*relay_cli, "serve"])
    bare = await procs.start("bare", [PYTHON, BENCH / "bare_server.py", "--port", bare_port])
    await wait_http(http, f"{relay_url}/healthz", relay)
    await wait_http(http, f"{bare_url}/healthz", bare)

    photos = [site_photo(seed) for seed in range(4)]
    media_count = args.media_ids or args.requests
    print(
        f"[{backend}] uploading {media_count} photos ({sum(map(len, photos)) // len(photos) // 1024} KB each) "
        f"to the emulator",
        flush=True,
    )
    media_ids = await upload_media(http, emu_url, corp, photos, media_count)
    callbacks = image_callbacks(corp, userid=args.userid, media_ids=media_ids, count=args.requests, emu_url=emu_url)

    # Connections, first-request paths and crypto warmed on both before anything is timed.
    await warm_up(relay_url + CALLBACK_PATH, args.concurrency * 2, params=verify_url_params(corp))
    await warm_up(bare_url + CALLBACK_PATH, args.concurrency * 2, method="POST", body=callbacks[0].body)
    # Let Relay deliver the seeded task's cards first: nothing else should be running when the burst starts.
    await asyncio.sleep(2)

    load_before = os.getloadavg()
    print(f"[{backend}] burst: {args.requests} callbacks at concurrency {args.concurrency} -> bare aiohttp", flush=True)
    bare_result = await burst("bare aiohttp", bare_url + CALLBACK_PATH, callbacks, args.concurrency)
    await asyncio.sleep(1)
    print(f"[{backend}] burst: the same callbacks -> Relay", flush=True)
    burst_started = time.time()
    relay_result = await burst(f"Relay ({backend})", relay_url + CALLBACK_PATH, callbacks, args.concurrency)
    burst_ended = burst_started + relay_result.wall
    print(f"[{backend}] waiting for Relay to handle every stored message (up to {args.drain_timeout:.0f}s)", flush=True)
    async with Inbox(database_url) as inbox:
        drain = await wait_drained(
            inbox,
            userid=args.userid,
            expected=args.requests,
            burst_started=burst_started,
            burst_ended=burst_ended,
            within=args.drain_timeout,
        )
    if relay.proc.returncode is not None:
        raise StepFailed(f"Relay exited with {relay.proc.returncode} during the run:\n{tail(relay.log)}")
    counts, samples = log_levels(relay.log)
    if args.keep:
        print(f"[{backend}] Relay's log: {relay.log}", flush=True)
    return Report(
        backend,
        args,
        bare_result,
        relay_result,
        drain,
        sum(map(len, photos)) // len(photos),
        len(set(media_ids)),
        seeded,
        counts,
        samples,
        load_before,
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


def markdown(report: Report) -> str:
    args = report.args
    rows = []
    for r in (report.bare, report.relay):
        rows.append(
            f"| {r.label} | {r.requests} | {r.errors} | {fmt(r.rps, 0)} | {fmt(r.pct(0.50))} | "
            f"{fmt(r.pct(0.90))} | {fmt(r.pct(0.99))} | {fmt(max(r.latencies, default=0) * 1000)} |"
        )
    d = report.drain
    handled = d.states["done"] + d.states["failed"]
    if d.timed_out:
        drain_line = f"**not finished** after {args.drain_timeout:.0f}s: {dict(d.states)} (of {args.requests} stored)"
    else:
        rate = handled / d.seconds_from_burst_start if d.seconds_from_burst_start else float("nan")
        drain_line = (
            f"all {handled} stored messages handled ({d.states['done']} done, {d.states['failed']} failed) "
            f"**{fmt(d.seconds_from_burst_start)} s** after the burst started, "
            f"{fmt(d.seconds_after_last_answer)} s after its last 200 (≈ {fmt(rate, 0)} messages/s)"
        )
    statuses = "; ".join(
        f"{r.label}: " + ", ".join(f"{k} × {v}" for k, v in r.statuses.most_common())
        for r in (report.bare, report.relay)
    )
    log_counts = ", ".join(f"{k} {v}" for k, v in sorted(report.relay_log_counts.items())) or "none"
    lines = [
        f"# Callback benchmark: {report.backend}",
        "",
        f"{args.requests} encrypted image callbacks from measurer `{args.userid}`, concurrency {args.concurrency}, "
        f"same bodies to both servers (bare first, then Relay). "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, Relay: {args.source_label}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, aiohttp {aiohttp.__version__}.",
        "",
        "| server | requests | errors | req/s | p50 ms | p90 ms | p99 ms | max ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        *rows,
        "",
        f"Background handling in Relay's serve process: {drain_line}.",
        "",
        f"- Answers: {statuses}.",
        f"- Database: {'SQLite file' if report.backend == 'sqlite' else 'PostgreSQL, Redis db 14'}; "
        f"`relay serve` runs the inbox and outbox loops in the same process as the callback.",
        f"- Photos: {report.media_ids} distinct media_ids on the emulator, JPEG 1280×960 ≈ "
        f"{report.photo_bytes // 1024} KB; each handled message downloads one (media/get), verifies it, "
        f"makes a thumbnail and stores it. Measure task: {report.seeded_task}.",
        f"- After the run: {d.attachments} attachments; outbox {dict(d.outbox) or '{}'}; "
        f"Relay log lines: {log_counts}.",
        "- The client, both servers and the emulator share this machine's CPUs; the client is one Python process; "
        f"load average before the bursts {' / '.join(f'{x:.2f}' for x in report.load_before)} (1/5/15 min). "
        "Latency is from sending the request to reading the whole answer. Relay logs an access line per "
        "request (as `relay serve` does); the bare app does not.",
    ]
    if d.last_errors:
        lines.append("- Last inbox errors: " + " | ".join(f"`{e}`" for e in d.last_errors))
    if report.relay_log_samples:
        lines.append("- Relay log samples: " + " | ".join(f"`{s}`" for s in report.relay_log_samples))
    return "\n".join(lines) + "\n"


# --- main -----------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="callbacks in the burst (default 2000)")
    parser.add_argument("--concurrency", type=int, default=50, help="requests in flight (default 50)")
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--userid", default="sunceliang", help="the measurer sending the photos")
    parser.add_argument(
        "--media-ids",
        type=int,
        default=0,
        help="upload this many photos and reuse their media_ids (default: one per callback, as WeCom)",
    )
    parser.add_argument(
        "--no-task",
        action="store_true",
        help="do not give the measurer an accepted measure task (photos are then refused)",
    )
    parser.add_argument(
        "--drain-timeout",
        type=float,
        default=900.0,
        help="longest wait for Relay to handle the stored messages (seconds, default 900)",
    )
    parser.add_argument(
        "--commit",
        metavar="REV",
        help="run Relay as committed at REV (exported with git archive) instead of the working tree",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (configs, logs, SQLite file)")
    args = parser.parse_args(argv)
    if args.requests < 1 or args.concurrency < 1:
        parser.error("--requests and --concurrency must be positive")
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
        if report.relay.errors or report.bare.errors or report.drain.timed_out:
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

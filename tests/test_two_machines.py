"""Two Relay machines sharing nothing but PostgreSQL, Redis and a bucket serve one company.

Two `relay serve` (web only, `server.background = false`) behind a round-robin load balancer and two
`relay worker`, each a real process with its own file root and temp dir, none of which ends up holding a
file. WeCom is the emulator in this test's process; its callbacks go through the load balancer, so they
alternate between the two serves. An order is created on the H5 form, dispatched and measured by chat
with site photos (downloaded by whichever worker takes the message, stored in the bucket), and each photo
is then opened on H5 through each serve.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

import aiohttp
import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer, unused_port
from multidict import CIMultiDict

from emulator import EMULATOR_STATE, EmulatorState
from emulator import create_app as create_emulator
from infra.bucket import file_key
from infra.timeutil import local_today
from relay.config import load_config
from relay.demo import demo_data, emulator_config
from tests.processes import ROOT, RelayCommand, child_env
from tests.s3_server import S3Server
from tests.support import SECRETS, jpeg
from tests.test_measure_slice import DISPATCHER, SALES, csrf
from tests.test_restart import clean_redis, eventually, postgres_url, run

__all__ = ["clean_redis", "postgres_url"]  # fixtures of test_restart, used here

pytestmark = pytest.mark.skipif(os.name != "posix", reason="child processes")
# Headers that describe one hop of HTTP, not the message: a proxy sets its own.
SERVES = ("serve-a", "serve-b")
WORKERS = ("worker-a", "worker-b")
HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding", "host"}


class RoundRobin:
    """A load balancer: each request to the next serve in turn, as it came, the answer back as it went."""

    def __init__(self, backends: list[str]) -> None:
        self.backends = backends
        self._turn = itertools.cycle(backends)
        self.callbacks: Counter[str] = Counter()  # WeCom callbacks each serve was given
        self._http: aiohttp.ClientSession | None = None

    async def forward(self, request: web.Request) -> web.Response:
        backend = next(self._turn)
        if request.path == "/wecom/callback" and request.method == "POST":
            self.callbacks[backend] += 1
        if self._http is None:
            self._http = aiohttp.ClientSession(auto_decompress=False)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP}
        async with self._http.request(
            request.method, backend + request.path_qs, headers=headers, data=await request.read(), allow_redirects=False
        ) as resp:
            back = CIMultiDict((k, v) for k, v in resp.headers.items() if k.lower() not in HOP)
            return web.Response(status=resp.status, body=await resp.read(), headers=back)

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()


class Process:
    """`relay serve` or `relay worker` in a process of its own (tests/processes.py), its output in a log file."""

    def __init__(self, config: Path, command: str, ready: str) -> None:
        self.config, self.command, self.ready = config, command, ready
        self.log = config.with_suffix(".log")
        self.proc: RelayCommand | None = None

    async def start(self) -> None:
        temp = self.config.parent / "tmp"  # the machine's own temp dir
        temp.mkdir(exist_ok=True)
        self.proc = RelayCommand(self.config, self.command, log=self.log, env=child_env(TMPDIR=str(temp)))
        await self.proc.start()

        async def started() -> bool:
            assert self.proc is not None
            if self.proc.returncode is not None:
                raise AssertionError(f"relay {self.command} exited with {self.proc.returncode}:\n{self.output()}")
            return self.ready in self.output()

        await eventually(started, within=60, what=f"relay {self.command} started")

    async def stop(self) -> None:
        if self.proc is None or self.proc.returncode is not None:
            return
        self.proc.terminate()
        try:
            await asyncio.wait_for(self.proc.wait(), 10)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-6000:] if self.log.exists() else ""


def write_config(
    folder: Path,
    *,
    port: int,
    public_url: str,
    emu_url: str,
    database_url: str,
    redis_url: str,
    storage: dict[str, Any],
) -> Path:
    """One machine's config.toml: its own port, file root and temp dir; the shared database, Redis and bucket."""
    folder.mkdir(parents=True)
    wecom, security = cast(dict[str, Any], SECRETS["wecom"]), cast(dict[str, Any], SECRETS["security"])
    storage = {**storage, "path": str(folder / "files")}
    path = folder / "relay.toml"
    path.write_text(
        f"""
[server]
host = "127.0.0.1"
port = {port}
public_url = "{public_url}"
background = false
worker_port = {port}

[database]
url = "{database_url}"

[redis]
url = "{redis_url}"

[wecom]
corp_id = "{wecom["corp_id"]}"
agent_id = {wecom["agent_id"]}
secret = "{wecom["secret"]}"
token = "{wecom["token"]}"
encoding_aes_key = "{wecom["encoding_aes_key"]}"
api_base = "{emu_url}/cgi-bin/"
oauth_url = "{emu_url}/connect/oauth2/authorize"
request_timeout = 2.0
max_backoff = 0.5

[storage]
"""
        + "".join(f'{key} = "{value}"\n' for key, value in storage.items())
        + f"""
[security]
secret_key = "{security["secret_key"]}"
pii_key = "{security["pii_key"]}"
oauth_per_minute = 100000
""",
        encoding="utf-8",
    )
    return path


@contextlib.asynccontextmanager
async def emulator_for(config_path: Path, emu_port: int) -> AsyncIterator[EmulatorState]:
    """The emulator, calling back the load balancer (the config's public_url)."""
    config = load_config(config_path, env={})
    emu_conf = emulator_config(config, emulator_url=f"http://127.0.0.1:{emu_port}", staff_csv=demo_data("staff.csv"))
    server = TestServer(create_emulator(emu_conf), host="127.0.0.1", port=emu_port)
    await server.start_server()
    try:
        yield server.app[EMULATOR_STATE]
    finally:
        await server.close()


async def settled(db: asyncpg.Connection) -> bool:
    """Every callback handled and every answer delivered (by the workers: the serves only store)."""
    pending = await db.fetchval(
        "SELECT (SELECT count(*) FROM inbox WHERE state = 'pending')"
        " + (SELECT count(*) FROM outbox WHERE state = 'pending')"
    )
    return pending == 0


async def test_two_serves_and_two_workers_share_only_the_database_redis_and_bucket(
    tmp_path: Path, postgres_url: str, clean_redis: str, s3_server: S3Server
) -> None:
    lb_port, emu_port = unused_port(), unused_port()
    lb, emu_url = f"http://127.0.0.1:{lb_port}", f"http://127.0.0.1:{emu_port}"
    bucket = s3_server.new_bucket()
    machines = {}
    for name in (*SERVES, *WORKERS):
        machines[name] = write_config(
            tmp_path / name,
            port=unused_port(),
            public_url=lb,
            emu_url=emu_url,
            database_url=postgres_url,
            redis_url=clean_redis,
            storage=s3_server.storage(bucket, tmp_path),
        )
    await run(machines["serve-a"], "migrate")
    await run(machines["serve-a"], "staff", "import", str(ROOT / "relay" / "demo_data" / "staff.csv"))
    await run(machines["serve-a"], "products", "import", str(ROOT / "relay" / "demo_data" / "products.csv"))
    workers = [f"http://127.0.0.1:{load_config(machines[name], env={}).server.worker_port}" for name in WORKERS]
    serves = {name: f"http://127.0.0.1:{load_config(machines[name], env={}).server.port}" for name in SERVES}
    processes = [
        *(Process(machines[name], "serve", "Relay listening") for name in serves),
        *(Process(machines[name], "worker", "Relay worker running") for name in WORKERS),
    ]
    balancer = RoundRobin(list(serves.values()))
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", balancer.forward)
    lb_server = TestServer(app, host="127.0.0.1", port=lb_port)
    db = await asyncpg.connect(postgres_url)
    try:
        await lb_server.start_server()
        async with emulator_for(machines["serve-a"], emu_port) as emu:
            await asyncio.gather(*(p.start() for p in processes))

            async def settle() -> None:
                await eventually(lambda: settled(db), within=60, what="messages handled and answered")

            # Sales creates the order on the H5 form (its pages, too, alternate between the serves).
            order_id = await create_order(db, emu_url, lb)
            await settle()
            card = emu.cards(DISPATCHER)[-1]
            assert card.title == "新订单待派测量"
            await emu.user_clicks(
                DISPATCHER, card.msgid, next(b.key for b in card.buttons if b.text.startswith("派给"))
            )
            await settle()
            measurer = await db.fetchval(
                "SELECT s.userid FROM task t JOIN staff s ON s.id = t.assignee_id WHERE t.order_id = $1", order_id
            )
            task = next(c for c in emu.cards(measurer) if c.title == "新测量任务")
            await emu.user_clicks(measurer, task.msgid, next(b.key for b in task.buttons if b.text == "接单"))
            await settle()
            photos = [jpeg(1024, 768, (i * 80, 120, 40)) for i in range(2)]
            for data in photos:
                assert (await emu.user_sends_image(measurer, data, "site.jpg")).status == 200
            await settle()
            assert min(balancer.callbacks.values()) >= 2 and len(balancer.callbacks) == 2  # both serves took some

            stored = await db.fetch(
                "SELECT id, sha256, size FROM attachment WHERE order_id = $1 AND category <> 'paper_order' ORDER BY id",
                order_id,
            )
            assert [row["size"] for row in stored] == [len(p) for p in photos]
            keys = s3_server.keys(bucket)
            for row in stored:
                assert file_key(row["sha256"]) in keys and file_key(row["sha256"], thumbnail=True) in keys
            # Each photo opens through each serve: a presigned link to the bucket, the same bytes.
            jar = aiohttp.CookieJar(unsafe=True)
            async with aiohttp.ClientSession(cookie_jar=jar) as sales:
                await sign_in(sales, emu_url, SALES, lb)
                for row, data in zip(stored, photos, strict=True):
                    for serve in serves.values():
                        async with sales.get(f"{serve}/h5/files/{row['id']}") as resp:
                            assert resp.status == 200 and await resp.read() == data
                            assert str(resp.url).startswith(s3_server.url)
            # Each process answers for itself: the serves stored the callbacks, the workers handled them.
            callbacks = await db.fetchval("SELECT count(*) FROM inbox")
            stored_by = [await counted(url, 'relay_callbacks_total{result="stored"}') for url in serves.values()]
            handled_by = [await counted(url, 'relay_inbox_handled_total{result="ok"}') for url in workers]
            assert sum(stored_by) == sum(handled_by) == callbacks, (stored_by, handled_by)
            # The paper order's photo came through a serve's form: in the bucket too. No machine keeps a file.
            paper = await db.fetchval("SELECT sha256 FROM attachment WHERE category = 'paper_order'")
            assert file_key(paper) in keys
            for config in machines.values():
                kept = {p.name for p in config.parent.rglob("*") if p.is_file()}
                assert kept == {"relay.toml", "relay.log"}, kept
    except AssertionError:
        for process in processes:
            print(f"--- {process.config.parent.name}\n{process.output()}")
        raise
    finally:
        await asyncio.gather(*(p.stop() for p in processes))
        await lb_server.close()
        await balancer.close()
        await db.close()


async def counted(process: str, sample: str) -> float:
    """A counter from the process's /metrics (after checking its /healthz)."""
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{process}/healthz") as resp:
            assert resp.status == 200
        async with http.get(f"{process}/metrics") as resp:
            text = await resp.text()
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(sample + " "))


async def sign_in(http: aiohttp.ClientSession, emu_url: str, userid: str, lb: str) -> None:
    """Through WeCom OAuth, as tapping a card's link does; the session cookie then works on any serve."""
    async with http.get(f"{emu_url}/emulator/open", params={"userid": userid, "url": f"{lb}/h5/orders"}) as resp:
        assert resp.status == 200, await resp.text()


async def create_order(db: asyncpg.Connection, emu_url: str, lb: str) -> int:
    """Sales fills in the H5 form (with the paper order's photo), through the load balancer."""
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as http:
        await sign_in(http, emu_url, SALES, lb)
        async with http.get(f"{lb}/h5/orders/new") as resp:
            page = await resp.text()
            assert resp.status == 200, page[:300]
        form = aiohttp.FormData()
        for name, value in [
            ("csrf", csrf(page)),
            ("number", "LS20261299"),
            ("customer_name", "黄女士"),
            ("phone", "13812345678"),
            ("address", "上海市徐汇区漕溪北路 88 弄 3 号 1201"),
            ("expected_measure_date", (local_today() + timedelta(days=2)).isoformat()),
            ("room", "主卫"),
            ("product_id", str(await db.fetchval("SELECT id FROM product WHERE model = 'K5'"))),
            ("quantity", "1"),
        ]:
            form.add_field(name, value)
        form.add_field("paper_photo", jpeg(), filename="paper.jpg", content_type="image/jpeg")
        async with http.post(f"{lb}/h5/orders/new", data=form) as resp:
            html = await resp.text()
            assert resp.status == 200 and "订单已创建" in html, html[:500]
    return int(await db.fetchval("SELECT id FROM \"order\" WHERE number = 'LS20261299'"))

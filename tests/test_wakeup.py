"""Work is picked up when it is made, not at the next poll: a message `relay serve` stores is handled by a
`relay worker` in another process, told through Redis (issue 11). Every loop here polls once an hour, so
an answer that arrives at all arrived because the worker was woken; nothing is timed.

On SQLite (one process, no Redis) the same holds inside the process."""

from __future__ import annotations

import asyncio
import contextlib
import re
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer, unused_port

from emulator import EmulatorState
from emulator import create_app as create_emulator
from infra.config import Config
from relay.app import init_app
from relay.demo import demo_data, emulator_config
from tests import support
from tests.processes import ROOT, child_env
from tests.support import World, clean_database
from workflow.admin import import_products, import_staff

HOUR = 3600.0
HELP_TITLE = "接力 · 可以这样和我说"


def toml(config: Config) -> str:
    """The config as a file for the worker process (every value a string, a number or a boolean)."""
    lines = []
    for section in ("server", "database", "redis", "wecom", "storage", "security", "schedule"):
        lines.append(f"[{section}]")
        for key, value in vars(getattr(config, section)).items():
            if isinstance(value, bool):
                lines.append(f"{key} = {'true' if value else 'false'}")
            elif isinstance(value, int | float):
                lines.append(f"{key} = {value}")
            else:
                lines.append(f'{key} = "{value}"')
    return "\n".join(lines) + "\n"


@contextlib.asynccontextmanager
async def servers(config: Config) -> AsyncIterator[EmulatorState]:
    async with world_of(config) as world:
        yield world.emu


@contextlib.asynccontextmanager
async def world_of(config: Config) -> AsyncIterator[World]:
    emu_port = int(config.wecom.api_base.split(":")[2].split("/")[0])
    emu_conf = emulator_config(config, emulator_url=f"http://127.0.0.1:{emu_port}", staff_csv=demo_data("staff.csv"))
    emulator = TestServer(create_emulator(emu_conf), host="127.0.0.1", port=emu_port)
    relay = TestServer(init_app(config), host="127.0.0.1", port=config.server.port)
    await emulator.start_server()
    await relay.start_server()
    try:
        await clean_database()
        await import_staff(demo_data("staff.csv"))
        await import_products(demo_data("products.csv"))
        yield World(config=config, relay=relay, emulator=emulator)
    finally:
        await relay.close()
        await emulator.close()


@contextlib.asynccontextmanager
async def worker(config: Config, tmp_path: Path) -> AsyncIterator[None]:
    """`relay worker` in its own process, on the same database and Redis; running once it says so."""
    path = tmp_path / "worker.toml"
    path.write_text(toml(config), encoding="utf-8")
    env = child_env(PYTHONPATH=str(ROOT))
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "relay.cli", "--config", str(path), "worker",
        cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    assert proc.stdout is not None
    seen: list[str] = []
    try:
        async with asyncio.timeout(120):  # a guard against a worker that never starts, not a measurement
            while True:
                line = (await proc.stdout.readline()).decode(errors="replace")
                assert line, f"the worker exited: {''.join(seen)}"
                seen.append(line)
                if "Relay worker running" in line:
                    break
        drain = asyncio.create_task(proc.stdout.read())  # keep its pipe from filling up
        yield
    finally:
        with contextlib.suppress(ProcessLookupError):
            proc.terminate()
        await proc.wait()
        if "drain" in locals():
            await drain


async def answered(emu: EmulatorState, userid: str, count: int) -> None:
    # Waits for the answer to arrive at WeCom; the bound only ends a test that failed (the next poll is
    # an hour away), it is not what the test measures.
    deadline = time.monotonic() + 60
    while len(emu.cards(userid)) < count:
        assert time.monotonic() < deadline, f"{userid} got {len(emu.cards(userid))} answers, not {count}"
        await asyncio.sleep(0.01)


def config_for(database: str, redis_url: str, tmp_path: Path, *, background: bool) -> Config:
    base = support.test_config(
        database_url=database,
        redis_url=redis_url,
        storage=tmp_path / "files",
        relay_port=unused_port(),
        emu_port=unused_port(),
    )
    return base.replace(server={"background": background}, schedule={"poll_seconds": HOUR, "job_poll_seconds": HOUR})


async def test_a_message_stored_by_serve_is_answered_by_a_worker_in_another_process(
    database: str, redis_url: str, tmp_path: Path
) -> None:
    if not redis_url:
        pytest.skip("across processes needs Redis (the demo's SQLite is one process: the next test)")
    config = config_for(database, redis_url, tmp_path, background=False)
    async with servers(config) as emu, worker(config, tmp_path):
        # The first may be found by the worker's first look at start-up; the second only by a wake-up.
        for asked in (1, 2):
            result = await emu.user_sends_text("zhangxiaoshou", "帮助")
            assert result.status == 200, result
            await answered(emu, "zhangxiaoshou", asked)
    assert [c.title for c in emu.cards("zhangxiaoshou")] == [HELP_TITLE, HELP_TITLE]


async def test_in_one_process_a_stored_message_is_answered_without_waiting_for_a_poll(
    database: str, redis_url: str, tmp_path: Path
) -> None:
    config = config_for(database, redis_url, tmp_path, background=True)
    async with servers(config) as emu:
        for asked in (1, 2):
            result = await emu.user_sends_text("lixiaoshou", "帮助")
            assert result.status == 200, result
            await answered(emu, "lixiaoshou", asked)


async def test_what_a_page_queues_goes_out_without_waiting_for_a_poll(
    database: str, redis_url: str, tmp_path: Path
) -> None:
    from infra.timeutil import local_today
    from models import Product, Staff, TaskKind
    from workflow.orders import ItemInput, create_order
    from workflow.tasks import dispatch_task

    config = config_for(database, redis_url, tmp_path, background=True)
    async with world_of(config) as world:
        product = await Product.all().order_by("id").first()
        assert product is not None
        order = await create_order(
            actor=await Staff.get(userid="zhangxiaoshou"),
            number="LS20261299",
            customer_name="黄女士",
            phone="13812345678",
            address="上海市徐汇区漕溪北路 88 弄 3 号 1201",
            items=[ItemInput(product_id=product.id, room="主卫")],
            expected_measure_date=local_today(),
        )
        measurer = await Staff.get(userid="sunceliang")
        await dispatch_task(
            actor=await Staff.get(userid="zhaopaidan"),
            order=order,
            kind=TaskKind.MEASURE,
            worker_id=measurer.id,
            day=local_today(),
        )
        # The salesperson cancels the order on its page: the page's transaction queues the notices.
        async with world.browser_session("zhangxiaoshou") as http:
            page = f"{world.relay_url}/h5/orders/{order.number}/changes"
            async with http.get(page) as resp:
                match = re.search(r'name="csrf" value="([^"]+)"', await resp.text())
                assert resp.status == 200 and match
            # 确认取消: the second tap, after the page asked to confirm.
            form = {"csrf": match.group(1), "action": "cancel", "reason": "客户装修延期", "confirm": "1"}
            async with http.post(page, data=form) as resp:
                assert resp.status < 400, await resp.text()
        deadline = time.monotonic() + 60  # ends a failed test; the outbox's next poll is an hour away

        def told() -> bool:
            return any(c.title == "订单已取消" for c in world.emu.cards("sunceliang"))  # the measurer on it

        while not told():
            assert time.monotonic() < deadline, "the measurer was not told the order was cancelled"
            await asyncio.sleep(0.01)

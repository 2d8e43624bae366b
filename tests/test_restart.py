"""Relay killed (SIGKILL) mid-flight and started again: every member's message is answered exactly once.

Relay runs as a real `relay serve` process on PostgreSQL and Redis; WeCom is the emulator, in this test's
process, so it outlives the crash and remembers what it delivered. The kill lands while a send is held
at the emulator (processed, answer not yet back), while other answers wait in the outbox and while
callbacks are still arriving; the callbacks the dead process never answered are re-sent, as WeCom does.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, cast

import aiohttp
import asyncpg
import pytest
import redis.asyncio as redis
from aiohttp.test_utils import TestServer, unused_port

from emulator import EMULATOR_STATE, EmulatorState, FaultKind
from emulator import create_app as create_emulator
from relay.config import load_config
from relay.demo import demo_data, emulator_config
from tests.processes import ROOT, RelayCommand, relay_run
from tests.support import PG_ADMIN, SECRETS, redis_for_worker

REDIS_URL = redis_for_worker("RELAY_TEST_RESTART_REDIS_URL", "redis://127.0.0.1:6379/11")
# Five members, six messages each: five "帮助" (a help card each) and one "我的任务" (one answer).
MEMBERS = ["zhangxiaoshou", "lixiaoshou", "zhaopaidan", "sunceliang", "zhengsheji"]
HELP_PER_MEMBER = 5
HELP_TITLE = "接力 · 可以这样和我说"
# Leases of a killed process run out before its work is taken up again.
LEASE_SECONDS = 3
SETTLE_WITHIN = 120.0

pytestmark = pytest.mark.skipif(os.name != "posix", reason="SIGKILL")


async def run(config: Path, *args: str) -> str:
    """A command run to its end, which must succeed: what it printed."""
    code, out = await relay_run(config, *args, log=config.with_suffix(".log"))
    assert code == 0, out
    return out


async def eventually(check: Callable[[], Awaitable[bool]], *, within: float, what: str, interval: float = 0.1) -> None:
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not reached in {within:.0f}s")
        await asyncio.sleep(interval)


class RelayProcess:
    """`relay serve` in a process of its own (tests/processes.py), its output kept in a log file."""

    def __init__(self, config: Path, port: int, log: Path) -> None:
        self.config = config
        self.port = port
        self.log = log
        self.proc: RelayCommand | None = None

    async def start(self) -> None:
        started_at = self.log.stat().st_size if self.log.exists() else 0  # a restart appends to the same log
        self.proc = RelayCommand(self.config, "serve", log=self.log)
        await self.proc.start()

        async def healthy() -> bool:
            assert self.proc is not None
            if self.proc.returncode is not None:
                raise AssertionError(f"relay serve exited with {self.proc.returncode}:\n{self.output()}")
            # Its own line first: the port was free when picked, and until this process has bound it another
            # test's server may take it and answer /healthz in its place.
            said = self.log.read_bytes()[started_at:].decode(errors="replace")
            if not re.search(rf"Relay listening on http://[^ ]+:{self.port} ", said):
                return False
            try:
                async with (
                    aiohttp.ClientSession() as session,
                    session.get(f"http://127.0.0.1:{self.port}/healthz") as resp,
                ):
                    return resp.status == 200
            except aiohttp.ClientError:
                return False

        await eventually(healthy, within=60, what="relay serve answering /healthz")

    async def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        await self.proc.wait()

    async def stop(self) -> None:
        if self.proc is None or self.proc.returncode is not None:
            return
        self.proc.terminate()
        try:
            await asyncio.wait_for(self.proc.wait(), 10)
        except TimeoutError:
            await self.kill()

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-6000:]


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    name = f"relay_restart_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(PG_ADMIN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    yield f"postgres://postgres@127.0.0.1:5432/{name}"
    admin = await asyncpg.connect(PG_ADMIN)
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


@pytest.fixture
async def clean_redis() -> AsyncIterator[str]:
    client = redis.from_url(REDIS_URL)
    await client.flushdb()
    yield REDIS_URL
    await client.flushdb()
    await client.aclose()


def write_config(path: Path, *, relay_port: int, emu_port: int, database_url: str, redis_url: str) -> Path:
    wecom = cast(dict[str, Any], SECRETS["wecom"])
    security = cast(dict[str, Any], SECRETS["security"])
    emu = f"http://127.0.0.1:{emu_port}"
    path.write_text(
        f"""
[server]
host = "127.0.0.1"
port = {relay_port}
public_url = "http://127.0.0.1:{relay_port}"

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
api_base = "{emu}/cgi-bin/"
oauth_url = "{emu}/connect/oauth2/authorize"
request_timeout = 2.0
max_backoff = 0.5

[storage]
path = "{path.parent / "files"}"

[security]
secret_key = "{security["secret_key"]}"
pii_key = "{security["pii_key"]}"

[schedule]
# The dead process's claims run out in seconds, not production's minutes: the test waits for them.
inbox_lease_seconds = {LEASE_SECONDS}
outbox_lease_seconds = {LEASE_SECONDS}
""",
        encoding="utf-8",
    )
    return path


@contextlib.asynccontextmanager
async def emulator_for(config_path: Path, emu_port: int) -> AsyncIterator[EmulatorState]:
    config = load_config(config_path, env={})
    emu_conf = emulator_config(config, emulator_url=f"http://127.0.0.1:{emu_port}", staff_csv=demo_data("staff.csv"))
    server = TestServer(create_emulator(emu_conf), host="127.0.0.1", port=emu_port)
    await server.start_server()
    try:
        yield server.app[EMULATOR_STATE]
    finally:
        await server.close()


async def member_burst(emu: EmulatorState, userid: str) -> None:
    """One member's messages, one after another as a person types them."""
    for text in ["帮助"] * 2 + ["我的任务"] + ["帮助"] * (HELP_PER_MEMBER - 2):
        await emu.user_sends_text(userid, text)


async def table_states(conn: asyncpg.Connection, table: str) -> Counter[str]:
    rows = await conn.fetch(f"SELECT state, count(*) AS n FROM {table} GROUP BY state")
    return Counter({row["state"]: row["n"] for row in rows})


@pytest.mark.parametrize(
    "sends_before_kill",
    [0, 6],
    ids=["while-callbacks-arrive", "while-the-outbox-drains"],
)
async def test_killed_mid_flight_loses_and_doubles_nothing(
    tmp_path: Path, postgres_url: str, clean_redis: str, sends_before_kill: int
) -> None:
    relay_port, emu_port = unused_port(), unused_port()
    config = write_config(
        tmp_path / "relay.toml",
        relay_port=relay_port,
        emu_port=emu_port,
        database_url=postgres_url,
        redis_url=clean_redis,
    )
    await run(config, "migrate")
    imported = await run(config, "staff", "import", str(ROOT / "relay" / "demo_data" / "staff.csv"))
    assert "导入完成" in imported
    expected_messages = len(MEMBERS) * (HELP_PER_MEMBER + 1)

    relay = RelayProcess(config, relay_port, tmp_path / "relay.log")
    db = await asyncpg.connect(postgres_url)
    try:
        async with emulator_for(config, emu_port) as emu:
            emu.timeout_seconds = 5.0  # longer than the client waits (2 s): the answer is lost with the process
            await relay.start()
            assert await emu.verify_url()

            if not sends_before_kill:
                emu.inject("message/send", FaultKind.TIMEOUT)
            burst = asyncio.gather(*(member_burst(emu, userid) for userid in MEMBERS))
            if sends_before_kill:
                # Let some answers through, then hold one send at WeCom (delivered, not yet answered).
                await eventually(
                    lambda: _at_least(emu, sends_before_kill), within=60, what="first answers sent", interval=0.002
                )
                emu.inject("message/send", FaultKind.TIMEOUT)
            held = emu.calls["message/send"] + 1
            await eventually(lambda: _at_least(emu, held), within=60, what="a send held at WeCom", interval=0.002)
            await relay.kill()
            answered_at_kill = sum(len(emu.bot_messages(u)) for u in MEMBERS)
            await burst
            assert answered_at_kill < expected_messages, "the kill came after all the work was done"
            # Work the dead process left behind: stored and unanswered, or never stored at all.
            left_in_db = (await table_states(db, "outbox"))["pending"] + (await table_states(db, "inbox"))["pending"]
            unanswered = [record for record in emu.callbacks if not record.result.ok]
            assert left_in_db or unanswered
            emu.clear_faults()

            await relay.start()
            # WeCom re-sends every callback that got no 200 (same message, same MsgId).
            for record in unanswered:
                result = await emu.callback_client.deliver(record.xml)
                assert result.ok, result

            async def settled() -> bool:
                inbox, outbox = await table_states(db, "inbox"), await table_states(db, "outbox")
                return (
                    sum(inbox.values()) == expected_messages
                    and inbox["pending"] == 0
                    and outbox["pending"] == 0
                    and sum(len(emu.bot_messages(u)) for u in MEMBERS) >= expected_messages
                )

            await eventually(settled, within=SETTLE_WITHIN, what="every message handled and answered")

            for userid in MEMBERS:
                help_cards = [c for c in emu.cards(userid) if c.title == HELP_TITLE]
                assert len(help_cards) == HELP_PER_MEMBER, (userid, [m.msgtype for m in emu.bot_messages(userid)])
                # The answer to "我的任务": one text or one card, never two.
                assert len(emu.bot_messages(userid)) == HELP_PER_MEMBER + 1, userid
                task_ids = [c.task_id for c in emu.cards(userid)]
                assert len(task_ids) == len(set(task_ids))
            assert await table_states(db, "inbox") == Counter({"done": expected_messages})
            outbox = await table_states(db, "outbox")
            assert set(outbox) == {"done"}, outbox
            # One outbox row per answer. A recurring push that fell due when Relay started (the evening
            # report after 20:00, say) went to others and is not counted.
            answers = await db.fetchval(
                "SELECT count(*) FROM outbox WHERE payload->>'touser' = ANY($1::text[])", MEMBERS
            )
            assert answers == expected_messages, answers
    except AssertionError:
        print(relay.output())
        raise
    finally:
        await relay.stop()
        await db.close()


async def _at_least(emu: EmulatorState, sends: int) -> bool:
    return emu.calls["message/send"] >= sends

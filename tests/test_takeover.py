"""A process killed while it handles a member's message: another process takes the message over within
seconds (one lease), while a live process that is merely slow keeps its message.

Two real `relay serve` processes on PostgreSQL and Redis with a lease of 3 s (production's is 10 s: the
same claim, renewal and takeover, waited out in a third of the time); WeCom is the emulator in this test's
process. The first process is held inside a photo's download (media/get answers late) and killed there.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import asyncpg
import pytest
import redis.asyncio as redis
from aiohttp.test_utils import unused_port

from emulator import EmulatorState, FaultKind
from tests.support import REDIS_URL, jpeg
from tests.test_restart import LEASE_SECONDS, RelayProcess, emulator_for, eventually, postgres_url, run, write_config

__all__ = ["postgres_url"]  # a fixture

pytestmark = pytest.mark.skipif(os.name != "posix", reason="SIGKILL")

MEASURER = "sunceliang"
LEASE = LEASE_SECONDS


def config_for(path: Path, *, relay_port: int, emu_port: int, database_url: str) -> Path:
    """The restart test's config (its short leases), and a client that waits longer than the test holds
    the download (so only the kill ends it)."""
    write_config(path, relay_port=relay_port, emu_port=emu_port, database_url=database_url, redis_url=REDIS_URL)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("request_timeout = 2.0", "request_timeout = 110.0"), encoding="utf-8")
    return path


async def test_killed_process_message_is_taken_over_in_seconds(tmp_path: Path, postgres_url: str) -> None:
    client = redis.from_url(REDIS_URL)
    await client.flushdb()
    await client.aclose()
    first_port, second_port, emu_port = unused_port(), unused_port(), unused_port()
    first_config = config_for(
        tmp_path / "first.toml", relay_port=first_port, emu_port=emu_port, database_url=postgres_url
    )
    second_config = config_for(
        tmp_path / "second.toml", relay_port=second_port, emu_port=emu_port, database_url=postgres_url
    )
    await run(first_config, "migrate")
    await run(
        first_config, "staff", "import", str(Path(__file__).resolve().parent.parent / "relay/demo_data/staff.csv")
    )

    first = RelayProcess(first_config, first_port, tmp_path / "first.log")
    second = RelayProcess(second_config, second_port, tmp_path / "second.log")
    db = await asyncpg.connect(postgres_url)
    try:
        async with emulator_for(first_config, emu_port) as emu:
            emu.timeout_seconds = 120.0  # longer than the test holds the download: only the kill ends it
            await first.start()
            assert await emu.verify_url()
            emu.inject("media/get", FaultKind.TIMEOUT)
            await emu.user_sends_image(MEASURER, jpeg(), "site.jpg")
            await eventually(lambda: _called(emu, "media/get"), within=30, what="the photo's download begun")
            claimed = await db.fetchval("SELECT locked_until FROM inbox WHERE userid = $1", MEASURER)

            # The first process is slow, not dead: it keeps the message by renewing its lease, and while
            # a second process starts beside it nobody downloads the photo again.
            async def renewed() -> bool:
                now = await db.fetchval("SELECT locked_until FROM inbox WHERE userid = $1", MEASURER)
                return bool(now is not None and now > claimed)

            await eventually(renewed, within=LEASE, what="the first process renewing its lease")
            await second.start()
            assert emu.calls["media/get"] == 1
            assert emu.bot_messages(MEASURER) == []

            await first.kill()
            killed_at = time.monotonic()
            emu.release_held()
            await emu.wait_for_message(MEASURER, within=LEASE + 20)
            took = time.monotonic() - killed_at
            print(f"\nkilled process's message answered {took:.1f} s after the kill (lease {LEASE:.0f} s)")
            assert took < LEASE + 5
            assert emu.calls["media/get"] == 2
            state = await db.fetchval("SELECT state FROM inbox WHERE userid = $1", MEASURER)
            assert state == "done"
    except AssertionError:
        print(first.output(), second.output())
        raise
    finally:
        await first.stop()
        await second.stop()
        await db.close()


async def _called(emu: EmulatorState, api: str) -> bool:
    return emu.calls[api] >= 1

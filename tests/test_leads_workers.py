"""Fair under concurrency across processes: two consultants pause at the same instant, each tap handled by
whichever of two `relay worker` processes takes it, on PostgreSQL; the store's two queued bookings go one
to each (the store's row lock makes the second assignment see the first), and neither tap is refused."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from models import Lead, LeadSource, LeadState, OrgUnit, Staff
from tests.support import World
from tests.test_wakeup import config_for, worker, world_of
from workflow.leads import LeadInput, create_lead, take

STORE = "上海徐汇店"
CONSULTANTS = ("guwen", "linyue")


async def until(check: Callable[[], Awaitable[bool]], what: str) -> None:
    # The bound ends a failed test; what is awaited is the workers' work, seen in the database or at WeCom.
    deadline = time.monotonic() + 60
    while not await check():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.02)


async def pause_both_at_once(world: World) -> None:
    taps = []
    for userid in CONSULTANTS:
        card = next(c for c in reversed(world.emu.cards(userid)) if c.title == "正在服务")
        pause = next(b for b in card.buttons if b.text == "暂停服务")
        taps.append(world.emu.user_clicks(userid, card.msgid, pause.key))
    results = await asyncio.gather(*taps)
    assert all(r.status == 200 for r in results)


async def test_two_pauses_at_once_in_two_workers_share_the_queue(database: str, redis_url: str, tmp_path: Path) -> None:
    if not redis_url:
        pytest.skip("several processes need PostgreSQL and Redis (SQLite is the demo's one process)")
    config = config_for(database, redis_url, tmp_path, background=False)
    for name in ("w1", "w2"):
        (tmp_path / name).mkdir()
    async with world_of(config) as world:
        store = await OrgUnit.get(name=STORE)
        reception = await Staff.get(userid="fangqiantai")
        guwen, linyue = await Staff.get(userid="guwen"), await Staff.get(userid="linyue")

        async def book(name: str, phone: str) -> Lead:
            data = LeadInput(name=name, phone=phone)
            return await create_lead(actor=reception, store=store, data=data, source=LeadSource.STAFF)

        first, second = await book("甲", "13900000001"), await book("乙", "13900000002")
        await take(guwen, first, "claim")
        await take(linyue, second, "claim")
        queued = [await book("丙", "13900000003"), await book("丁", "13900000004")]
        assert all(q.state == LeadState.NEW for q in queued)

        async def cards_delivered() -> bool:
            return all(any(c.title == "正在服务" for c in world.emu.cards(u)) for u in CONSULTANTS)

        async def assigned() -> bool:
            return not await Lead.filter(id__in=[q.id for q in queued], state=LeadState.NEW).exists()

        # The workers start now: their first look delivers the cards queued above; the taps wake them.
        async with worker(config, tmp_path / "w1"), worker(config, tmp_path / "w2"):
            await until(cards_delivered, "the workers delivered the cards")
            await pause_both_at_once(world)
            await until(assigned, "the queued bookings were assigned")
        assert {(await Lead.get(id=q.id)).consultant_id for q in queued} == {guwen.id, linyue.id}
        for lead in (first, second):
            assert (await Lead.get(id=lead.id)).state == LeadState.PAUSED  # unclaimed, still theirs

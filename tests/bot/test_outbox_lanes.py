"""The outbox sends several members' messages at once, each member's own in order, one at a time.

The app's own sender delivers through a client that holds one member's first message until another
member's has gone out: sent one row after another, that never happens and the test times out.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest
from tortoise.transactions import in_transaction

from bot.client import WeComClient
from bot.outbox import _lanes, enqueue_message
from cards.common import text_message
from tests.support import World

SLOW, OTHER, THIRD = "zhangxiaoshou", "lixiaoshou", "sunceliang"


class HoldingClient:
    """The real client, but SLOW's first message waits until OTHER's has been sent; records, per member,
    how many sends are in flight at once."""

    def __init__(self, inner: WeComClient) -> None:
        self.inner = inner
        self.other_sent = asyncio.Event()
        self.in_flight: Counter[str] = Counter()
        self.most_in_flight: Counter[str] = Counter()
        self.held = False

    async def send_message(self, message: dict[str, Any]) -> dict[str, Any]:
        who = str(message["touser"])
        self.in_flight[who] += 1
        self.most_in_flight[who] = max(self.most_in_flight[who], self.in_flight[who])
        try:
            if who == SLOW and not self.held:
                self.held = True
                await self.other_sent.wait()
            result = await self.inner.send_message(message)
            if who == OTHER:
                self.other_sent.set()
            return result
        finally:
            self.in_flight[who] -= 1

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


async def test_members_are_sent_to_side_by_side_each_in_order(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    client = HoldingClient(world.services.client)
    monkeypatch.setattr(world.services.outbox, "client", client)
    async with in_transaction():
        for n in range(1, 4):
            await enqueue_message(text_message(SLOW, f"第{n}条"))
        await enqueue_message(text_message(OTHER, "给李"))
        for n in range(1, 3):
            await enqueue_message(text_message(THIRD, f"孙{n}"))
    world.services.outbox.wake()

    # One row at a time, SLOW's first send would wait for OTHER's forever: nothing would settle.
    async with asyncio.timeout(20):
        await client.other_sent.wait()
    await world.settle()

    assert world.emu.texts(SLOW) == ["第1条", "第2条", "第3条"]
    assert world.emu.texts(OTHER) == ["给李"]
    assert world.emu.texts(THIRD) == ["孙1", "孙2"]
    assert max(client.most_in_flight.values()) == 1  # never two of one member's messages at once


def test_rows_sharing_a_member_share_a_lane_in_their_order() -> None:
    rows = [(1, ["a"]), (2, ["b"]), (3, ["a"]), (4, ["c", "b"]), (5, ["d"]), (6, ["c"]), (7, ["e", "a"])]
    assert _lanes(rows) == [[1, 3, 7], [2, 4, 6], [5]]
    # A row to two members joins their lanes; one to everyone waits for all before it, and all after wait for it.
    assert _lanes([(1, ["a"]), (2, ["b"]), (3, ["a", "b"]), (4, ["c"])]) == [[1, 2, 3], [4]]
    assert _lanes([(1, ["a"]), (2, ["b"]), (3, ["@all"]), (4, ["c"])]) == [[1, 2, 3, 4]]

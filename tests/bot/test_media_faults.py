"""A measurer's site photo while WeCom's media/get misbehaves: saved once in the end, or refused kindly.

The photo is fetched outside the inbox transaction; a fault there must delay the photo, not lose it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from emulator import FaultKind
from handlers import SORRY
from models import Attachment, AttachmentCategory, InboxMessage, MessageState
from tests.bot.support import QUICK_GIVE_UP, dispatched_measure_task
from tests.support import World, jpeg

MEASURER = "sunceliang"


@pytest.fixture
def world_settings() -> dict[str, dict[str, Any]]:
    return QUICK_GIVE_UP


async def eventually(check: Callable[[], Awaitable[bool]], *, within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached in {within}s")
        await asyncio.sleep(0.05)


async def measuring(world: World) -> int:
    task = await dispatched_measure_task(world, number="LS-PHOTO-1", measurer=MEASURER)
    await world.tap(MEASURER, world.card(MEASURER, "新测量任务"), "接单")
    return task.order_id


def site_photos(order_id: int):  # type: ignore[no-untyped-def]
    return Attachment.filter(order_id=order_id).exclude(category=AttachmentCategory.PAPER_ORDER)


async def inbox_done() -> bool:
    return not await InboxMessage.filter(state=MessageState.PENDING).exists()


@pytest.mark.parametrize(
    ("fault", "count"),
    [
        (FaultKind.TOKEN_EXPIRED, 1),
        (FaultKind.TOKEN_INVALID, 2),
        (FaultKind.TOKEN_INVALID, 3),  # three rejections in a row: the photo waits, it is not dropped
        (FaultKind.SERVER_ERROR, 1),
        (FaultKind.DROP_AFTER_PROCESSING, 1),
        (FaultKind.TIMEOUT, 1),
        (FaultKind.RATE_LIMIT, 1),
    ],
)
async def test_photo_survives_a_media_fault(world: World, fault: FaultKind, count: int) -> None:
    order_id = await measuring(world)
    cards_before = len(world.emu.cards(MEASURER))
    texts_before = list(world.emu.texts(MEASURER))
    world.emu.timeout_seconds = world.config.wecom.request_timeout + 0.5
    world.emu.inject("media/get", fault, count=count)

    result = await world.emu.user_sends_image(MEASURER, jpeg(800, 600), "site.jpg")
    assert result.status == 200
    await eventually(inbox_done)
    await world.settle()

    assert await site_photos(order_id).count() == 1
    assert world.emu.texts(MEASURER) == texts_before  # no "please send it again"
    new_cards = world.emu.cards(MEASURER)[cards_before:]
    assert len(new_cards) == 1, [c.title for c in new_cards]
    assert world.emu.faults.pending() == {}


async def test_a_photo_whose_download_fails_every_time_ends_in_an_apology(world: World) -> None:
    """Five tries, each after a longer wait (`schedule.inbox_retry_seconds`, short here), then the measurer
    is told once to send it again, and nothing half-saved is left."""
    order_id = await measuring(world)
    texts_before = list(world.emu.texts(MEASURER))
    world.emu.inject("media/get", FaultKind.SERVER_ERROR, count=100)

    result = await world.emu.user_sends_image(MEASURER, jpeg(800, 600), "site.jpg")
    assert result.status == 200
    await eventually(inbox_done)
    await world.settle()

    assert world.emu.texts(MEASURER)[len(texts_before) :] == [SORRY]
    assert await site_photos(order_id).count() == 0
    row = await InboxMessage.get(msg_type="image")
    assert row.state == MessageState.FAILED and row.attempts == 5

"""Timeline events are a closed vocabulary: each kind reads as a sentence, a kind the code does not
know is an error when read, and an event missing what its sentence needs is refused when written."""

from __future__ import annotations

import pytest

from infra.db import db
from models import EventKind, Order, OrderEvent, OrderState
from tests.support import World
from tests.test_permissions import at_state, seeded
from workflow import timeline
from workflow.order_lifecycle import ORDER


def test_every_kind_reads_as_a_sentence() -> None:
    assert set(timeline.EVENT_TEXT) == set(EventKind)
    # And every event the lifecycle writes is one of them.
    assert {t.event for t in ORDER if t.event} <= set(EventKind)


async def test_an_event_missing_its_details_is_refused_when_written(world: World) -> None:
    order = await at_state("TL-MISSING", OrderState.CREATED)
    before = await OrderEvent.filter(order_id=order.id).count()
    with pytest.raises(KeyError):
        await timeline.record(order, await seeded("zhangxiaoshou"), EventKind.CANCELLED)  # no reason
    assert await OrderEvent.filter(order_id=order.id).count() == before


async def test_a_kind_the_code_does_not_know_is_an_error_when_read(world: World) -> None:
    order = await at_state("TL-UNKNOWN", OrderState.CREATED)
    assert "创建订单" in (await timeline.timeline(order))[0]
    table = OrderEvent._meta.db_table
    await db().execute_query(f"UPDATE \"{table}\" SET kind = 'teleported' WHERE order_id = {int(order.id)}")
    with pytest.raises(ValueError):
        await timeline.timeline(await Order.get(id=order.id))

"""One suite over the chat state on both stores: in-process (the demo) and Redis (several processes)."""

from __future__ import annotations

from collections.abc import Callable

from infra.kv import KeyValueStore
from tests.test_kv import eventually
from workflow.chat import GOODS_IN, PHOTOS, ChatState, Slot


async def test_each_member_and_slot_has_its_own_context(make_store: Callable[[], KeyValueStore]) -> None:
    chat = ChatState(make_store())
    assert await chat.get(PHOTOS, "sunceliang") is None
    await chat.set(PHOTOS, "sunceliang", 17)
    await chat.set(PHOTOS, "wuceliang", 18)
    await chat.set(GOODS_IN, "sunceliang", 99)
    assert await chat.get(PHOTOS, "sunceliang") == 17
    assert await chat.get(PHOTOS, "wuceliang") == 18
    assert await chat.get(GOODS_IN, "sunceliang") == 99
    await chat.set(PHOTOS, "sunceliang", 21)
    assert await chat.get(PHOTOS, "sunceliang") == 21


async def test_clearing_only_what_still_points_there(make_store: Callable[[], KeyValueStore]) -> None:
    chat = ChatState(make_store())
    await chat.set(PHOTOS, "chenanzhuang", 5)
    await chat.clear(PHOTOS, "chenanzhuang", only=4)  # an older job finishing does not undo the newer choice
    assert await chat.get(PHOTOS, "chenanzhuang") == 5
    await chat.clear(PHOTOS, "chenanzhuang", only=5)
    assert await chat.get(PHOTOS, "chenanzhuang") is None
    await chat.set(GOODS_IN, "fengcangku", 3)
    await chat.clear(GOODS_IN, "fengcangku")
    assert await chat.get(GOODS_IN, "fengcangku") is None


async def test_another_process_sees_the_context(make_store: Callable[[], KeyValueStore]) -> None:
    # The callback may be handled by any worker: the member's context must not live in one of them.
    first, second = ChatState(make_store()), ChatState(make_store())
    await first.set(GOODS_IN, "fengcangku", 12)
    assert await second.get(GOODS_IN, "fengcangku") == 12


async def test_a_context_left_unused_is_forgotten(make_store: Callable[[], KeyValueStore]) -> None:
    chat = ChatState(make_store())
    brief = Slot("brief", ttl=0.3)
    await chat.set(brief, "sunceliang", 1)
    await chat.set(PHOTOS, "sunceliang", 2)
    await eventually(lambda: _gone(chat, brief, "sunceliang"))
    assert await chat.get(PHOTOS, "sunceliang") == 2


async def test_a_value_that_is_not_a_context_reads_as_none(make_store: Callable[[], KeyValueStore]) -> None:
    store = make_store()
    await store.set(ChatState.key(PHOTOS, "sunceliang"), "not-a-number")
    assert await ChatState(store).get(PHOTOS, "sunceliang") is None


async def _gone(chat: ChatState, slot: Slot, userid: str) -> bool:
    return await chat.get(slot, userid) is None

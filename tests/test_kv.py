"""One suite over both key-value stores: the in-process one (demo) and Redis (production).

Expiry is checked by polling for the change, never by asserting how long something took.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable

import pytest

from bot.client import TokenCache
from infra.kv import KeyValueStore, MemoryStore, RedisStore, open_store
from tests.support import REDIS_URL

LONG = 300.0  # a ttl no test outlives


async def eventually(check: Callable[[], Awaitable[bool]], *, within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached in {within}s")
        await asyncio.sleep(0.02)


@pytest.fixture
def store(make_store: Callable[[], KeyValueStore]) -> KeyValueStore:
    return make_store()


def test_open_store_picks_the_implementation() -> None:
    assert isinstance(open_store(""), MemoryStore)
    assert isinstance(open_store(REDIS_URL), RedisStore)


async def test_get_and_set(store: KeyValueStore) -> None:
    assert await store.get("absent") is None
    await store.set("chat:order:zhang", "42")
    assert await store.get("chat:order:zhang") == "42"
    await store.set("chat:order:zhang", "43", ttl=LONG)
    assert await store.get("chat:order:zhang") == "43"
    await store.set("名字", "张晓燕 · 上海徐汇店")
    assert await store.get("名字") == "张晓燕 · 上海徐汇店"


async def test_handles_share_the_data(make_store: Callable[[], KeyValueStore]) -> None:
    first, second = make_store(), make_store()
    await first.set("shared", "yes")
    assert await second.get("shared") == "yes"
    await second.delete("shared")
    assert await first.get("shared") is None


async def test_ttl_expires_the_key_and_only_that_key(store: KeyValueStore) -> None:
    await store.set("forever", "1")
    await store.set("long", "1", ttl=LONG)
    await store.set("short", "1", ttl=0.2)

    async def short_gone() -> bool:
        return await store.get("short") is None

    await eventually(short_gone)
    assert await store.get("long") == "1"
    assert await store.get("forever") == "1"


async def test_set_without_ttl_clears_an_earlier_ttl(store: KeyValueStore) -> None:
    await store.set("k", "old", ttl=0.2)
    await store.set("k", "new")
    await store.set("clock", "1", ttl=0.2)  # expires when "k"'s old ttl would have

    async def clock_gone() -> bool:
        return await store.get("clock") is None

    await eventually(clock_gone)
    assert await store.get("k") == "new"


async def test_add_is_a_lock(store: KeyValueStore) -> None:
    assert await store.add("lock", "owner-a", ttl=LONG) is True
    assert await store.add("lock", "owner-b", ttl=LONG) is False
    assert await store.get("lock") == "owner-a"
    await store.delete("lock", if_value="owner-a")
    assert await store.add("lock", "owner-b", ttl=LONG) is True
    assert await store.get("lock") == "owner-b"


async def test_add_over_an_expired_lock_succeeds(store: KeyValueStore) -> None:
    assert await store.add("lock", "crashed-owner", ttl=0.2) is True

    async def taken_over() -> bool:
        return await store.add("lock", "next-owner", ttl=LONG)

    await eventually(taken_over)
    assert await store.get("lock") == "next-owner"


async def test_concurrent_adds_have_one_winner(make_store: Callable[[], KeyValueStore]) -> None:
    handles = [make_store() for _ in range(4)]
    results = await asyncio.gather(*(handles[i % 4].add("race", f"owner-{i}", ttl=LONG) for i in range(20)))
    assert results.count(True) == 1
    winner = results.index(True)
    assert await handles[0].get("race") == f"owner-{winner}"


async def test_compare_and_delete(store: KeyValueStore) -> None:
    await store.set("token", "t1")
    await store.delete("token", if_value="t0")  # someone else's value: left alone
    assert await store.get("token") == "t1"
    await store.delete("token", if_value="t1")
    assert await store.get("token") is None
    await store.delete("token", if_value="t1")  # already gone: no error
    await store.delete("never-there")
    await store.set("plain", "x")
    await store.delete("plain")
    assert await store.get("plain") is None


# -- TokenCache on each store -------------------------------------------------------------------------


class FakeWeCom:
    """Counts gettoken calls; each call can be held open to let other getters pile up."""

    def __init__(self) -> None:
        self.calls = 0
        self.release = asyncio.Event()
        self.fail_next = False

    async def fetch(self) -> tuple[str, int]:
        self.calls += 1
        await self.release.wait()
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("gettoken failed")
        return f"token-{self.calls}", 7200


async def test_concurrent_getters_fetch_once(make_store: Callable[[], KeyValueStore]) -> None:
    wecom = FakeWeCom()
    # Two processes' caches for the same app, several callers in each.
    caches = [TokenCache(make_store(), "corp:1000002"), TokenCache(make_store(), "corp:1000002")]
    getters = [asyncio.create_task(caches[i % 2].get(wecom.fetch)) for i in range(10)]

    async def fetching() -> bool:
        return wecom.calls > 0

    await eventually(fetching)
    wecom.release.set()
    assert await asyncio.gather(*getters) == ["token-1"] * 10
    assert wecom.calls == 1
    # Later calls use the stored token.
    assert await caches[1].get(wecom.fetch) == "token-1"
    assert wecom.calls == 1


async def test_invalidate_refetches_but_never_drops_a_newer_token(make_store: Callable[[], KeyValueStore]) -> None:
    wecom = FakeWeCom()
    wecom.release.set()
    first, second = TokenCache(make_store(), "app"), TokenCache(make_store(), "app")
    assert await first.get(wecom.fetch) == "token-1"
    await first.invalidate("token-1")
    assert await second.get(wecom.fetch) == "token-2"
    # A slow process rejects the old token after the new one is stored: the new one stays.
    await first.invalidate("token-1")
    assert await first.get(wecom.fetch) == "token-2"
    assert wecom.calls == 2


async def test_a_failed_fetch_does_not_block_the_next(make_store: Callable[[], KeyValueStore]) -> None:
    wecom = FakeWeCom()
    wecom.release.set()
    wecom.fail_next = True
    cache = TokenCache(make_store(), "app")
    with pytest.raises(RuntimeError):
        await cache.get(wecom.fetch)
    # The refresh lock was released with the failure, so the next caller fetches at once.
    assert await TokenCache(make_store(), "app").get(wecom.fetch) == "token-2"


async def test_tokens_of_two_apps_are_kept_apart(store: KeyValueStore) -> None:
    wecom = FakeWeCom()
    wecom.release.set()
    assert await TokenCache(store, "corp:1").get(wecom.fetch) == "token-1"
    assert await TokenCache(store, "corp:2").get(wecom.fetch) == "token-2"
    assert await TokenCache(store, "corp:1").get(wecom.fetch) == "token-1"


async def test_redis_prefixes_keep_deployments_apart() -> None:
    a = RedisStore(REDIS_URL, prefix=f"relay-test-{uuid.uuid4().hex[:10]}:")
    b = RedisStore(REDIS_URL, prefix=f"relay-test-{uuid.uuid4().hex[:10]}:")
    try:
        await a.set("wecom:token:app", "a-token", ttl=LONG)
        assert await b.get("wecom:token:app") is None
        assert await b.add("wecom:token:app", "b-token", ttl=LONG) is True
        assert await a.get("wecom:token:app") == "a-token"
    finally:
        for store in (a, b):
            await store.delete("wecom:token:app")
            await store.close()

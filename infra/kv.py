"""A small key-value store: in-process for one process (the demo), Redis when several processes share work.

Holds what may be lost without harm or is rebuilt on demand: the WeCom access token, each member's
chat context (which order their next photo belongs to). One interface, two implementations, one test suite.
"""

from __future__ import annotations

import time
from typing import Any, Protocol

import redis.asyncio as redis
from redis.driver_info import DriverInfo

# What each new connection tells Redis of its client (CLIENT SETINFO), worked out once: left to redis-py,
# every new connection reads the installed package's metadata from disk for its version (about 2 ms of CPU).
REDIS_DRIVER = DriverInfo()


def redis_client(url: str, **options: Any) -> redis.Redis:
    """A client on `url` (a pool of connections, opened as needed), as every part of Relay opens one."""
    return redis.from_url(url, driver_info=REDIS_DRIVER, **options)


class KeyValueStore(Protocol):
    async def get(self, key: str) -> str | None: ...

    async def set(self, key: str, value: str, ttl: float | None = None) -> None: ...

    async def add(self, key: str, value: str, ttl: float) -> bool:
        """Set only if absent (a lock); True when this call set it."""
        ...

    async def delete(self, key: str, *, if_value: str | None = None) -> None:
        """Delete; with if_value, only while the key still holds that value."""
        ...

    async def close(self) -> None: ...


class MemoryStore:
    def __init__(self) -> None:
        self._data: dict[str, tuple[str, float | None]] = {}

    def _live(self, key: str) -> str | None:
        item = self._data.get(key)
        if item is None:
            return None
        value, expires = item
        if expires is not None and expires <= time.monotonic():
            del self._data[key]
            return None
        return value

    async def get(self, key: str) -> str | None:
        return self._live(key)

    async def set(self, key: str, value: str, ttl: float | None = None) -> None:
        self._data[key] = (value, time.monotonic() + ttl if ttl else None)

    async def add(self, key: str, value: str, ttl: float) -> bool:
        if self._live(key) is not None:
            return False
        await self.set(key, value, ttl)
        return True

    async def delete(self, key: str, *, if_value: str | None = None) -> None:
        if if_value is None or self._live(key) == if_value:
            self._data.pop(key, None)

    async def close(self) -> None:
        self._data.clear()


# Compare-and-delete must be atomic, or a process could delete a token another one just stored.
_DELETE_IF = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisStore:
    def __init__(self, url: str, *, prefix: str = "relay:") -> None:
        self._redis = redis_client(url, decode_responses=True)
        self._prefix = prefix
        self._delete_if = self._redis.register_script(_DELETE_IF)

    async def get(self, key: str) -> str | None:
        value = await self._redis.get(self._prefix + key)
        return None if value is None else str(value)

    async def set(self, key: str, value: str, ttl: float | None = None) -> None:
        await self._redis.set(self._prefix + key, value, px=int(ttl * 1000) if ttl else None)

    async def add(self, key: str, value: str, ttl: float) -> bool:
        return bool(await self._redis.set(self._prefix + key, value, px=int(ttl * 1000), nx=True))

    async def delete(self, key: str, *, if_value: str | None = None) -> None:
        if if_value is None:
            await self._redis.delete(self._prefix + key)
        else:
            await self._delete_if(keys=[self._prefix + key], args=[if_value])

    async def close(self) -> None:
        await self._redis.aclose()


def open_store(url: str, *, prefix: str = "relay:") -> KeyValueStore:
    return RedisStore(url, prefix=prefix) if url else MemoryStore()

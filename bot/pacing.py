"""Pacing per member: WeCom accepts at most 30 messages a minute and 1000 an hour from one app to one
member and silently drops the rest, answering errcode 0 (90454). Every process reserves a slot for each
recipient before it sends, in one shared count (Redis; in-process for a single process), so Relay stays
under the limit however many processes send.

The windows move (any 60 s, any hour), which also keeps every calendar minute under the limit, and are a
second longer than WeCom's so a request that arrives a little late at WeCom is still counted right.
"""

from __future__ import annotations

import secrets
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from infra.kv import redis_client

MARGIN = 1.0
MINUTE = 60.0 + MARGIN
HOUR = 3600.0 + MARGIN


@dataclass(frozen=True)
class Allowance:
    per_minute: int
    per_hour: int


class Pacer(Protocol):
    async def reserve(self, members: Sequence[str], allowance: Allowance) -> float:
        """Count one message to each member and answer 0 when it may go now; else the seconds until
        it may, counting nothing."""
        ...

    async def close(self) -> None: ...


class MemoryPacer:
    """One process's count (the demo, SQLite)."""

    def __init__(self) -> None:
        self._sent: dict[str, deque[float]] = {}

    async def reserve(self, members: Sequence[str], allowance: Allowance) -> float:
        now = time.monotonic()
        wait = 0.0
        for member in members:
            sent = self._sent.setdefault(member, deque())
            while sent and sent[0] <= now - HOUR:
                sent.popleft()
            wait = max(wait, _wait(list(sent), now, allowance))
        if wait > 0:
            return wait
        for member in members:
            self._sent[member].append(now)
        return 0.0

    async def close(self) -> None:
        self._sent.clear()


def _wait(sent: list[float], now: float, allowance: Allowance) -> float:
    """How long until one more message fits, given the times of the last hour's (oldest first)."""
    wait = 0.0
    in_minute = [t for t in sent if t > now - MINUTE]
    if len(in_minute) >= allowance.per_minute:
        wait = max(wait, in_minute[len(in_minute) - allowance.per_minute] + MINUTE - now)
    if len(sent) >= allowance.per_hour:
        wait = max(wait, sent[len(sent) - allowance.per_hour] + HOUR - now)
    return wait


# Atomic for all the recipients: either every member's count takes the message, or none does. Redis's
# own clock, so processes on several machines agree. One sorted set per member, scored in milliseconds.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local minute, hour = tonumber(ARGV[1]), tonumber(ARGV[2])
local per_minute, per_hour = tonumber(ARGV[3]), tonumber(ARGV[4])
local wait = 0
for _, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - hour)
  local in_minute = redis.call('ZCOUNT', key, '(' .. (now - minute), '+inf')
  if in_minute >= per_minute then
    local e = redis.call('ZRANGEBYSCORE', key, '(' .. (now - minute), '+inf', 'WITHSCORES', 'LIMIT',
      in_minute - per_minute, 1)
    wait = math.max(wait, tonumber(e[2]) + minute - now)
  end
  local in_hour = redis.call('ZCARD', key)
  if in_hour >= per_hour then
    local e = redis.call('ZRANGE', key, in_hour - per_hour, in_hour - per_hour, 'WITHSCORES')
    wait = math.max(wait, tonumber(e[2]) + hour - now)
  end
end
if wait > 0 then return wait end
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, ARGV[5] .. ':' .. i)
  redis.call('PEXPIRE', key, hour)
end
return 0
"""


class RedisPacer:
    """The count every process shares."""

    def __init__(self, url: str, *, prefix: str = "relay:pace:") -> None:
        self._redis = redis_client(url)
        self._prefix = prefix
        self._reserve = self._redis.register_script(_RESERVE)

    async def reserve(self, members: Sequence[str], allowance: Allowance) -> float:
        if not members:
            return 0.0
        wait_ms = await self._reserve(
            keys=[self._prefix + m for m in members],
            args=[int(MINUTE * 1000), int(HOUR * 1000), allowance.per_minute, allowance.per_hour, secrets.token_hex(8)],
        )
        return max(0.0, float(wait_ms) / 1000)

    async def close(self) -> None:
        await self._redis.aclose()


def open_pacer(redis_url: str) -> Pacer:
    return RedisPacer(redis_url) if redis_url else MemoryPacer()

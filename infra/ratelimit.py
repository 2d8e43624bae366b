"""Rate limits shared by every process (Redis; in-process for the demo), with the `limits` library's
moving window: what an outsider can make Relay do per minute (spend WeCom's quota on OAuth codes, try
signing links) is bounded."""

from __future__ import annotations

from dataclasses import dataclass

from limits import RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

from infra.kv import REDIS_DRIVER


@dataclass(frozen=True)
class Limit:
    name: str  # the bucket: oauth, sign, api
    per_minute: int


class RateLimits:
    def __init__(self, redis_url: str, *, prefix: str = "relay-limits") -> None:
        # redis-py's asyncio client, which Relay already uses (limits' default would add coredis).
        self._storage: Storage = (
            RedisStorage(
                f"async+{redis_url}",
                implementation="redispy",
                key_prefix=prefix,
                driver_info=REDIS_DRIVER,  # type: ignore[arg-type]  # passed on to redis-py's client
            )
            if redis_url
            else MemoryStorage()
        )
        self._limiter = MovingWindowRateLimiter(self._storage)

    async def allow(self, limit: Limit, who: str) -> bool:
        """Count one request by `who` (an IP, a member); False once the minute's allowance is spent."""
        return await self._limiter.hit(RateLimitItemPerMinute(limit.per_minute), limit.name, who)

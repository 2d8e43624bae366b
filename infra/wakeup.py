"""Wake-ups: "there is work" told to the loops that look for it (inbox, outbox, jobs), in every process.

The work itself is rows in the database; a wake-up only says "look now" instead of at the next poll, so
one that is lost costs a poll interval, never a message. In one process (the demo, SQLite) it is a
function call. With Redis, it is also published on a channel named after the database, so that a
message stored by `relay serve` is picked up by whichever `relay worker` is free, within milliseconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import secrets
from collections.abc import Callable
from typing import Literal

import redis.asyncio as redis

from infra.kv import redis_client

log = logging.getLogger(__name__)

Topic = Literal["inbox", "outbox", "jobs"]
TOPICS: tuple[Topic, ...] = ("inbox", "outbox", "jobs")


class Wakeups:
    """In-process: notify() calls what this process subscribed with on()."""

    def __init__(self) -> None:
        self._listeners: dict[str, list[Callable[[], None]]] = {topic: [] for topic in TOPICS}

    def on(self, topic: Topic, listener: Callable[[], None]) -> None:
        self._listeners[topic].append(listener)

    def notify(self, topic: Topic) -> None:
        """Call after the transaction that made the work has committed: a wake-up before it finds nothing."""
        self._call(topic)

    def _call(self, topic: str) -> None:
        for listener in self._listeners.get(topic, ()):
            listener()

    async def start(self) -> None:
        pass

    async def close(self) -> None:
        pass


class RedisWakeups(Wakeups):
    """Also across processes: published on one Redis channel per database, heard by every process on it."""

    def __init__(self, redis_url: str, database_url: str) -> None:
        super().__init__()
        self._redis = redis_client(redis_url, decode_responses=True)
        # Processes on the same database share a channel; others (another deployment, a test run) do not.
        self.channel = "relay:wake:" + hashlib.sha256(database_url.encode()).hexdigest()[:16]
        self._me = secrets.token_hex(6)  # this process's own wake-ups come back on the channel: skipped
        self._queued: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._listening: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()

    def notify(self, topic: Topic) -> None:
        self._call(topic)
        if topic in self._queued:
            return  # a publish of this topic is queued and not yet sent: it covers this one too
        self._queued.add(topic)
        task = asyncio.get_running_loop().create_task(self._publish(topic))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _publish(self, topic: str) -> None:
        self._queued.discard(topic)
        try:
            await self._redis.publish(self.channel, f"{topic} {self._me}")
        except (redis.RedisError, OSError) as exc:
            log.warning("wake-up %s not published (the others will find the work at their next poll): %s", topic, exc)

    async def start(self) -> None:
        self._listening = asyncio.create_task(self._listen(), name="wakeups")
        # Until the subscription stands, a wake-up would be missed; the poll would still find the work.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(5):
                await self._subscribed.wait()

    async def _listen(self) -> None:
        backoff = 0.1
        while True:
            try:
                async with self._redis.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(self.channel)
                    self._subscribed.set()
                    backoff = 0.1
                    for topic in TOPICS:  # whatever was announced while not subscribed: look once
                        self._call(topic)
                    async for message in pubsub.listen():
                        heard, _, sender = str(message.get("data", "")).partition(" ")
                        if sender != self._me:
                            self._call(heard)
            except asyncio.CancelledError:
                raise
            except (redis.RedisError, OSError) as exc:
                log.warning("wake-ups from other processes lost (polling meanwhile): %s", exc)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)

    async def close(self) -> None:
        if self._listening is not None:
            self._listening.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listening
        for task in list(self._tasks):
            with contextlib.suppress(Exception):
                await task
        await self._redis.aclose()


def open_wakeups(redis_url: str, database_url: str) -> Wakeups:
    return RedisWakeups(redis_url, database_url) if redis_url else Wakeups()

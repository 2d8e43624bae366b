"""Webhooks reach another system once: a real receiver (aiohttp, checking the signature with its
secret as a receiver would) that fails twice gets the event delivered on the third attempt and never
again; each change is one event of its type, sent only if the change committed."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from tortoise.transactions import in_transaction

from models import MessageState, WebhookDelivery
from scheduler.webhooks import WebhookSender
from tests.support import World, start_world
from tests.test_api import ADMIN, SALES, bearer, call, new_order_body, token
from tests.test_production import released
from workflow.webhooks import SubscriptionInput, create_subscription, emit

FAST = {"api": {"webhook_max_backoff": 0.3}}  # retries after 0.3 s, not 1, 2, 4 … s


@pytest.fixture
async def fast_world(database: str, redis_url: str, tmp_path: Path) -> AsyncIterator[World]:
    async with start_world(database_url=database, redis_url=redis_url, storage=tmp_path / "files", extra=FAST) as w:
        yield w


@dataclass
class Receiver:
    """Another system's endpoint: answers 500 to its first `failures` requests, then 200. Keeps what it
    accepted by event id, as a receiver that drops repeats does."""

    failures: int = 0
    secret: str = ""
    requests: list[tuple[str, bool]] = field(default_factory=list)  # (event id, signature valid)
    accepted: dict[str, dict[str, Any]] = field(default_factory=dict)
    repeats: int = 0
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def valid(self, header: str, body: bytes) -> bool:
        parts = dict(p.split("=", 1) for p in header.split(","))
        mac = hmac.new(self.secret.encode(), parts["t"].encode() + b"." + body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(mac, parts["v1"]) and abs(time.time() - int(parts["t"])) < 300

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        event_id = request.headers["X-Relay-Event-Id"]
        ok = self.valid(request.headers["X-Relay-Signature"], body)
        self.requests.append((event_id, ok))
        if not ok:
            return web.Response(status=401)
        if len(self.requests) <= self.failures:
            return web.Response(status=500, text="database is down")
        if event_id in self.accepted:
            self.repeats += 1
        self.accepted[event_id] = json.loads(body)
        self.arrived.set()
        return web.Response(status=200)

    async def wait_for(self, count: int, within: float = 15.0) -> None:
        async with asyncio.timeout(within):
            while len(self.accepted) < count:
                self.arrived.clear()
                await self.arrived.wait()


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    got = Receiver()
    app = web.Application()
    app.router.add_post("/relay-events", got.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield got, str(server.make_url("/relay-events"))
    await server.close()


async def subscribe(world: World, http: aiohttp.ClientSession, url: str, events: list[str]) -> dict[str, Any]:
    manager = await token("webhooks:write")
    body = {"name": "1C 财务", "url": url, "events": events}
    status, created, _ = await call(http, "POST", f"{world.relay_url}/api/v1/webhooks", bearer(manager), body)
    assert status == 201 and created["secret"].startswith("whsec_"), created
    return created


async def no_pending(within: float = 15.0) -> None:
    """Until every delivery is finished (the receiver's answer recorded), as World.settle for the outbox."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if not await WebhookDelivery.filter(state=MessageState.PENDING).exists():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"webhook deliveries still pending after {within} s")


async def test_an_event_is_delivered_once_though_the_receiver_fails_twice(
    fast_world: World, receiver: tuple[Receiver, str]
) -> None:
    world, (got, url) = fast_world, receiver
    got.failures = 2
    async with aiohttp.ClientSession() as http:
        created = await subscribe(world, http, url, ["order.state_changed"])
        got.secret = created["secret"]
        sales = await token("orders:write", acts_as=SALES)
        status, order, _ = await call(
            http, "POST", f"{world.relay_url}/api/v1/orders", bearer(sales), await new_order_body("WH-0001")
        )
        assert status == 201
    await got.wait_for(1)
    await no_pending()
    (event_id, event), *_ = got.accepted.items()
    assert event["type"] == "order.state_changed" and event["id"] == event_id
    assert event["data"] == {
        "order_number": "WH-0001",
        "from": None,
        "to": "created",
        "transition": "create_order",
        "actor": SALES,
    }
    assert got.requests == [(event_id, True)] * 3 and got.repeats == 0
    delivery = await WebhookDelivery.get(event_id=event_id)
    assert (delivery.state, delivery.attempts, delivery.last_status) == (MessageState.DONE, 3, 200)
    assert delivery.delivered_at is not None

    async with aiohttp.ClientSession() as http:
        status, page, _ = await call(
            http,
            "GET",
            f"{world.relay_url}/api/v1/webhooks/{created['id']}/deliveries",
            bearer(await token("webhooks:write")),
        )
    assert [(d["event_id"], d["state"], d["attempts"]) for d in page["items"]] == [(event_id, "done", 3)]


async def test_each_change_is_one_event_of_its_type(world: World, receiver: tuple[Receiver, str]) -> None:
    got, url = receiver
    async with aiohttp.ClientSession() as http:
        got.secret = (await subscribe(world, http, url, ["payment.recorded", "piece.moved"]))["secret"]
        order, pieces = await released(world)
        factory = await token("pieces:write")
        piece_url = f"{world.relay_url}/api/v1/pieces/{pieces[0].production_number}/state"
        status, _, _ = await call(http, "POST", piece_url, bearer(factory), {"state": "in_production"})
        assert status == 200
        # A refused move changes nothing, and tells nobody.
        status, _, _ = await call(http, "POST", piece_url, bearer(factory), {"state": "queued"})
        assert status == 409
    await got.wait_for(2)
    await no_pending()
    events = sorted(got.accepted.values(), key=lambda e: e["type"])
    assert [e["type"] for e in events] == ["payment.recorded", "piece.moved"]
    assert events[0]["data"]["order_number"] == order.number and events[0]["data"]["kind"] == "deposit"
    assert events[1]["data"] == {
        "production_number": pieces[0].production_number,
        "order_number": order.number,
        "seq": pieces[0].seq,
        "from": "queued",
        "to": "in_production",
        "step": "start",
    }
    assert await WebhookDelivery.all().count() == 2  # the order's state changes: not subscribed


async def test_subscriptions_are_checked(world: World) -> None:
    manager = await token("webhooks:write")
    other = await token("orders:read", acts_as=ADMIN)
    url = f"{world.relay_url}/api/v1/webhooks"
    async with aiohttp.ClientSession() as http:
        status, answer, _ = await call(
            http, "POST", url, bearer(other), {"name": "x", "url": "https://a.b/", "events": []}
        )
        assert (status, answer["message"]) == (403, "访问令牌没有 webhooks:write 权限")
        bad = {"name": "x", "url": "ftp://a.b/", "events": ["order.teleported"]}
        status, answer, _ = await call(http, "POST", url, bearer(manager), bad)
        assert status == 400 and set(answer["errors"]) == {"url", "events"}, answer
        assert await WebhookDelivery.all().count() == 0
        status, created, _ = await call(
            http,
            "POST",
            url,
            bearer(manager),
            {"name": "MES", "url": "https://mes.example.com/h", "events": ["piece.moved"]},
        )
        assert status == 201
        body = {"name": "MES", "url": "https://mes.example.com/h", "events": ["piece.moved"], "active": False}
        status, changed, _ = await call(http, "PUT", f"{url}/{created['id']}", bearer(manager), body)
        assert status == 200 and changed["active"] is False and "secret" not in changed


@pytest.fixture
async def quiet_world(database: str, redis_url: str, tmp_path: Path) -> AsyncIterator[World]:
    """The world runs no loops of its own (as `relay serve` beside workers): the test's senders are the only
    ones at work. (Its sender, woken by the event, could otherwise take the delivery first and keep it.)"""
    async with start_world(
        database_url=database, redis_url=redis_url, storage=tmp_path / "files", extra={"server": {"background": False}}
    ) as w:
        yield w


async def test_a_sender_that_dies_mid_request_is_taken_over_and_the_receiver_drops_the_repeat(
    quiet_world: World,
) -> None:
    got = Receiver()
    held = asyncio.Event()  # the first request stays unanswered: its sender dies meanwhile
    first_in = asyncio.Event()

    async def handle(request: web.Request) -> web.Response:
        if not got.requests:
            got.requests.append((request.headers["X-Relay-Event-Id"], True))
            first_in.set()
            await held.wait()  # nobody reads this answer: its sender is gone
            return web.Response(status=200)
        return await got.handle(request)

    app = web.Application()
    app.router.add_post("/hook", handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    dying = WebhookSender(timeout=0.5, max_attempts=5, max_backoff=0.2, lease=timedelta(seconds=1))
    taking_over = WebhookSender(timeout=5, max_attempts=5, max_backoff=0.2, lease=timedelta(seconds=1))
    try:
        created = await create_subscription(
            actor=None, form=SubscriptionInput("ERP", str(server.make_url("/hook")), ["payment.recorded"])
        )
        got.secret = created.secret
        async with in_transaction():
            await emit("payment.recorded", {"order_number": "WH-DIE", "amount": "100.00"})
        attempt = asyncio.create_task(dying.run_due())
        await first_in.wait()
        attempt.cancel()  # the process dies: its lease is no longer renewed
        with contextlib.suppress(asyncio.CancelledError):
            await attempt
        deadline = time.monotonic() + 15
        while not await taking_over.run_due():  # nothing to take until the dead sender's lease ends
            assert time.monotonic() < deadline, "the delivery was never taken over"
            await asyncio.sleep(0.05)
    finally:
        held.set()
        await dying.close()
        await taking_over.close()
        await server.close()
    delivery = await WebhookDelivery.get()
    assert (delivery.state, delivery.attempts) == (MessageState.DONE, 2)
    # The receiver got the event twice (the first request reached it) and kept it once, by its id.
    assert [event_id for event_id, _ in got.requests] == [delivery.event_id] * 2
    assert list(got.accepted) == [delivery.event_id]


async def test_a_booking_assigned_at_once_is_one_lead_event_without_the_customers_details(world: World) -> None:
    from tests.test_leads import STORE
    from workflow.admin import ensure_unit

    store = await ensure_unit(STORE)
    await create_subscription(
        actor=None, form=SubscriptionInput("CRM", "http://127.0.0.1:9/never", ["lead.state_changed"])
    )
    async with aiohttp.ClientSession() as http:
        body = {"store_id": store.id, "name": "网上客户", "phone": "13811112222"}
        status, made, _ = await call(
            http, "POST", f"{world.relay_url}/api/v1/leads", bearer(await token("leads:write")), body
        )
    assert status == 201 and made["state"] == "assigned"
    (delivery,) = await WebhookDelivery.all()
    assert delivery.event_type == "lead.state_changed"
    assert delivery.payload["data"] == {
        "number": made["number"],
        "store_id": store.id,
        "from": "new",
        "to": "assigned",
        "step": delivery.payload["data"]["step"],
    }
    assert "13811112222" not in json.dumps(delivery.payload) and "网上客户" not in json.dumps(delivery.payload)

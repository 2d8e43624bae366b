"""Rate limits: an address trying OAuth codes or signing links, or a member calling the API, is answered
429 past the minute's allowance, and the limit is shared by every process (Redis) where there are several."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest

from infra.ratelimit import Limit, RateLimits
from models import OrderState
from tests.support import World, start_world
from tests.test_permissions import at_state
from workflow.signing import signing_url

LOW = {"oauth_per_minute": 5, "sign_per_minute": 4, "api_per_minute": 6}


@pytest.fixture
async def limited_world(database: str, redis_url: str, tmp_path: Path) -> AsyncIterator[World]:
    async with start_world(database_url=database, redis_url=redis_url, storage=tmp_path / "files", security=LOW) as w:
        yield w


async def test_random_oauth_codes_stop_costing_wecom_calls(limited_world: World) -> None:
    world = limited_world
    asked = world.emu.calls["auth/getuserinfo"]
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:  # cookies on 127.0.0.1
        # A code with no sign-in started in this browser costs nothing: refused before WeCom is asked.
        async with http.get(f"{world.relay_url}/h5/orders", params={"code": "forged"}) as resp:
            assert resp.status == 400 and "登录请求无效" in await resp.text()
        assert world.emu.calls["auth/getuserinfo"] == asked
        # One sign-in started, then many codes tried with its state: five reach WeCom, the rest are refused.
        async with http.get(f"{world.relay_url}/h5/orders", params={"signin": "1"}, allow_redirects=False) as resp:
            assert resp.status == 302
            state = parse_qs(urlsplit(resp.headers["Location"]).query)["state"][0]
        statuses = []
        for i in range(8):
            params = {"code": f"forged-{i}", "state": state}
            async with http.get(f"{world.relay_url}/h5/orders", params=params) as resp:
                statuses.append(resp.status)
                if resp.status == 429:
                    assert "操作太频繁" in await resp.text() and resp.headers["Retry-After"] == "60"
    assert statuses == [401] * 5 + [429] * 3
    assert world.emu.calls["auth/getuserinfo"] - asked == 5


async def test_signing_pages_from_one_address_are_bounded(limited_world: World) -> None:
    order = await at_state("RL-SIGN", OrderState.INSTALLED)
    async with aiohttp.ClientSession() as http:
        statuses = []
        for _ in range(6):
            async with http.get(signing_url(order)) as resp:
                statuses.append(resp.status)
        async with http.post(signing_url(order), data={"signature": "x"}) as resp:
            statuses.append(resp.status)
    assert statuses == [200] * 4 + [429] * 3
    await order.refresh_from_db()
    assert order.state == OrderState.INSTALLED


async def test_the_api_counts_per_member(limited_world: World) -> None:
    world = limited_world
    async with world.browser_session("zhangxiaoshou") as zhang, world.browser_session("lixiaoshou") as li:
        mine = []
        for _ in range(8):
            async with zhang.get(f"{world.relay_url}/api/v1/products") as resp:
                mine.append(resp.status)
        async with li.get(f"{world.relay_url}/api/v1/products") as resp:
            other = resp.status
    assert mine == [200] * 6 + [429] * 2
    assert other == 200  # another member's allowance is their own


async def test_processes_share_one_allowance(redis_url: str) -> None:
    if not redis_url:
        pytest.skip("one process: the in-process store")
    first, second = RateLimits(redis_url, prefix="relay-limits-test"), RateLimits(redis_url, prefix="relay-limits-test")
    limit = Limit("shared-test", per_minute=3)
    taken = [await (first if i % 2 else second).allow(limit, "10.0.0.7") for i in range(5)]
    assert taken == [True, True, True, False, False]


async def test_the_customers_ticket_pages_from_one_address_are_bounded(limited_world: World) -> None:
    """The customer's problem page shares the signing page's allowance per address (security.sign_per_minute)."""
    from models import Ticket
    from workflow.customer_link import customer_token

    order = await at_state("RL-TICKET", OrderState.INSTALLED)
    url = f"{limited_world.relay_url}/c/{customer_token(order)}/problem"
    async with aiohttp.ClientSession() as http:
        statuses = []
        for _ in range(5):
            async with http.get(url) as resp:
                statuses.append(resp.status)
        async with http.post(url, data={"what": "repair", "description": "漏水"}) as resp:
            statuses.append(resp.status)
            assert "操作太频繁" in await resp.text()
    assert statuses == [200] * 4 + [429] * 2
    assert not await Ticket.exists()

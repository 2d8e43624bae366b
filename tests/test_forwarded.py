"""Behind a load balancer: the client's address from X-Forwarded-For, only when the balancer sent it."""

from __future__ import annotations

import aiohttp
import pytest
from aiohttp import web

from relay.forwarded import client_address, forwarded_middleware, trusted_networks
from tests.support import serve

BALANCERS = trusted_networks("10.0.0.0/24, 127.0.0.1")


@pytest.mark.parametrize(
    ("remote", "header", "client"),
    [
        ("10.0.0.7", ["203.0.113.9"], "203.0.113.9"),  # from the balancer: the phone's address
        ("10.0.0.7", ["198.51.100.1, 203.0.113.9"], "203.0.113.9"),  # the first hop was the client's to invent
        ("10.0.0.7", ["203.0.113.9, 10.0.0.3"], "203.0.113.9"),  # through two of our proxies
        ("10.0.0.7", [], "10.0.0.7"),
        ("10.0.0.7", ["not an address"], "10.0.0.7"),
        ("10.0.0.7", ["203.0.113.9", "198.51.100.1"], "198.51.100.1"),  # the header twice: one list
        ("198.51.100.1", ["203.0.113.9"], "198.51.100.1"),  # not from a balancer: the header is ignored
    ],
)
def test_the_client_is_the_nearest_address_that_is_not_a_balancer(remote: str, header: list[str], client: str) -> None:
    assert client_address(remote, header, BALANCERS) == client


async def echo(request: web.Request) -> web.Response:
    return web.Response(text=request.remote or "")


@pytest.mark.parametrize(("setting", "seen"), [("127.0.0.1", "203.0.113.9"), ("", "127.0.0.1")])
async def test_requests_are_counted_under_the_phones_address_only_behind_a_named_balancer(
    setting: str, seen: str
) -> None:
    app = web.Application(middlewares=[forwarded_middleware(setting)])
    app.router.add_get("/", echo)
    server = await serve(app)
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(server.make_url("/"), headers={"X-Forwarded-For": "203.0.113.9"}) as resp:
                assert await resp.text() == seen
    finally:
        await server.close()

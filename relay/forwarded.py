"""The client's address behind a load balancer: from X-Forwarded-For, but only when the request comes
from a proxy the config names (`server.forwarded_allow_ips`).

Relay counts requests per address (the customer's page, OAuth codes, bookings) and records addresses in
the audit log. Behind a balancer every request would come from the balancer's address: all customers
would share one limit, and the log would name the balancer. A header from anyone else is ignored, so a
client cannot pick the address it is counted under.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable

from aiohttp import web

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def trusted_networks(setting: str) -> list[Network]:
    """`10.0.0.5, 10.1.0.0/16`: addresses or networks, separated by commas or spaces."""
    return [ipaddress.ip_network(part, strict=False) for part in setting.replace(",", " ").split()]


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def client_address(remote: str, forwarded_for: list[str], networks: list[Network]) -> str:
    """The nearest address in the chain that is not one of our proxies (each proxy appends the address
    it got the request from, so the ones before it may be made up; the nearest untrusted one is not).
    Anything that is not an address there means a proxy is not doing that: the peer's address stands."""

    def trusted(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        return any(ip in network for network in networks)

    peer = _address(remote)
    if peer is None or not trusted(peer):
        return remote
    hops = [hop.strip() for header in forwarded_for for hop in header.split(",") if hop.strip()]
    for hop in reversed(hops):
        ip = _address(hop)
        if ip is None:
            return remote
        if not trusted(ip):
            return str(ip)
    return remote


def forwarded_middleware(setting: str) -> Callable[..., Awaitable[web.StreamResponse]]:
    networks = trusted_networks(setting)

    @web.middleware
    async def middleware(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if networks and request.remote:
            address = client_address(request.remote, request.headers.getall("X-Forwarded-For", []), networks)
            if address != request.remote:
                request = request.clone(remote=address)
        return await handler(request)

    return middleware

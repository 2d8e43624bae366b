"""Every H5 page and the customer's page come with the headers that keep them from being framed,
sniffed or leaking their address."""

from __future__ import annotations

import aiohttp

from models import OrderState
from relay.app import page_headers
from tests.support import World
from tests.test_permissions import at_state
from workflow.customer_link import customer_page_url
from workflow.signing import signing_url


async def test_staff_and_customer_pages_carry_the_headers(world: World) -> None:
    order = await at_state("SH-1", OrderState.INSTALLED)
    async with world.browser_session("zhangxiaoshou") as staff, aiohttp.ClientSession() as customer:
        for http, url in (
            (staff, f"{world.relay_url}/h5/orders/{order.number}"),
            (staff, f"{world.relay_url}/h5/orders/NO-SUCH"),  # a refusal page too
            (customer, signing_url(order)),
            (customer, f"{world.relay_url}/sign/forged"),
            (customer, customer_page_url(order)),
            (customer, f"{world.relay_url}/c/forged"),
        ):
            async with http.get(url) as resp:
                csp = resp.headers.get("Content-Security-Policy", "")
                assert "default-src 'self'" in csp and "object-src 'none'" in csp, url
                assert f"frame-ancestors {world.emulator_url.rstrip('/')}" in csp, url  # the test console
                assert resp.headers.get("X-Content-Type-Options") == "nosniff", url
                assert resp.headers.get("Referrer-Policy") == "no-referrer", url
    async with aiohttp.ClientSession() as http, http.get(f"{world.relay_url}/healthz") as resp:
        assert "Content-Security-Policy" not in resp.headers  # not a page


def test_outside_the_demo_no_one_may_frame_a_page() -> None:
    headers = page_headers("")
    assert headers["Content-Security-Policy"].endswith("frame-ancestors 'none'")
    assert headers["X-Frame-Options"] == "DENY"

"""H5 pages know who is looking: WeCom OAuth2 (auth/getuserinfo), then a signed session cookie."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import aiohttp

from infra.runtime import runtime
from tests.support import World


async def test_no_session_goes_through_wecom_oauth(world: World) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{world.relay_url}/h5/orders?x=1", allow_redirects=False) as resp:
            assert resp.status == 302
            target = urlparse(resp.headers["Location"])
    query = parse_qs(target.query)
    assert target.path == "/connect/oauth2/authorize"
    assert query["appid"] == [world.config.wecom.corp_id]
    assert query["agentid"] == [str(world.config.wecom.agent_id)]
    assert query["scope"] == ["snsapi_base"] and query["response_type"] == ["code"]
    assert query["redirect_uri"] == [f"{world.relay_url}/h5/orders?x=1"]
    assert query["state"] != ["relay"]


async def test_a_card_link_starts_at_relay_and_signs_in_afresh(world: World) -> None:
    # A card's link is the page itself, flagged: Relay sets the state, then sends the member through WeCom,
    # even when this browser holds another member's session (the console's one browser plays them all).
    link = runtime().links.oauth("/h5/orders/new")
    assert link == f"{world.relay_url}/h5/orders/new?signin=1"
    async with world.browser_session("chenanzhuang") as http:
        async with http.get(link, allow_redirects=False) as resp:
            assert resp.status == 302
            query = parse_qs(urlparse(resp.headers["Location"]).query)
            assert query["redirect_uri"] == [f"{world.relay_url}/h5/orders/new"]
        async with http.get(
            f"{world.emulator_url}/emulator/open", params={"userid": "zhangxiaoshou", "url": link}
        ) as resp:
            assert resp.status == 200 and str(resp.url) == f"{world.relay_url}/h5/orders/new"
            assert "张晓燕" in await resp.text()


async def test_oauth_signs_in_the_member_and_drops_the_code(world: World) -> None:
    async with world.browser_session("zhangxiaoshou") as http:
        async with http.get(f"{world.relay_url}/h5/orders") as resp:
            html = await resp.text()
            assert resp.status == 200
            assert str(resp.url) == f"{world.relay_url}/h5/orders"  # code and state are gone
        assert "张晓燕" in html and "新建订单" in html


async def started_oauth(http: aiohttp.ClientSession, world: World, path: str = "/h5/orders") -> dict[str, list[str]]:
    """Open a page without a session, as a browser does, and stop at WeCom: the OAuth query Relay sent."""
    async with http.get(f"{world.relay_url}{path}", allow_redirects=False) as resp:
        assert resp.status == 302
        return parse_qs(urlparse(resp.headers["Location"]).query)


async def test_used_or_forged_code_refused(world: World) -> None:
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as http:
        state = (await started_oauth(http, world))["state"][0]
        async with http.get(f"{world.relay_url}/h5/orders", params={"code": "forged", "state": state}) as resp:
            assert resp.status == 401
            assert "登录已过期" in await resp.text()
        assert not [c for c in jar if c.key == "relay_session"]


async def test_oauth_state_is_random_and_bound_to_the_browser(world: World) -> None:
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as http:
        first = (await started_oauth(http, world))["state"][0]
        second = (await started_oauth(http, world))["state"][0]
    assert first != second and len(first) >= 16 and first != "relay"
    assert [c.value for c in jar if c.key == "relay_oauth_state"] == [second]


async def test_oauth_return_without_this_browsers_state_is_refused(world: World) -> None:
    # An attacker starts a sign-in in their own browser and gets a victim to open the return link (with the
    # attacker's code): the victim's browser holds no such state, so it is not signed in as the attacker.
    async with world.browser_session("zhangxiaoshou") as attacker:
        state = (await started_oauth(attacker, world, "/h5/orders?signin=1"))["state"][0]
        code = world.emu.oauth_codes.issue("zhangxiaoshou")
    calls = world.emu.calls["auth/getuserinfo"]
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as victim:
        for query in ({"code": code, "state": state}, {"code": code}, {"code": code, "state": ""}):
            async with victim.get(f"{world.relay_url}/h5/orders", params=query) as resp:
                assert resp.status == 400
                html = await resp.text()
                assert "登录请求无效" in html and "请回到企业微信重新打开这个页面" in html
        # With a sign-in of its own under way, a state that is not that one is refused all the same.
        await started_oauth(victim, world)
        async with victim.get(f"{world.relay_url}/h5/orders", params={"code": code, "state": state}) as resp:
            assert resp.status == 400
    assert not [c for c in jar if c.key == "relay_session"]
    assert world.emu.calls["auth/getuserinfo"] == calls  # refused before the code costs a WeCom call


async def test_forged_cookie_is_no_session(world: World) -> None:
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as http:
        jar.update_cookies(
            {"relay_session": "InpoYW5neGlhb3Nob3Ui.forged.signature"}, response_url=world.relay.make_url("/")
        )
        async with http.get(f"{world.relay_url}/h5/orders/new", allow_redirects=False) as resp:
            assert resp.status == 302 and "/connect/oauth2/authorize" in resp.headers["Location"]
        async with http.get(f"{world.relay_url}/api/v1/products") as resp:
            assert resp.status == 401 and "企业微信" in (await resp.json())["message"]


async def test_api_and_service_endpoints(world: World) -> None:
    async with world.browser_session("zhangxiaoshou") as http:
        async with http.get(f"{world.relay_url}/api/v1/products") as resp:
            products = (await resp.json())["items"]
            assert {"series": "淋浴房 K系列", "model": "K5"}.items() <= products[2].items() or any(
                p["model"] == "K5" for p in products
            )
        async with http.get(f"{world.relay_url}/api/v1/customers/phone-check", params={"phone": "123"}) as resp:
            assert (await resp.json())["message"] == "手机号应为 11 位数字，以 1 开头"
        async with http.get(f"{world.relay_url}/api/v1/orders/NOPE") as resp:
            assert resp.status == 404 and (await resp.json())["message"] == "没有找到订单 NOPE"
        async with http.get(f"{world.relay_url}/api/v1/openapi.json") as resp:
            spec = await resp.json()
            assert spec["openapi"].startswith("3.") and "/api/v1/orders/{number}" in spec["paths"]
        async with http.get(f"{world.relay_url}/healthz") as resp:
            assert (await resp.json()) == {"status": "ok"}
        async with http.get(f"{world.relay_url}/metrics") as resp:
            assert "relay_callbacks_total" in await resp.text()


async def test_csrf_token_required(world: World) -> None:
    async with world.browser_session("zhangxiaoshou") as http:
        async with http.post(f"{world.relay_url}/h5/orders/new", data={"csrf": "stolen", "number": "X1"}) as resp:
            assert resp.status == 403 and "页面已过期" in await resp.text()

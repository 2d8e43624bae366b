"""H5 pages know who is looking: WeCom OAuth2 (auth/getuserinfo), then a signed session cookie."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import aiohttp

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


async def test_oauth_signs_in_the_member_and_drops_the_code(world: World) -> None:
    async with world.browser_session("zhangxiaoshou") as http:
        async with http.get(f"{world.relay_url}/h5/orders") as resp:
            html = await resp.text()
            assert resp.status == 200
            assert str(resp.url) == f"{world.relay_url}/h5/orders"  # code and state are gone
        assert "张晓燕" in html and "新建订单" in html


async def test_used_or_forged_code_refused(world: World) -> None:
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as http:
        async with http.get(f"{world.relay_url}/h5/orders?code=forged&state=relay") as resp:
            assert resp.status == 401
            assert "登录已过期" in await resp.text()
        assert not [c for c in jar if c.key == "relay_session"]


async def test_forged_cookie_is_no_session(world: World) -> None:
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as http:
        jar.update_cookies(
            {"relay_session": "InpoYW5neGlhb3Nob3Ui.forged.signature"}, response_url=world.relay.make_url("/")
        )
        async with http.get(f"{world.relay_url}/h5/orders/new", allow_redirects=False) as resp:
            assert resp.status == 302 and "/connect/oauth2/authorize" in resp.headers["Location"]
        async with http.get(f"{world.relay_url}/api/v1/products") as resp:
            assert resp.status == 401 and "企业微信" in (await resp.json())["error"]


async def test_api_and_service_endpoints(world: World) -> None:
    async with world.browser_session("zhangxiaoshou") as http:
        async with http.get(f"{world.relay_url}/api/v1/products") as resp:
            products = await resp.json()
            assert {"series": "淋浴房 K系列", "model": "K5"}.items() <= products[2].items() or any(
                p["model"] == "K5" for p in products
            )
        async with http.get(f"{world.relay_url}/api/v1/customers/phone-check", params={"phone": "123"}) as resp:
            assert (await resp.json())["message"] == "手机号应为 11 位数字，以 1 开头"
        async with http.get(f"{world.relay_url}/api/v1/orders/NOPE") as resp:
            assert resp.status == 404 and (await resp.json())["error"] == "没有找到订单 NOPE"
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

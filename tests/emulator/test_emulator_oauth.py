"""OAuth2 for H5 pages, and the console's "open this link as that member"."""

from __future__ import annotations

from aiohttp import ClientResponse
from yarl import URL

from tests.emulator.support import AGENT_ID, CORP_ID, Emu

REDIRECT = "https://relay.test/h5/order?id=7"


def authorize_params(**overrides: str) -> dict[str, str]:
    params = {
        "appid": CORP_ID,
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "scope": "snsapi_base",
        "state": "order-7",
        "agentid": str(AGENT_ID),
    }
    params.update(overrides)
    return params


async def authorize_as(emu: Emu, userid: str | None, **overrides: str) -> ClientResponse:
    cookies = {"emu_user": userid} if userid else {}
    return await emu.client.get(
        "/connect/oauth2/authorize",
        params=authorize_params(**overrides),
        cookies=cookies,
        allow_redirects=False,
    )


async def test_redirects_with_code_and_state(emu: Emu) -> None:
    resp = await authorize_as(emu, "lisi")
    assert resp.status == 302
    target = URL(resp.headers["Location"])
    assert str(target.with_query(None)) == "https://relay.test/h5/order"
    assert target.query["id"] == "7"  # the page's own query survives
    assert target.query["state"] == "order-7"
    code = target.query["code"]
    answer = await emu.call("GET", "auth/getuserinfo", params={"code": code})
    assert answer == {"errcode": 0, "errmsg": "ok", "userid": "lisi"}


async def test_code_is_one_use(emu: Emu) -> None:
    code = URL((await authorize_as(emu, "lisi")).headers["Location"]).query["code"]
    assert (await emu.call("GET", "auth/getuserinfo", params={"code": code}))["errcode"] == 0
    assert (await emu.call("GET", "auth/getuserinfo", params={"code": code}))["errcode"] == 40029


async def test_code_expires_after_five_minutes(emu: Emu) -> None:
    code = URL((await authorize_as(emu, "lisi")).headers["Location"]).query["code"]
    emu.state.advance_time(301)
    assert (await emu.call("GET", "auth/getuserinfo", params={"code": code}))["errcode"] == 40029


async def test_bad_or_missing_code(emu: Emu) -> None:
    assert (await emu.call("GET", "auth/getuserinfo", params={"code": "forged"}))["errcode"] == 40029
    assert (await emu.call("GET", "auth/getuserinfo"))["errcode"] == 41008


async def test_no_member_chosen(emu: Emu) -> None:
    for userid in (None, "ghost"):
        resp = await authorize_as(emu, userid)
        assert resp.status == 200
        assert "请先在控制台选择成员" in await resp.text()


async def test_wrong_appid_or_agent(emu: Emu) -> None:
    assert (await authorize_as(emu, "lisi", appid="wwother")).status == 400
    assert (await authorize_as(emu, "lisi", agentid="1")).status == 400
    assert (await authorize_as(emu, "lisi", redirect_uri="javascript:alert(1)")).status == 400


async def test_open_sets_member_cookie_and_redirects(emu: Emu) -> None:
    resp = await emu.client.get("/emulator/open", params={"userid": "wangwu", "url": REDIRECT}, allow_redirects=False)
    assert resp.status == 302 and resp.headers["Location"] == REDIRECT
    cookie = resp.cookies["emu_user"]
    assert cookie.value == "wangwu" and cookie["path"] == "/" and cookie["samesite"] == "Lax"


async def test_open_then_oauth_logs_in_that_member(emu: Emu) -> None:
    oauth = URL("https://open.weixin.qq.com/connect/oauth2/authorize").with_query(authorize_params())
    resp = await emu.client.get("/emulator/open", params={"userid": "wangwu", "url": str(oauth)}, allow_redirects=False)
    # A link to the real OAuth host is served by the emulator instead.
    local = URL(resp.headers["Location"])
    assert local.path == "/connect/oauth2/authorize" and local.host == "127.0.0.1"
    follow = await emu.client.get(local.path_qs, allow_redirects=False)  # the client kept the cookie
    code = URL(follow.headers["Location"]).query["code"]
    assert (await emu.call("GET", "auth/getuserinfo", params={"code": code}))["userid"] == "wangwu"


async def test_open_refuses_unknown_member_and_scripts(emu: Emu) -> None:
    bad_user = await emu.client.get("/emulator/open", params={"userid": "ghost", "url": REDIRECT})
    assert bad_user.status == 404
    script = await emu.client.get("/emulator/open", params={"userid": "lisi", "url": "javascript:alert(1)"})
    assert script.status == 400

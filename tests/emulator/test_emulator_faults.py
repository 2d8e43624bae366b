"""Injected faults, for Relay's retry logic: each is used up by the next call of its API."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from emulator import FaultKind
from tests.emulator.support import CORP_ID, SECRET, Emu, text_body


@pytest.mark.parametrize(
    ("kind", "errcode"),
    [(FaultKind.TOKEN_EXPIRED, 42001), (FaultKind.TOKEN_INVALID, 40014), (FaultKind.RATE_LIMIT, 45009)],
)
async def test_error_answers_do_not_process(emu: Emu, kind: FaultKind, errcode: int) -> None:
    token = await emu.token()
    emu.state.inject("message/send", kind)
    assert (await emu.send(text_body("第一次"), token=token))["errcode"] == errcode
    assert emu.state.chat("zhangsan") == []
    assert (await emu.send(text_body("第二次"), token=token))["errcode"] == 0  # used up
    assert emu.state.texts("zhangsan") == ["第二次"]


async def test_server_error_is_502_and_not_processed(emu: Emu) -> None:
    token = await emu.token()
    emu.state.inject("message/send", "server_error")
    resp = await emu.client.post("/cgi-bin/message/send", params={"access_token": token}, json=text_body())
    assert resp.status == 502
    assert emu.state.chat("zhangsan") == []


async def test_drop_after_processing_delivers_then_502(emu: Emu) -> None:
    token = await emu.token()
    emu.state.inject("message/send", "drop_after_processing")
    resp = await emu.client.post(
        "/cgi-bin/message/send",
        params={"access_token": token},
        json={"agentid": 1000002, **text_body("已送达")},
    )
    assert resp.status == 502
    assert emu.state.texts("zhangsan") == ["已送达"]


async def test_timeout_delivers_but_answers_too_late(emu: Emu) -> None:
    token = await emu.token()
    emu.state.timeout_seconds = 0.5
    emu.state.inject("message/send", FaultKind.TIMEOUT)
    with pytest.raises(asyncio.TimeoutError):
        await emu.client.post(
            "/cgi-bin/message/send",
            params={"access_token": token},
            json={"agentid": 1000002, **text_body("丢了回执")},
            timeout=aiohttp.ClientTimeout(total=0.1),
        )
    assert emu.state.texts("zhangsan") == ["丢了回执"]  # like a real lost response
    await asyncio.sleep(0.5)


async def test_count_and_per_api(emu: Emu) -> None:
    emu.state.inject("gettoken", "rate_limit", count=2)
    for _ in range(2):
        resp = await emu.client.get("/cgi-bin/gettoken", params={"corpid": CORP_ID, "corpsecret": SECRET})
        assert (await resp.json())["errcode"] == 45009
    assert await emu.token()
    assert emu.state.calls["gettoken"] == 3
    assert emu.state.calls["message/send"] == 0


async def test_fault_on_update_template_card_and_media(emu: Emu) -> None:
    emu.state.inject("/cgi-bin/message/update_template_card", "token_expired")
    emu.state.inject("media/get", "token_invalid")
    answer = await emu.call("POST", "message/update_template_card", json={})
    assert answer["errcode"] == 42001
    assert (await emu.call("GET", "media/get", params={"media_id": "x"}))["errcode"] == 40014
    assert emu.state.faults.pending() == {}


async def test_calls_are_counted(emu: Emu) -> None:
    await emu.send(text_body())
    await emu.send(text_body())
    assert emu.state.calls["message/send"] == 2
    assert emu.state.calls["gettoken"] == 2


async def test_bad_fault_kind(emu: Emu) -> None:
    with pytest.raises(ValueError):
        emu.state.inject("message/send", "meteor_strike")


async def test_faults_over_http(emu: Emu) -> None:
    resp = await emu.client.post("/emulator/api/faults", json={"api": "message/send", "kind": "rate_limit", "count": 2})
    assert (await resp.json())["pending"] == {"message/send": ["rate_limit", "rate_limit"]}
    assert (await emu.send(text_body()))["errcode"] == 45009
    listing = await (await emu.client.get("/emulator/api/faults")).json()
    assert listing["pending"] == {"message/send": ["rate_limit"]}
    assert listing["calls"]["message/send"] == 1
    await emu.client.post("/emulator/api/faults", json={"clear": True})
    assert emu.state.faults.pending() == {}
    bad = await emu.client.post("/emulator/api/faults", json={"api": "message/send", "kind": "nope"})
    assert bad.status == 400

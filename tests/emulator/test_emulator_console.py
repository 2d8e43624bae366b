"""The console's page and JSON API, as the page (and a Playwright test) drive them."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
from aiohttp import FormData

from tests.emulator.support import AGENT_ID, Emu, Receiver, button_card, card_body, text_body


async def test_page_and_assets(emu: Emu) -> None:
    page = await emu.client.get("/")
    html = await page.text()
    assert page.status == 200 and "企业微信模拟器" in html
    for hook in (
        'id="chat"',
        'id="text-input"',
        'id="send"',
        'id="photo-input"',
        'id="h5-frame"',
        'id="h5-close"',
    ):
        assert hook in html
    assert "http://" not in html and "https://" not in html  # no CDN
    js = await (await emu.client.get("/static/console.js")).text()
    assert "/emulator/api/chat" in js and "data-href" in js
    css = await emu.client.get("/static/console.css")
    assert css.status == 200 and css.content_type == "text/css"


async def test_users(emu: Emu) -> None:
    data = await (await emu.client.get("/emulator/api/users")).json()
    assert data["agent_name"] == "接力"
    assert data["users"][0] == {
        "userid": "zhangsan",
        "name": "张三",
        "department": [1],
        "position": "销售 / 测量派单",
    }


async def test_send_via_console(emu: Emu, receiver: Receiver) -> None:
    resp = await emu.client.post("/emulator/api/send", json={"userid": "zhangsan", "text": "你好"})
    assert await resp.json() == {
        "ok": True,
        "attempts": 1,
        "status": 200,
        "error": None,
        "reply": None,
        "reply_error": None,
    }
    assert receiver.messages[0]["Content"] == "你好"
    bad = await emu.client.post("/emulator/api/send", json={"userid": "ghost", "text": "x"})
    assert bad.status == 404
    empty = await emu.client.post("/emulator/api/send", json={"userid": "zhangsan", "text": "  "})
    assert empty.status == 400


async def test_chat_after_revision_sees_new_and_rewritten_entries(emu: Emu, receiver: Receiver) -> None:
    await emu.client.post("/emulator/api/send", json={"userid": "zhangsan", "text": "下单"})
    sent = await emu.send(card_body(button_card()))
    first = await (await emu.client.get("/emulator/api/chat", params={"userid": "zhangsan"})).json()
    assert [(e["direction"], e["msgtype"]) for e in first["entries"]] == [
        ("in", "text"),
        ("out", "template_card"),
    ]
    card_entry = first["entries"][1]
    assert card_entry["msgid"] == sent["msgid"]
    assert card_entry["payload"]["template_card"]["task_id"] == "task-1"
    rev = first["rev"]
    nothing = await (await emu.client.get("/emulator/api/chat", params={"userid": "zhangsan", "after": rev})).json()
    assert nothing["entries"] == []
    body = {
        "agentid": AGENT_ID,
        "userids": ["zhangsan"],
        "response_code": sent["response_code"],
        "button": {"replace_name": "已派单"},
    }
    await emu.call("POST", "message/update_template_card", json=body)
    changed = await (await emu.client.get("/emulator/api/chat", params={"userid": "zhangsan", "after": rev})).json()
    [entry] = changed["entries"]
    assert entry["seq"] == card_entry["seq"]  # same place in the chat
    assert entry["payload"]["template_card"]["replace_text"] == "已派单"
    assert "button_list" not in entry["payload"]["template_card"]


async def test_click_via_console(emu: Emu, receiver: Receiver) -> None:
    sent = await emu.send(card_body(button_card()))
    resp = await emu.client.post(
        "/emulator/api/click", json={"userid": "zhangsan", "msgid": sent["msgid"], "key": "later"}
    )
    assert (await resp.json())["ok"] is True
    assert receiver.messages[0]["EventKey"] == "later"
    missing = await emu.client.post(
        "/emulator/api/click", json={"userid": "zhangsan", "msgid": sent["msgid"], "key": "nope"}
    )
    assert missing.status == 409


async def test_photo_via_console(emu: Emu, receiver: Receiver) -> None:
    form = FormData()
    form.add_field("userid", "lisi")
    form.add_field("file", b"\x89PNG\r\n\x1a\n fake", filename="尺寸.png", content_type="image/png")
    resp = await emu.client.post("/emulator/api/image", data=form)
    assert (await resp.json())["ok"] is True
    assert receiver.messages[0]["MsgType"] == "image"
    [entry] = (await (await emu.client.get("/emulator/api/chat", params={"userid": "lisi"})).json())["entries"]
    assert entry["direction"] == "in" and entry["msgtype"] == "image"
    assert entry["media"] == {"filename": "尺寸.png", "content_type": "image/png", "size": 13}
    thumb = await emu.client.get(f"/emulator/media/{entry['payload']['image']['media_id']}")
    assert thumb.status == 200 and thumb.headers["Content-Disposition"].startswith("inline")


async def test_enter_callbacks_verify_and_expire(emu: Emu, receiver: Receiver) -> None:
    await emu.client.post("/emulator/api/enter", json={"userid": "wangwu"})
    assert receiver.messages[0]["Event"] == "enter_agent"
    log = await (await emu.client.get("/emulator/api/callbacks")).json()
    [record] = log["callbacks"]
    assert record["kind"] == "enter_agent" and record["userid"] == "wangwu" and record["ok"]
    assert (await (await emu.client.get("/emulator/api/callbacks", params={"after": 1})).json())["callbacks"] == []
    assert (await (await emu.client.post("/emulator/api/verify")).json())["ok"] is True
    token = await emu.token()
    await emu.client.post("/emulator/api/tokens/expire")
    assert (await emu.send(text_body(), token=token))["errcode"] == 42001


async def test_unknown_public_media(emu: Emu) -> None:
    assert (await emu.client.get("/emulator/media/nope")).status == 404


async def next_event(stream: aiohttp.StreamReader) -> tuple[str, str, dict[str, Any]]:
    """(id, event, data) of the next server-sent event, skipping comments and the retry line."""
    fields: dict[str, str] = {}
    async with asyncio.timeout(5):
        while True:
            line = (await stream.readline()).decode().rstrip("\n")
            if line:
                name, _, value = line.partition(": ")
                fields[name] = value
            elif "event" in fields:
                return fields.get("id", ""), fields["event"], json.loads(fields["data"])
            else:
                fields = {}


async def test_chat_stream_sends_entries_as_they_happen_and_resumes(emu: Emu, receiver: Receiver) -> None:
    await emu.client.post("/emulator/api/send", json={"userid": "zhangsan", "text": "下单"})
    resp = await emu.client.get("/emulator/api/chat/stream", params={"userid": "zhangsan"})
    assert resp.status == 200 and resp.content_type == "text/event-stream"
    # What was there already, then each new or changed entry the moment the emulator has it.
    first_id, event, data = await next_event(resp.content)
    assert event == "chat" and [e["payload"]["text"]["content"] for e in data["entries"]] == ["下单"]
    sent = await emu.send(card_body(button_card()))
    card_id, _, data = await next_event(resp.content)
    [entry] = data["entries"]
    assert entry["msgid"] == sent["msgid"] and int(card_id) == data["rev"] > int(first_id)
    body = {
        "agentid": AGENT_ID,
        "userids": ["zhangsan"],
        "response_code": sent["response_code"],
        "button": {"replace_name": "已派单"},
    }
    await emu.call("POST", "message/update_template_card", json=body)
    _, _, data = await next_event(resp.content)
    assert [e["payload"]["template_card"]["replace_text"] for e in data["entries"]] == ["已派单"]
    resp.close()

    # A browser reconnecting says what it had: it gets only what came since.
    await emu.client.post("/emulator/api/send", json={"userid": "zhangsan", "text": "在吗"})
    again = await emu.client.get(
        "/emulator/api/chat/stream", params={"userid": "zhangsan"}, headers={"Last-Event-ID": card_id}
    )
    _, _, data = await next_event(again.content)
    assert [e["msgtype"] for e in data["entries"]] == ["template_card", "text"]  # the update, then the new text
    again.close()

    # One that had more than this emulator ever did (it restarted) starts over.
    ahead = await emu.client.get(
        "/emulator/api/chat/stream", params={"userid": "zhangsan"}, headers={"Last-Event-ID": "999"}
    )
    _, event, _ = await next_event(ahead.content)
    assert event == "reset"
    _, _, data = await next_event(ahead.content)
    assert len(data["entries"]) == 3
    ahead.close()
    missing = await emu.client.get("/emulator/api/chat/stream", params={"userid": "ghost"})
    assert missing.status == 404

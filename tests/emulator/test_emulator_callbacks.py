"""WeCom -> Relay: delivery with retries, members' actions, and passive replies."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from emulator import ClickError, EmulatorState
from tests.emulator.support import AGENT_ID, Emu, Receiver, button_card, card_body, make_config


async def test_retry_after_slow_first_attempt(receiver: Receiver) -> None:
    # The emulator gives up on an answer after 1 s here (WeCom: 5 s); the first attempt is never answered.
    state = EmulatorState(make_config(receiver.url, callback_timeout=1.0))
    receiver.delays.append(60)
    try:
        result = await state.user_sends_text("zhangsan", "在吗")
    finally:
        await state.close()
    assert result.ok and result.attempts == 2 and result.status == 200
    assert len(receiver.raw) == 2
    assert receiver.raw[0] == receiver.raw[1]  # the same request again: same body, signature, nonce
    assert len(receiver.messages) == 1


async def test_retry_on_non_200_then_give_up(emu: Emu, receiver: Receiver) -> None:
    receiver.statuses.extend([500, 502, 503, 500])
    result = await emu.state.user_sends_text("zhangsan", "在吗")
    assert not result.ok
    assert result.attempts == 4 and result.status == 500  # one try and callback_retries=3 more
    assert len(receiver.raw) == 4 and receiver.messages == []
    [record] = emu.state.callbacks
    assert record.kind == "text" and record.userid == "zhangsan" and not record.result.ok


async def test_unreachable_relay() -> None:
    state = EmulatorState(make_config("http://127.0.0.1:9/wecom/callback", callback_retries=1))
    try:
        result = await state.user_sends_text("zhangsan", "喂")
    finally:
        await state.close()
    assert not result.ok and result.attempts == 2 and result.status is None and result.error
    assert state.texts("zhangsan") == [] and state.chat("zhangsan")[0].text == "喂"


async def test_own_messages_recorded_in_chat(emu: Emu, receiver: Receiver) -> None:
    await emu.state.user_sends_text("lisi", "尺寸已量好")
    [entry] = emu.state.chat("lisi")
    assert entry.direction == "in" and entry.text == "尺寸已量好"
    assert entry.msgid == receiver.messages[0]["MsgId"]
    assert emu.state.last_message("lisi", "in") is entry
    assert emu.state.bot_messages("lisi") == []


async def test_image_from_member(emu: Emu, receiver: Receiver) -> None:
    data = b"\xff\xd8\xff\xe0 fake jpeg"
    result = await emu.state.user_sends_image("lisi", data, "现场.jpg")
    assert result.ok
    message = receiver.messages[0]
    assert message["MsgType"] == "image" and message["MsgId"].isdigit()
    # Relay can fetch it both ways: PicUrl, and media/get with the MediaId.
    pic = await emu.client.get(message["PicUrl"].removeprefix(emu.state.base_url))
    assert await pic.read() == data
    resp = await emu.client.get(
        "/cgi-bin/media/get", params={"access_token": await emu.token(), "media_id": message["MediaId"]}
    )
    assert await resp.read() == data and resp.headers["Content-Type"] == "image/jpeg"
    [entry] = emu.state.chat("lisi")
    assert entry.direction == "in" and entry.payload["image"]["media_id"] == message["MediaId"]


async def test_pic_url_uses_configured_or_learned_base(emu: Emu, receiver: Receiver) -> None:
    await emu.client.get("/emulator/api/users")  # any request teaches the emulator its address
    await emu.state.user_sends_image("lisi", b"123456789", "a.jpg")
    assert receiver.messages[0]["PicUrl"].startswith(str(emu.client.make_url("/emulator/media/")))


async def test_click_gives_a_code_for_the_clickers_card_only(emu: Emu, receiver: Receiver) -> None:
    sent = await emu.send(card_body(button_card(), touser="zhangsan|lisi"))
    result = await emu.state.user_clicks("lisi", sent["msgid"], "dispatch:lisi")
    assert result.ok
    code = receiver.messages[0]["ResponseCode"]
    body = {
        "agentid": AGENT_ID,
        "userids": ["lisi"],
        "response_code": code,
        "button": {"replace_name": "已接单"},
    }
    assert (await emu.call("POST", "message/update_template_card", json=body))["errcode"] == 0
    assert emu.state.last_card("lisi").replace_text == "已接单"  # type: ignore[union-attr]
    assert not emu.state.last_card("zhangsan").replaced  # type: ignore[union-attr]
    assert (await emu.call("POST", "message/update_template_card", json=body))["errcode"] == 60140
    # zhangsan is outside the click's scope
    sent_code_body = {**body, "userids": ["zhangsan"]}
    assert (await emu.call("POST", "message/update_template_card", json=sent_code_body))["errcode"] == 60140


async def test_each_click_has_a_new_code(emu: Emu, receiver: Receiver) -> None:
    sent = await emu.send(card_body(button_card()))
    await emu.state.user_clicks("zhangsan", sent["msgid"], "later")
    await emu.state.user_clicks("zhangsan", sent["msgid"], "later")
    codes = {m["ResponseCode"] for m in receiver.messages}
    assert len(codes) == 2 and sent["response_code"] not in codes


async def test_cannot_click_what_is_not_there(emu: Emu, receiver: Receiver) -> None:
    sent = await emu.send(card_body(button_card()))
    with pytest.raises(ClickError):
        await emu.state.user_clicks("zhangsan", sent["msgid"], "no-such-key")
    with pytest.raises(ClickError):
        await emu.state.user_clicks("zhangsan", "no-such-msgid", "later")
    with pytest.raises(ClickError):
        await emu.state.user_clicks("wangwu", sent["msgid"], "later")  # not in wangwu's chat
    body = {
        "agentid": AGENT_ID,
        "userids": ["zhangsan"],
        "response_code": sent["response_code"],
        "button": {"replace_name": "已处理"},
    }
    await emu.call("POST", "message/update_template_card", json=body)
    with pytest.raises(ClickError):
        await emu.state.user_clicks("zhangsan", sent["msgid"], "later")  # grey now
    assert receiver.raw == []


async def test_action_menu_click(emu: Emu, receiver: Receiver) -> None:
    card = button_card(action_menu={"desc": "更多", "action_list": [{"text": "不再提醒", "key": "mute"}]})
    sent = await emu.send(card_body(card))
    await emu.state.user_clicks("zhangsan", sent["msgid"], "mute")
    message = receiver.messages[0]
    assert message["Event"] == "template_card_menu_event" and message["EventKey"] == "mute"
    assert "SelectedItems" not in message


async def test_button_selection_defaults_to_preselected(emu: Emu, receiver: Receiver) -> None:
    selection = {
        "question_key": "measurer",
        "title": "测量师傅",
        "option_list": [{"id": "lisi", "text": "李四"}, {"id": "wangwu", "text": "王五"}],
        "selected_id": "wangwu",
    }
    sent = await emu.send(card_body(button_card(button_selection=selection)))
    await emu.state.user_clicks("zhangsan", sent["msgid"], "dispatch:lisi")
    item = receiver.messages[0]["SelectedItems"]["SelectedItem"]
    assert item == {"QuestionKey": "measurer", "OptionIds": {"OptionId": "wangwu"}}


def passive(reply_xml: str) -> Any:
    return lambda message: reply_xml


async def test_passive_text_reply_shows_in_chat(emu: Emu, receiver: Receiver) -> None:
    receiver.reply = passive(
        "<xml><ToUserName><![CDATA[zhangsan]]></ToUserName><FromUserName><![CDATA[corp]]></FromUserName>"
        "<CreateTime>1</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[收到]]></Content></xml>"
    )
    result = await emu.state.user_sends_text("zhangsan", "你好")
    assert result.reply is not None and result.reply["Content"] == "收到"
    assert emu.state.texts("zhangsan") == ["收到"]


async def test_passive_update_button_reply(emu: Emu, receiver: Receiver) -> None:
    sent = await emu.send(card_body(button_card(), touser="zhangsan|lisi"))
    receiver.reply = passive(
        "<xml><ToUserName><![CDATA[lisi]]></ToUserName><FromUserName><![CDATA[corp]]></FromUserName>"
        "<CreateTime>1</CreateTime><MsgType><![CDATA[update_button]]></MsgType>"
        "<Button><ReplaceName><![CDATA[已派单]]></ReplaceName></Button></xml>"
    )
    await emu.state.user_clicks("lisi", sent["msgid"], "dispatch:lisi")
    assert emu.state.last_card("lisi").replace_text == "已派单"  # type: ignore[union-attr]
    assert not emu.state.last_card("zhangsan").replaced  # type: ignore[union-attr]


async def test_badly_signed_passive_reply_is_ignored(emu: Emu, receiver: Receiver) -> None:
    receiver.reply = passive("<xml><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[x]]></Content></xml>")
    original = receiver.crypto.encrypt_message

    def forged(msg: str, nonce: str, timestamp: str | None = None) -> str:
        return original(msg, nonce, timestamp).replace("<MsgSignature><![CDATA[", "<MsgSignature><![CDATA[0")

    receiver.crypto.encrypt_message = forged  # type: ignore[method-assign]
    result = await emu.state.user_sends_text("zhangsan", "你好")
    assert result.ok and result.reply is None and result.reply_error
    assert emu.state.texts("zhangsan") == []


async def test_wait_for_message(emu: Emu, receiver: Receiver) -> None:
    async def bot_answers() -> None:
        await emu.send({"touser": "zhangsan", "msgtype": "text", "text": {"content": "稍等"}})

    task = asyncio.create_task(bot_answers())
    entry = await emu.state.wait_for_message("zhangsan", msgtype="text", within=2)
    await task
    assert entry.text == "稍等"
    with pytest.raises(TimeoutError):
        await emu.state.wait_for_message("zhangsan", after=entry.seq, within=0.05)


async def test_app_menu_click(emu: Emu, receiver: Receiver) -> None:
    await emu.state.user_clicks_menu("wangwu", "my_orders")
    message = receiver.messages[0]
    assert message["Event"] == "click" and message["EventKey"] == "my_orders"
    assert message["FromUserName"] == "wangwu"

"""wechatpy 1.8.18, which Relay may use, works against the emulator and reads its callbacks."""

from __future__ import annotations

import asyncio
from typing import Any

from wechatpy.enterprise import parse_message
from wechatpy.enterprise.client import WeChatClient

from tests.emulator.support import AGENT_ID, CORP_ID, SECRET, Emu, Receiver, button_card, card_body


class EmulatorClient(WeChatClient):  # type: ignore[misc]
    """wechatpy hard-codes the real host for gettoken; both URLs point at the emulator here."""

    def __init__(self, base: str) -> None:
        self.API_BASE_URL = f"{base}/cgi-bin/"
        super().__init__(CORP_ID, SECRET)

    def fetch_access_token(self) -> Any:
        return self._fetch_access_token(
            url=f"{self.API_BASE_URL}gettoken", params={"corpid": self.corp_id, "corpsecret": self.secret}
        )


async def test_wechatpy_client_sends_text(emu: Emu) -> None:
    client = EmulatorClient(str(emu.client.make_url("")).rstrip("/"))
    answer = await asyncio.to_thread(client.message.send_text, AGENT_ID, ["lisi"], "明天上午测量")
    assert answer["errcode"] == 0
    assert emu.state.texts("lisi") == ["明天上午测量"]
    user = await asyncio.to_thread(client.user.get, "lisi")
    assert user["name"] == "李四"


async def test_wechatpy_parses_callbacks(emu: Emu, receiver: Receiver) -> None:
    await emu.state.user_sends_text("zhangsan", "你好")
    text = parse_message(receiver.messages[0]["_raw"])
    assert text.type == "text" and text.content == "你好" and text.source == "zhangsan"
    assert text.agent == AGENT_ID and text.target == CORP_ID
    sent = await emu.send(card_body(button_card("wp-1")))
    await emu.state.user_clicks("zhangsan", sent["msgid"], "later")
    event = parse_message(receiver.messages[1]["_raw"])
    # wechatpy 1.8.18 has no class for this event: the raw fields are all there is.
    assert event._data["Event"] == "template_card_event"
    assert event._data["TaskId"] == "wp-1" and event._data["EventKey"] == "later"

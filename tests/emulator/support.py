"""Test support: a stand-in for Relay's callback endpoint, the emulator's test config, payload builders.

The receiver checks every callback with its own WeChatCrypto, as Relay would, so a callback
the emulator signs or encrypts wrongly fails here.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import xmltodict
from aiohttp import web
from aiohttp.test_utils import TestClient
from wechatpy.enterprise.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException

from emulator import EmulatorConfig, EmulatorState, EmulatorUser

CORP_ID = "ww5823bf96d3bd56c7"
SECRET = "app-secret-for-tests"
AGENT_ID = 1000002
TOKEN = "QDG6eK"
AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
USERS = (
    EmulatorUser("zhangsan", "张三", [1], "销售 / 测量派单"),
    EmulatorUser("lisi", "李四", [1, 2], "测量师傅"),
    EmulatorUser("wangwu", "王五", [3], "安装师傅"),
)


@dataclass
class Receiver:
    """Relay's POST /wecom/callback, scripted: delays and statuses per request, optional passive replies."""

    crypto: WeChatCrypto = field(default_factory=lambda: WeChatCrypto(TOKEN, AES_KEY, CORP_ID))
    url: str = ""
    raw: list[tuple[dict[str, str], str]] = field(default_factory=list)  # every request, as it arrived
    messages: list[dict[str, Any]] = field(default_factory=list)  # decrypted inner XML of answered ones
    delays: deque[float] = field(default_factory=deque)
    statuses: deque[int] = field(default_factory=deque)
    reply: Callable[[dict[str, Any]], str | None] | None = None  # inner reply XML for a message
    echo_override: str | None = None

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/wecom/callback", self.handle_post)
        app.router.add_get("/wecom/callback", self.handle_get)
        return app

    async def handle_post(self, request: web.Request) -> web.Response:
        body = await request.text()
        self.raw.append((dict(request.query), body))
        if self.delays:
            await asyncio.sleep(self.delays.popleft())
        status = self.statuses.popleft() if self.statuses else 200
        if status != 200:
            return web.Response(status=status)
        q = request.query
        try:
            inner = self.crypto.decrypt_message(body, q["msg_signature"], q["timestamp"], q["nonce"])
        except InvalidSignatureException:
            return web.Response(status=403, text="bad signature")
        message = dict(xmltodict.parse(inner)["xml"])
        message["_raw"] = inner
        self.messages.append(message)
        answer = self.reply(message) if self.reply else None
        if answer is None:
            return web.Response(text="")
        return web.Response(text=self.crypto.encrypt_message(answer, "778899", q["timestamp"]))

    async def handle_get(self, request: web.Request) -> web.Response:
        q = request.query
        try:
            echo = self.crypto.check_signature(q["msg_signature"], q["timestamp"], q["nonce"], q["echostr"])
        except InvalidSignatureException:
            return web.Response(status=403)
        return web.Response(text=self.echo_override if self.echo_override is not None else echo)


def make_config(callback_url: str, **overrides: Any) -> EmulatorConfig:
    config = EmulatorConfig(
        corp_id=CORP_ID,
        corp_secret=SECRET,
        agent_id=AGENT_ID,
        token=TOKEN,
        encoding_aes_key=AES_KEY,
        callback_url=callback_url,
        users=USERS,
        callback_retries=3,
    )
    return replace(config, **overrides)


@dataclass
class Emu:
    client: TestClient[web.Request, web.Application]
    state: EmulatorState

    async def token(self) -> str:
        resp = await self.client.get("/cgi-bin/gettoken", params={"corpid": CORP_ID, "corpsecret": SECRET})
        return str((await resp.json())["access_token"])

    async def call(self, method: str, api: str, *, token: str | None = None, **kwargs: Any) -> dict[str, Any]:
        params = dict(kwargs.pop("params", {}))
        params["access_token"] = token if token is not None else await self.token()
        resp = await self.client.request(method, f"/cgi-bin/{api}", params=params, **kwargs)
        assert resp.status == 200, await resp.text()
        return dict(await resp.json())

    async def send(self, body: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        full = {"agentid": AGENT_ID, **body}
        return await self.call("POST", "message/send", json=full, **kwargs)


def text_body(content: str = "你好", touser: str = "zhangsan", **extra: Any) -> dict[str, Any]:
    return {"touser": touser, "msgtype": "text", "text": {"content": content}, **extra}


def button_card(task_id: str = "task-1", **overrides: Any) -> dict[str, Any]:
    card: dict[str, Any] = {
        "card_type": "button_interaction",
        "source": {"desc": "接力"},
        "main_title": {"title": "新订单待派单", "desc": "客户 王女士"},
        "horizontal_content_list": [{"keyname": "地址", "value": "幸福路 8 号"}],
        "task_id": task_id,
        "button_list": [
            {"text": "派给李四", "style": 1, "key": "dispatch:lisi"},
            {"text": "稍后", "style": 3, "key": "later"},
        ],
    }
    card.update(overrides)
    return card


def card_body(card: dict[str, Any], touser: str = "zhangsan") -> dict[str, Any]:
    return {"touser": touser, "msgtype": "template_card", "template_card": card}

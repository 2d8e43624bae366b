"""Building callbacks the way WeCom does (with wechatpy, not Relay's own crypto), and reading what changed."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

import aiohttp
import xmltodict
from wechatpy.enterprise.crypto import WeChatCrypto

from emulator.callback import Sender, render_xml, template_card_event_xml, text_xml
from infra.config import WecomConfig
from models import InboxMessage, Order, OrderEvent, OutboxMessage, Product, Staff, Task
from tests.support import World

# The settings of the worlds in the modules that play WeCom's faults (`world_settings` there): the client
# gives up on a call after half a second, not the tests' usual two, so a `timeout` fault (WeCom holds its
# answer past the client's wait) costs each test half a second per try; and the outbox waits at most 50 ms
# between tries, so the dozen tries of a message that never gets through take half a second, not two and
# a half. The other calls of those tests, to the emulator in the same process, answer in milliseconds.
QUICK_GIVE_UP = {"wecom": {"request_timeout": 0.5, "max_backoff": 0.05}}


@dataclass(frozen=True)
class Signed:
    body: bytes
    params: dict[str, str]  # msg_signature, timestamp, nonce


def seal(wecom: WecomConfig, inner_xml: str, *, timestamp: int | None = None, nonce: str | None = None) -> Signed:
    """Encrypt and sign an inner XML message as WeCom does for a POST callback (91144)."""
    crypto = WeChatCrypto(wecom.token, wecom.encoding_aes_key, wecom.corp_id)
    ts = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or str(secrets.randbelow(10**10))
    sealed = xmltodict.parse(crypto.encrypt_message(inner_xml, nonce, ts))["xml"]
    body = render_xml([("ToUserName", wecom.corp_id), ("AgentID", str(wecom.agent_id)), ("Encrypt", sealed["Encrypt"])])
    return Signed(body.encode(), {"msg_signature": sealed["MsgSignature"], "timestamp": ts, "nonce": nonce})


def echostr(wecom: WecomConfig, echo: str, *, timestamp: int | None = None) -> dict[str, str]:
    """The GET query WeCom sends when the callback URL is saved: an encrypted echo and its signature."""
    signed = seal(wecom, echo, timestamp=timestamp)
    encrypted = xmltodict.parse(signed.body)["xml"]["Encrypt"]
    return {**signed.params, "echostr": encrypted}


def sender(world: World, userid: str, *, create_time: int | None = None) -> Sender:
    wecom = world.config.wecom
    return Sender(
        corp_id=wecom.corp_id,
        userid=userid,
        agent_id=wecom.agent_id,
        create_time=int(time.time()) if create_time is None else create_time,
    )


def new_msg_id() -> int:
    return 6_000_000_000_000_000_000 + secrets.randbelow(10**15)


def text(world: World, userid: str, content: str, *, msg_id: int | None = None) -> str:
    return text_xml(sender(world, userid), content=content, msg_id=msg_id or new_msg_id())


def card_click(
    world: World, userid: str, *, event_key: str, task_id: str, response_code: str = "", create_time: int | None = None
) -> str:
    return template_card_event_xml(
        sender(world, userid, create_time=create_time),
        event="template_card_event",
        event_key=event_key,
        task_id=task_id,
        card_type="button_interaction",
        response_code=response_code or secrets.token_urlsafe(24),
    )


async def post(
    world: World, body: bytes | Any, params: dict[str, str], *, headers: dict[str, str] | None = None
) -> tuple[int, str]:
    """POST /wecom/callback on Relay's real server; the status and body text."""
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            world.relay.make_url("/wecom/callback"),
            params=params,
            data=body,
            headers={"Content-Type": "text/xml; charset=utf-8", **(headers or {})},
        ) as resp,
    ):
        return resp.status, await resp.text()


async def post_signed(world: World, inner_xml: str, **seal_args: Any) -> tuple[int, str]:
    signed = seal(world.config.wecom, inner_xml, **seal_args)
    return await post(world, signed.body, signed.params)


async def snapshot() -> dict[str, list[Any]]:
    """The rows a callback may change: inbox, outbox, orders and their events."""
    return {
        "inbox": await InboxMessage.all().order_by("id").values_list("id", "dedupe_key", "state"),
        "outbox": await OutboxMessage.all().order_by("id").values_list("id", "state", "payload"),
        "order": await Order.all().order_by("id").values_list("id", "state"),
        "order_event": await OrderEvent.all().order_by("id").values_list("id"),
    }


async def dispatched_measure_task(world: World, *, number: str, measurer: str = "sunceliang") -> Task:
    """An order created by sales and dispatched to a measurer, through the workflow; its task card delivered."""
    from datetime import timedelta

    from infra.timeutil import local_today
    from models import TaskKind
    from workflow.orders import ItemInput, create_order
    from workflow.tasks import dispatch_task

    product = await Product.all().order_by("id").first()
    assert product is not None
    order = await create_order(
        actor=await Staff.get(userid="zhangxiaoshou"),
        number=number,
        customer_name="黄女士",
        phone="13812345678",
        address="上海市徐汇区漕溪北路 88 弄 3 号 1201",
        items=[ItemInput(product_id=product.id, room="主卫")],
        expected_measure_date=local_today() + timedelta(days=2),
    )
    task = await dispatch_task(
        actor=await Staff.get(userid="zhaopaidan"),
        order=order,
        kind=TaskKind.MEASURE,
        worker_id=(await Staff.get(userid=measurer)).id,
        day=local_today() + timedelta(days=1),
    )
    await world.settle()
    return task

"""GET/POST /wecom/callback on Relay's real app: Tencent's vectors, every rejection, re-sends, unknown members.

Callbacks are built with wechatpy (not Relay's own crypto) and posted to the running server, as WeCom posts
them; what is asserted is the HTTP answer, the rows stored and what arrived in the member's chat.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import secrets
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot import callback
from bot.crypto import CallbackCrypto, CallbackRejected
from cards.keys import TaskAnswerKey
from emulator.callback import render_xml, text_xml
from handlers import NOT_A_MEMBER
from infra.config import WecomConfig
from models import InboxMessage, MessageState, Order, OrderEvent, Staff, Task, TaskState
from tests.bot.support import (
    card_click,
    dispatched_measure_task,
    echostr,
    post,
    post_signed,
    seal,
    sender,
    snapshot,
    text,
)
from tests.support import World

HELP_TITLE = "接力 · 可以这样和我说"
STALE_BUTTON = "这个按钮已失效，请发送“我的任务”查看最新任务。"

# Tencent's published vectors (wecom-protocol.md).
VECTOR = WecomConfig(
    corp_id="wx5823bf96d3bd56c7", token="QDG6eK", encoding_aes_key="jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
)
VERIFY = {
    "msg_signature": "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3",
    "timestamp": "1409659589",
    "nonce": "263014780",
    "echostr": "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ==",
}
POST_ENCRYPT = (
    "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvu"
    "JTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwG"
    "c2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9"
    "EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0"
    "lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q=="
)
POST_PARAMS = {
    "msg_signature": "477715d11cdb4164915debcba66cb864d751f3e6",
    "timestamp": "1409659813",
    "nonce": "1372623149",
}
POST_BODY = render_xml([("ToUserName", VECTOR.corp_id), ("Encrypt", POST_ENCRYPT), ("AgentID", "218")]).encode()


def vector_crypto() -> CallbackCrypto:
    return CallbackCrypto(token=VECTOR.token, encoding_aes_key=VECTOR.encoding_aes_key, corp_id=VECTOR.corp_id)


@pytest.fixture
async def vector_server() -> AsyncIterator[TestServer]:
    """Relay's callback routes, keyed with the vector's secrets (the world has its own corp id)."""
    app = web.Application()
    app[callback.CALLBACK_CRYPTO] = vector_crypto()
    callback.add_routes(app)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield server
    await server.close()


def sha1_signature(token: str, timestamp: str, nonce: str, encrypted: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypted])).encode()).hexdigest()


# -- Tencent's vectors ------------------------------------------------------------------------------


def test_url_verification_vector() -> None:
    assert vector_crypto().verify_url(
        signature=VERIFY["msg_signature"],
        timestamp=VERIFY["timestamp"],
        nonce=VERIFY["nonce"],
        echostr=VERIFY["echostr"],
    ) == ("1616140317555161061")


async def test_url_verification_vector_over_http(vector_server: TestServer) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(vector_server.make_url("/wecom/callback"), params=VERIFY) as resp:
            assert resp.status == 200
            # Byte for byte: no quotes, BOM or newline around the echo (90238).
            assert await resp.read() == b"1616140317555161061"
        forged = {**VERIFY, "msg_signature": "0" * 40}
        async with session.get(vector_server.make_url("/wecom/callback"), params=forged) as resp:
            assert resp.status == 403
            assert await resp.read() != b"1616140317555161061"


def test_decryption_vector() -> None:
    message = vector_crypto().decrypt_callback(
        body=POST_BODY,
        signature=POST_PARAMS["msg_signature"],
        timestamp=POST_PARAMS["timestamp"],
        nonce=POST_PARAMS["nonce"],
    )
    assert message["FromUserName"] == "mycreate"
    assert message["MsgType"] == "text"
    assert message["Content"] == "hello"
    assert message["MsgId"] == "4561255354251345929"
    assert message["AgentID"] == "218"


def test_decryption_vector_with_wrong_signature_is_refused() -> None:
    with pytest.raises(CallbackRejected) as refused:
        vector_crypto().decrypt_callback(
            body=POST_BODY, signature="0" * 40, timestamp=POST_PARAMS["timestamp"], nonce=POST_PARAMS["nonce"]
        )
    assert refused.value.status == 403


async def test_vector_replayed_years_later_is_refused(vector_server: TestServer) -> None:
    # A genuinely signed message from 2014: the signature is right, the timestamp makes it a replay.
    async with aiohttp.ClientSession() as session:
        async with session.post(vector_server.make_url("/wecom/callback"), params=POST_PARAMS, data=POST_BODY) as resp:
            assert resp.status == 403
            assert "stale" in await resp.text()


# -- GET URL verification through Relay's app --------------------------------------------------------


async def test_url_verification_answers_the_decrypted_echo(world: World) -> None:
    echo = str(secrets.randbelow(10**19))
    params = echostr(world.config.wecom, echo)
    async with aiohttp.ClientSession() as session:
        async with session.get(world.relay.make_url("/wecom/callback"), params=params) as resp:
            assert resp.status == 200
            assert await resp.read() == echo.encode()
    # And WeCom's own check of the URL, as it runs when the URL is saved, passes.
    assert await world.emu.verify_url()


@pytest.mark.parametrize("missing", ["msg_signature", "timestamp", "nonce", "echostr"])
async def test_url_verification_without_a_parameter_is_400(world: World, missing: str) -> None:
    params = echostr(world.config.wecom, "12345")
    del params[missing]
    async with aiohttp.ClientSession() as session:
        async with session.get(world.relay.make_url("/wecom/callback"), params=params) as resp:
            assert resp.status == 400
            assert "12345" not in await resp.text()


async def test_url_verification_with_a_forged_signature_is_403(world: World) -> None:
    params = {**echostr(world.config.wecom, "12345"), "msg_signature": "f" * 40}
    async with aiohttp.ClientSession() as session:
        async with session.get(world.relay.make_url("/wecom/callback"), params=params) as resp:
            assert resp.status == 403
            assert "12345" not in await resp.text()


# -- rejections: a clear answer, nothing stored, nothing sent --------------------------------------


async def assert_refused(world: World, status: int, body: bytes | AsyncIterator[bytes], params: dict[str, str]) -> str:
    before = await snapshot()
    chat_before = world.emu.chats.revision
    answer_status, answer = await post(world, body, params)
    assert answer_status == status, answer
    await world.settle()
    assert await snapshot() == before
    assert world.emu.chats.revision == chat_before
    return answer


async def test_bad_signature_is_403_and_nothing_is_stored(world: World) -> None:
    signed = seal(world.config.wecom, text(world, "zhangxiaoshou", "帮助"))
    forged = {**signed.params, "msg_signature": "0" * 40}
    await assert_refused(world, 403, signed.body, forged)


async def test_signature_by_another_token_is_403(world: World) -> None:
    other = WecomConfig(
        corp_id=world.config.wecom.corp_id,
        agent_id=world.config.wecom.agent_id,
        token="not-relays-token",
        encoding_aes_key=world.config.wecom.encoding_aes_key,
    )
    signed = seal(other, text(world, "zhangxiaoshou", "帮助"))
    await assert_refused(world, 403, signed.body, signed.params)


async def test_signature_over_another_timestamp_is_403(world: World) -> None:
    # The signature binds the timestamp: moving it (to dodge the replay check) breaks the signature.
    signed = seal(world.config.wecom, text(world, "zhangxiaoshou", "帮助"), timestamp=int(time.time()) - 3600)
    moved = {**signed.params, "timestamp": str(int(time.time()))}
    await assert_refused(world, 403, signed.body, moved)


def _signed_encrypt(world: World, encrypted: str) -> tuple[bytes, dict[str, str]]:
    """A body whose Encrypt is correctly signed but cannot be decrypted into a message."""
    wecom = world.config.wecom
    ts, nonce = str(int(time.time())), "424242"
    body = render_xml([("ToUserName", wecom.corp_id), ("AgentID", str(wecom.agent_id)), ("Encrypt", encrypted)])
    return body.encode(), {
        "msg_signature": sha1_signature(wecom.token, ts, nonce, encrypted),
        "timestamp": ts,
        "nonce": nonce,
    }


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not xml at all",
        b"<xml><Encrypt><![CDATA[abc]]></Encrypt>",  # unterminated
        b"<root><Encrypt><![CDATA[abc]]></Encrypt></root>",  # not <xml>
        b"<xml><ToUserName><![CDATA[ww]]></ToUserName></xml>",  # no Encrypt
        b"<xml><Encrypt></Encrypt></xml>",  # empty Encrypt
        b"<xml><Encrypt><a>nested</a></Encrypt></xml>",
        b'<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY e "boom">]><xml><Encrypt>&e;</Encrypt></xml>',
    ],
    ids=["empty", "text", "unterminated", "wrong-root", "no-encrypt", "empty-encrypt", "nested-encrypt", "entity"],
)
async def test_malformed_outer_xml_is_400(world: World, body: bytes) -> None:
    params = {"msg_signature": "0" * 40, "timestamp": str(int(time.time())), "nonce": "1"}
    await assert_refused(world, 400, body, params)


async def test_signed_garbage_that_does_not_decrypt_is_400(world: World) -> None:
    for garbage in (
        base64.b64encode(secrets.token_bytes(64)).decode(),  # valid base64, wrong key / padding
        "this is %% not base64",
        base64.b64encode(b"short").decode(),
    ):
        body, params = _signed_encrypt(world, garbage)
        await assert_refused(world, 400, body, params)


async def test_message_for_another_corp_is_400(world: World) -> None:
    # Same token and key, another receiveid: the plaintext names a corp that is not Relay's.
    other = WecomConfig(
        corp_id="wwsomeoneelse0001",
        agent_id=world.config.wecom.agent_id,
        token=world.config.wecom.token,
        encoding_aes_key=world.config.wecom.encoding_aes_key,
    )
    signed = seal(other, text(world, "zhangxiaoshou", "帮助"))
    await assert_refused(world, 400, signed.body, signed.params)


@pytest.mark.parametrize(
    "inner",
    [
        "not xml inside",
        "<xml><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[hi]]></Content></xml>",  # no FromUserName
        "<xml><FromUserName><![CDATA[zhangxiaoshou]]></FromUserName><CreateTime>soon</CreateTime>"
        "<MsgType><![CDATA[text]]></MsgType></xml>",
        "<xml><FromUserName><![CDATA[zhangxiaoshou]]></FromUserName><CreateTime>1</CreateTime>"
        "<MsgType><![CDATA[image]]></MsgType><MsgId>9</MsgId></xml>",  # image without MediaId
    ],
    ids=["not-xml", "no-sender", "bad-time", "image-without-media"],
)
async def test_signed_message_that_cannot_be_handled_is_400(world: World, inner: str) -> None:
    signed = seal(world.config.wecom, inner)
    await assert_refused(world, 400, signed.body, signed.params)


FROM = "<FromUserName><![CDATA[zhangxiaoshou]]></FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType>"


@pytest.mark.parametrize(
    "inner",
    [
        # A DTD is never in WeCom's XML; each of these is refused whole, used or not.
        f'<!DOCTYPE xml [<!ENTITY e "boom">]><xml>{FROM}<Content>&e;</Content><MsgId>1</MsgId></xml>',
        f'<!DOCTYPE xml [<!ENTITY e "unused">]><xml>{FROM}<Content>帮助</Content><MsgId>2</MsgId></xml>',
        '<!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
        '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>'
        f"<xml>{FROM}<Content>&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;</Content><MsgId>3</MsgId></xml>",
        f'<!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]><xml>{FROM}<Content>&x;</Content><MsgId>4</MsgId></xml>',
        f'<!DOCTYPE xml [<!ENTITY % p SYSTEM "http://127.0.0.1:9/evil.dtd"> %p;]><xml>{FROM}<MsgId>5</MsgId></xml>',
        f'<!DOCTYPE xml SYSTEM "http://127.0.0.1:9/evil.dtd"><xml>{FROM}<Content>帮助</Content><MsgId>6</MsgId></xml>',
    ],
    ids=["entity", "unused-entity", "billion-laughs", "external-entity", "parameter-entity", "external-dtd"],
)
async def test_signed_message_with_a_dtd_is_400(world: World, inner: str) -> None:
    # Signed and sealed correctly: only the inner XML is hostile. Nothing is stored, nobody is answered.
    signed = seal(world.config.wecom, inner)
    answer = await assert_refused(world, 400, signed.body, signed.params)
    assert "DTD" in answer


@pytest.mark.parametrize("missing", ["msg_signature", "timestamp", "nonce"])
async def test_missing_query_parameter_is_400(world: World, missing: str) -> None:
    signed = seal(world.config.wecom, text(world, "zhangxiaoshou", "帮助"))
    params = dict(signed.params)
    del params[missing]
    await assert_refused(world, 400, signed.body, params)


@pytest.mark.parametrize("age", [11 * 60, 24 * 3600, -11 * 60], ids=["11-minutes-old", "a-day-old", "from-the-future"])
async def test_replayed_old_message_is_403(world: World, age: int) -> None:
    signed = seal(world.config.wecom, text(world, "zhangxiaoshou", "帮助"), timestamp=int(time.time()) - age)
    answer = await assert_refused(world, 403, signed.body, signed.params)
    assert "stale" in answer


async def test_signed_non_numeric_timestamp_is_400(world: World) -> None:
    signed = seal(world.config.wecom, text(world, "zhangxiaoshou", "帮助"))
    wecom = world.config.wecom
    encrypted = signed.body.decode().split("<Encrypt><![CDATA[")[1].split("]]>")[0]
    params = {
        "msg_signature": sha1_signature(wecom.token, "yesterday", "7", encrypted),
        "timestamp": "yesterday",
        "nonce": "7",
    }
    await assert_refused(world, 400, signed.body, params)


async def test_message_a_few_minutes_late_is_accepted(world: World) -> None:
    # WeCom's re-sends and slow networks arrive minutes late; only a replay beyond the window is refused.
    status, body = await post_signed(world, text(world, "zhangxiaoshou", "帮助"), timestamp=int(time.time()) - 8 * 60)
    assert (status, body) == (200, "")
    await world.settle()
    assert [c.title for c in world.emu.cards("zhangxiaoshou")] == [HELP_TITLE]


async def test_oversize_body_is_413(world: World) -> None:
    signed = seal(world.config.wecom, text(world, "zhangxiaoshou", "帮助"))
    padding = b"<!--" + b"x" * (70 * 1024) + b"-->"
    await assert_refused(world, 413, signed.body + padding, signed.params)


async def test_oversize_body_without_content_length_is_413(world: World) -> None:
    signed = seal(world.config.wecom, text(world, "zhangxiaoshou", "帮助"))

    async def chunks() -> AsyncIterator[bytes]:
        yield signed.body
        for _ in range(10):
            await asyncio.sleep(0.01)
            yield b"<!--" + b"x" * 8192 + b"-->"

    await assert_refused(world, 413, chunks(), signed.params)


async def test_message_arriving_in_pieces_is_read_whole(world: World) -> None:
    # TCP may deliver a callback in several segments; the handler must read the whole body, not the first one.
    signed = seal(world.config.wecom, text(world, "zhangxiaoshou", "帮助"))
    half = len(signed.body) // 2

    async def pieces() -> AsyncIterator[bytes]:
        yield signed.body[:half]
        await asyncio.sleep(0.05)
        yield signed.body[half:]

    status, body = await post(world, pieces(), signed.params)
    assert (status, body) == (200, "")
    await world.settle()
    assert [c.title for c in world.emu.cards("zhangxiaoshou")] == [HELP_TITLE]


# -- re-sends: stored once, handled once ------------------------------------------------------------


async def test_message_posted_twice_is_handled_once(world: World) -> None:
    inner = text(world, "zhangxiaoshou", "帮助")
    first = seal(world.config.wecom, inner)
    # WeCom's re-send: the identical request, then the same message signed again with a new nonce.
    answers = [
        await post(world, first.body, first.params),
        await post(world, first.body, first.params),
        await post_signed(world, inner),
    ]
    assert answers == [(200, "")] * 3
    await world.settle()
    assert await InboxMessage.all().count() == 1
    assert (await InboxMessage.get()).state == MessageState.DONE
    assert [c.title for c in world.emu.cards("zhangxiaoshou")] == [HELP_TITLE]
    assert world.emu.texts("zhangxiaoshou") == []


async def test_concurrent_resends_store_one_row(world: World) -> None:
    inner = text(world, "lixiaoshou", "帮助")
    answers = await asyncio.gather(*(post_signed(world, inner) for _ in range(5)))
    assert answers == [(200, "")] * 5
    await world.settle()
    assert await InboxMessage.all().count() == 1
    assert [c.title for c in world.emu.cards("lixiaoshou")] == [HELP_TITLE]


async def test_a_burst_of_messages_and_resends_stores_each_once(world: World) -> None:
    # 30 messages from three members arrive at once, each also re-sent in the same burst: on SQLite they
    # share statements (one commit for those that wait together), and still each is stored and handled once.
    members = ["zhangxiaoshou", "lixiaoshou", "sunceliang"]
    inners = [text(world, members[i % 3], "帮助") for i in range(30)]
    inserts: list[str] = []
    sql_log = logging.getLogger("tortoise.db_client")
    catch = CatchInserts(inserts)
    sql_log.addHandler(catch)
    level = sql_log.level
    sql_log.setLevel(logging.DEBUG)
    try:
        answers = await asyncio.gather(*(post_signed(world, inner) for inner in inners + inners))
    finally:
        sql_log.removeHandler(catch)
        sql_log.setLevel(level)
    assert answers == [(200, "")] * 60
    assert await InboxMessage.all().count() == 30
    if world.config.database.url.startswith("sqlite"):
        assert len(inserts) < 60, f"the burst took one statement per callback: {len(inserts)}"
    await world.settle()
    assert set(await InboxMessage.all().values_list("state", flat=True)) == {MessageState.DONE}
    for member in members:
        assert [c.title for c in world.emu.cards(member)] == [HELP_TITLE] * 10


class CatchInserts(logging.Handler):
    def __init__(self, into: list[str]) -> None:
        super().__init__(logging.DEBUG)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("INSERT INTO inbox"):
            self.into.append(record.getMessage())


async def test_two_messages_with_the_same_text_are_two_messages(world: World) -> None:
    # Same content, same second, different MsgId: the member asked twice and gets two answers.
    assert await post_signed(world, text(world, "zhangxiaoshou", "帮助")) == (200, "")
    assert await post_signed(world, text(world, "zhangxiaoshou", "帮助")) == (200, "")
    await world.settle()
    assert await InboxMessage.all().count() == 2
    assert [c.title for c in world.emu.cards("zhangxiaoshou")] == [HELP_TITLE, HELP_TITLE]


async def test_card_click_posted_twice_is_handled_once(world: World) -> None:
    # template_card_event has no MsgId: the re-send is recognised by member + time + event + task + key.
    click = card_click(world, "sunceliang", event_key="zz:1", task_id="stale-1-abcdef", create_time=int(time.time()))
    assert await post_signed(world, click) == (200, "")
    assert await post_signed(world, click) == (200, "")
    await world.settle()
    assert await InboxMessage.all().count() == 1
    assert world.emu.texts("sunceliang") == [STALE_BUTTON]


async def test_click_with_the_longest_fields_wecom_allows_is_stored_once(world: World) -> None:
    # EventKey may be 1024 bytes and TaskId 128 (90236); the ResponseCode's length is not bounded by the doc.
    click = card_click(
        world,
        "sunceliang",
        event_key="zz:" + "k" * 1021,
        task_id="t" * 128,
        response_code="R" * 200,
        create_time=int(time.time()),
    )
    assert await post_signed(world, click) == (200, "")
    assert await post_signed(world, click) == (200, "")
    await world.settle()
    assert await InboxMessage.all().count() == 1
    assert world.emu.texts("sunceliang") == [STALE_BUTTON]


async def test_two_different_clicks_in_the_same_second_are_both_handled(world: World) -> None:
    # Same member, second and card, another button: not a re-send. (The keys get different answers: WeCom's
    # duplicate check would swallow a second identical text within Relay's window.)
    now = int(time.time())
    for key in ("zz:1", TaskAnswerKey(task_id=999999, accept=1).pack()):
        click = card_click(world, "sunceliang", event_key=key, task_id="stale-1-abcdef", create_time=now)
        assert await post_signed(world, click) == (200, "")
    await world.settle()
    assert await InboxMessage.all().count() == 2
    assert world.emu.texts("sunceliang") == [STALE_BUTTON, "任务不存在"]


async def test_accepting_a_task_posted_twice_accepts_once(world: World) -> None:
    task = await dispatched_measure_task(world, number="LS-RESEND-1")
    order = await Order.get(id=task.order_id)
    card = world.card("sunceliang", "新测量任务")
    accept = TaskAnswerKey(task_id=task.id, accept=1).pack()
    code = world.emu.messages.issue_response_code(card.msgid, ("sunceliang",))
    click = card_click(world, "sunceliang", event_key=accept, task_id=card.task_id, response_code=code)
    events_before = await OrderEvent.filter(order_id=order.id).count()

    assert await post_signed(world, click) == (200, "")
    assert await post_signed(world, click) == (200, "")
    await world.settle()

    assert (await Task.get(id=task.id)).state == TaskState.ACCEPTED
    assert await OrderEvent.filter(order_id=order.id).count() == events_before + 1
    assert world.card("sunceliang", "新测量任务").replace_text == "已接单"
    # Handled twice, the second pass would have told the measurer the task was already taken.
    assert world.emu.texts("sunceliang") == []
    assert await InboxMessage.filter(userid="sunceliang").count() == 1


# -- members Relay does not know ---------------------------------------------------------------------


async def test_unknown_member_is_told_once_and_nothing_else_changes(world: World) -> None:
    # In the corp's directory (the emulator's), not in Relay's staff.
    await Staff.filter(userid="weishouhou").delete()
    staff_before = await Staff.all().order_by("id").values_list("id", "userid", "roles", "active")
    orders_before = await Order.all().count()
    inner = text(world, "weishouhou", "帮助")

    assert await post_signed(world, inner) == (200, "")
    assert await post_signed(world, inner) == (200, "")  # WeCom's re-send
    await world.settle()

    assert world.emu.texts("weishouhou") == [NOT_A_MEMBER]
    assert NOT_A_MEMBER.startswith("你还不是接力的成员")
    assert world.emu.cards("weishouhou") == []
    assert await Staff.all().order_by("id").values_list("id", "userid", "roles", "active") == staff_before
    assert await Order.all().count() == orders_before
    # Nobody else heard anything.
    for user in world.emu.directory.all():
        if user.userid != "weishouhou":
            assert world.emu.bot_messages(user.userid) == []


async def test_unknown_member_entering_the_app_hears_nothing(world: World) -> None:
    await Staff.filter(userid="weishouhou").delete()
    enter = render_xml(
        [*sender(world, "weishouhou").head("event"), ("Event", "enter_agent"), ("EventKey", ""), ("AgentID", 1)]
    )
    assert await post_signed(world, enter) == (200, "")
    await world.settle()
    assert world.emu.bot_messages("weishouhou") == []
    assert (await InboxMessage.get()).state == MessageState.DONE


async def test_deactivated_member_is_told_they_are_not_a_member(world: World) -> None:
    await Staff.filter(userid="lixiaoshou").update(active=False)
    assert await post_signed(world, text_xml(sender(world, "lixiaoshou"), content="我的任务", msg_id=77)) == (200, "")
    await world.settle()
    assert world.emu.texts("lixiaoshou") == [NOT_A_MEMBER]
    assert world.emu.cards("lixiaoshou") == []

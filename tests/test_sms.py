"""SMS through the local Tencent Cloud SMS stand-in (emulator/tencent_sms.py), which checks the TC3
signature and the request: queued with the change, sent after commit, never twice."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from datetime import time as clock_time
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer
from tortoise.transactions import in_transaction

from emulator.tencent_sms import TencentSmsStandIn, create_app
from infra.sms import Outcome, TencentSms
from infra.timeutil import local_moment, local_today, utcnow
from models import CallState, LeadSource, OrderState, OrgUnit, SmsMessage, Staff
from tests.support import World, serve, start_world
from tests.test_permissions import at_state
from workflow import notify
from workflow.admin import ensure_unit
from workflow.customer_link import customer_page_url
from workflow.errors import Invalid
from workflow.leads import LeadInput, create_lead
from workflow.sms import queue_sms, sms_problems

PHONE = "13900000000"  # the test orders' customer
KEYS = {"secret_id": "AKIDrelaytest", "secret_key": "relay-test-sms-key", "sdk_app_id": "1400006666"}


@pytest.fixture
async def stand_in() -> AsyncIterator[tuple[TencentSmsStandIn, TestServer]]:
    sms = TencentSmsStandIn(**KEYS, sign_name="接力家居", templates={"1000001": 2, "1000002": 5}, hold_seconds=3.0)
    server = await serve(create_app(sms))
    yield sms, server
    await server.close()


@pytest.fixture
async def sms_world(
    database: str, redis_url: str, tmp_path: Path, stand_in: tuple[TencentSmsStandIn, TestServer]
) -> AsyncIterator[World]:
    settings = {
        **KEYS,
        "provider": "tencent",
        "sign_name": "接力家居",
        "endpoint": str(stand_in[1].make_url("/")),
        "request_timeout": 1.0,
        "retry_seconds": 0.1,
        "templates": {"milestone": "1000001", "lead_booked": "1000002"},
    }
    async with start_world(
        database_url=database, redis_url=redis_url, storage=tmp_path / "files", extra={"sms": settings}
    ) as world:
        yield world


async def settled(world: World, message_id: int, within: float = 10.0) -> SmsMessage:
    """The text once it has left the queue (sent, failed or unknown); waits for the event, no fixed sleep."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        row = await SmsMessage.get(id=message_id)
        if row.state not in (CallState.QUEUED, CallState.SENDING):
            return row
        assert world.services.customer_calls is not None
        world.services.customer_calls.wake()
        await asyncio.sleep(0.02)
    raise AssertionError("the text was not handled in time")


async def queued(order_id: int, *, phone: str = PHONE) -> int:
    async with in_transaction():
        await queue_sms(
            phone=phone,
            template="milestone",
            params={"1": "CT", "2": "您的订单已到货"},
            purpose="test",
            order_id=order_id,
        )
    row = await SmsMessage.filter(order_id=order_id).order_by("-id").first()
    assert row is not None
    return row.id


async def test_sent_once_after_commit_with_a_valid_signature(
    sms_world: World, stand_in: tuple[TencentSmsStandIn, TestServer], caplog: pytest.LogCaptureFixture
) -> None:
    sms, _ = stand_in
    caplog.set_level(logging.DEBUG)
    order = await at_state("SMS001", OrderState.CREATED)
    # Rolled back with its transaction: nothing queued, nothing sent.
    with pytest.raises(RuntimeError):
        async with in_transaction():
            await queue_sms(phone=PHONE, template="milestone", params={"1": "a", "2": "b"}, purpose="x")
            raise RuntimeError
    assert await SmsMessage.all().count() == 0
    row = await settled(sms_world, await queued(order.id))
    assert row.state == CallState.DONE and row.provider_serial
    [text] = sms.sent_to(PHONE)
    assert text.phone == f"+86{PHONE}" and text.template_id == "1000001" and text.params == ["CT", "您的订单已到货"]
    assert sms.requests == 1
    assert PHONE not in caplog.text
    # Bad input: refused at once, nothing queued.
    with pytest.raises(Invalid):
        async with in_transaction():
            await queue_sms(phone="12345", template="milestone", params={}, purpose="x")


async def test_a_permanent_error_is_not_retried_and_stays_visible(
    sms_world: World, stand_in: tuple[TencentSmsStandIn, TestServer]
) -> None:
    sms, _ = stand_in
    order = await at_state("SMS002", OrderState.CREATED)
    for code, whole in (
        ("LimitExceeded.PhoneNumberDailyLimit", False),
        ("FailedOperation.PhoneNumberInBlacklist", False),
        ("InvalidParameterValue.IncorrectPhoneNumber", False),
        ("UnauthorizedOperation.RequestPermissionDeny", True),
    ):
        before = sms.requests
        sms.fail_next(code, whole_request=whole)
        row = await settled(sms_world, await queued(order.id))
        assert row.state == CallState.FAILED and code in row.last_error
        assert sms.requests == before + 1  # one attempt, no retry
    assert not sms.sent
    assert len(await sms_problems(order.id)) == 4


async def test_a_transient_error_is_retried_and_delivered_once(
    sms_world: World, stand_in: tuple[TencentSmsStandIn, TestServer]
) -> None:
    sms, _ = stand_in
    order = await at_state("SMS003", OrderState.CREATED)
    sms.fail_next("LimitExceeded.PhoneNumberThirtySecondLimit")
    sms.fail_next("RequestLimitExceeded", whole_request=True)
    row = await settled(sms_world, await queued(order.id))
    assert row.state == CallState.DONE and row.attempts == 3
    assert len(sms.sent_to(PHONE)) == 1 and sms.requests == 3


async def test_an_unknown_outcome_is_never_sent_again(
    sms_world: World, stand_in: tuple[TencentSmsStandIn, TestServer]
) -> None:
    sms, _ = stand_in
    order = await at_state("SMS004", OrderState.CREATED)
    sms.fail_next("timeout")  # the stand-in sends, the answer comes after Relay stopped waiting
    row = await settled(sms_world, await queued(order.id))
    assert row.state == CallState.UNKNOWN
    sms.fail_next("InternalError.Timeout")
    other = await settled(sms_world, await queued(order.id))
    assert other.state == CallState.UNKNOWN
    assert sms.requests == 2 and len(sms.sent_to(PHONE)) == 1
    assert {r.id for r in await sms_problems(order.id)} == {row.id, other.id}


async def test_the_stand_in_refuses_a_bad_signature(stand_in: tuple[TencentSmsStandIn, TestServer]) -> None:
    sms, server = stand_in
    endpoint = str(server.make_url("/"))
    common = {"sdk_app_id": KEYS["sdk_app_id"], "sign_name": "接力家居", "region": "ap-guangzhou", "endpoint": endpoint}
    wrong = TencentSms(secret_id=KEYS["secret_id"], secret_key="not-the-key", **common)
    try:
        result = await wrong.send(phone=PHONE, template_id="1000001", params=["a", "b"])
    finally:
        await wrong.close()
    assert result.outcome is Outcome.REFUSED and result.code == "AuthFailure.SignatureFailure"
    right = TencentSms(secret_id=KEYS["secret_id"], secret_key=KEYS["secret_key"], **common)
    try:
        unapproved = await right.send(phone=PHONE, template_id="999", params=["a", "b"])
        sent = await right.send(phone=PHONE, template_id="1000001", params=["a", "b"])
    finally:
        await right.close()
    assert unapproved.code == "FailedOperation.TemplateIncorrectOrUnapproved"
    assert sent.outcome is Outcome.SENT and len(sms.sent) == 1


async def test_a_milestone_card_offers_sms_when_configured(
    sms_world: World, stand_in: tuple[TencentSmsStandIn, TestServer]
) -> None:
    sms, _ = stand_in
    order = await at_state("SMS005", OrderState.CREATED)
    async with in_transaction():
        await notify.customer_milestone(order, "arrived")
    await sms_world.settle()
    card = sms_world.card("zhangxiaoshou", "通知客户：货已到齐")
    assert "客户二维码" in card.button_texts  # no WeChat contact yet: the QR code instead of 发给客户
    await sms_world.tap("zhangxiaoshou", card, "发短信")
    row = await SmsMessage.get(order_id=order.id)
    assert (await settled(sms_world, row.id)).state == CallState.DONE
    [text] = sms.sent_to(PHONE)
    assert text.params[0] == order.number and customer_page_url(order).rsplit(".", 2)[0] in text.params[1]


async def test_a_text_left_mid_call_by_a_dead_worker_is_not_sent_again(
    sms_world: World, stand_in: tuple[TencentSmsStandIn, TestServer]
) -> None:
    sms, _ = stand_in
    order = await at_state("SMS006", OrderState.CREATED)
    past = utcnow() - timedelta(minutes=1)
    vault = sms_world.services.runtime.vault
    row = await SmsMessage.create(
        phone_encrypted=vault.encrypt(PHONE),
        template="milestone",
        params={"1": "a", "2": "b"},
        purpose="test",
        order=order,
        state=CallState.SENDING,  # a worker had started the call when it died
        locked_until=past,
        next_attempt_at=past,
    )
    assert (await settled(sms_world, row.id)).state == CallState.UNKNOWN
    assert sms.requests == 0 and not sms.sent


async def test_a_booking_texts_the_customer_its_number_and_the_stores_address(
    sms_world: World, stand_in: tuple[TencentSmsStandIn, TestServer]
) -> None:
    sms, _ = stand_in
    store = await ensure_unit("朗斯家居/华东区/上海徐汇店")
    await OrgUnit.filter(id=store.id).update(address="上海市徐汇区漕溪北路 88 号")
    store = await OrgUnit.get(id=store.id)
    when = local_moment(local_today() + timedelta(days=1), clock_time(14, 30))
    lead = await create_lead(
        actor=await Staff.get(userid="fangqiantai"),
        store=store,
        data=LeadInput(name="钱女士", phone="13912345678", wanted_at=when),
        source=LeadSource.STAFF,
    )
    row = await SmsMessage.get(lead_id=lead.id)
    assert (await settled(sms_world, row.id)).state == CallState.DONE
    [text] = sms.sent_to("13912345678")
    assert text.template_id == "1000002"
    day = f"{local_today() + timedelta(days=1):%m-%d}"
    assert text.params == ["钱女士", lead.number, "上海徐汇店", "上海市徐汇区漕溪北路 88 号", f"{day} 14:30"]

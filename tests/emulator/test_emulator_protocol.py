"""The wire protocol: Tencent's published vectors, and the callbacks the emulator builds."""

from __future__ import annotations

import base64
import hashlib

import pytest
import xmltodict
from wechatpy.enterprise.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException

from emulator.callback import Sender, cdata, render_xml, text_xml
from tests.emulator.support import AGENT_ID, CORP_ID, Emu, Receiver, button_card, card_body

VECTOR_CORP = "wx5823bf96d3bd56c7"
VECTOR_TOKEN = "QDG6eK"
VECTOR_AES = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
POST_ENCRYPT = (
    "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvu"
    "JTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwG"
    "c2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9"
    "EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0"
    "lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q=="
)


def vector_crypto() -> WeChatCrypto:
    return WeChatCrypto(VECTOR_TOKEN, VECTOR_AES, VECTOR_CORP)


def test_url_verification_vector() -> None:
    echo = vector_crypto().check_signature(
        "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3",
        "1409659589",
        "263014780",
        "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ==",
    )
    assert echo == "1616140317555161061"


def test_message_decryption_vector() -> None:
    body = render_xml([("ToUserName", VECTOR_CORP), ("Encrypt", POST_ENCRYPT), ("AgentID", "218")])
    inner = vector_crypto().decrypt_message(
        body, "477715d11cdb4164915debcba66cb864d751f3e6", "1409659813", "1372623149"
    )
    message = xmltodict.parse(inner)["xml"]
    assert message["FromUserName"] == "mycreate"
    assert message["Content"] == "hello"
    assert message["MsgId"] == "4561255354251345929"
    assert message["AgentID"] == "218"


def test_signature_is_sha1_of_sorted_parts() -> None:
    parts = sorted([VECTOR_TOKEN, "1409659813", "1372623149", POST_ENCRYPT])
    assert hashlib.sha1("".join(parts).encode()).hexdigest() == "477715d11cdb4164915debcba66cb864d751f3e6"


def test_padding_is_to_32_bytes_and_round_trips() -> None:
    crypto = vector_crypto()
    for size in (0, 1, 11, 12, 40, 100):  # 16 + 4 + msg + corpid(18) crosses several 32-byte boundaries
        msg = "x" * size
        sealed = crypto.encrypt_message(msg, "12345", "1409659813")
        encrypt = xmltodict.parse(sealed)["xml"]["Encrypt"]
        assert len(base64.b64decode(encrypt)) % 32 == 0
        signature = xmltodict.parse(sealed)["xml"]["MsgSignature"]
        assert crypto.decrypt_message(sealed, signature, "1409659813", "12345") == msg


def test_wrong_signature_is_refused() -> None:
    body = render_xml([("ToUserName", VECTOR_CORP), ("Encrypt", POST_ENCRYPT), ("AgentID", "218")])
    with pytest.raises(InvalidSignatureException):
        vector_crypto().decrypt_message(body, "0" * 40, "1409659813", "1372623149")


def test_cdata_survives_its_terminator() -> None:
    xml = text_xml(Sender(CORP_ID, "zhangsan", AGENT_ID, 1), content="a]]>b<c>&", msg_id=1)
    assert xmltodict.parse(xml)["xml"]["Content"] == "a]]>b<c>&"
    assert cdata("]]>") == "<![CDATA[]]]]><![CDATA[>]]>"


async def test_text_callback_decrypts_with_relay_crypto(emu: Emu, receiver: Receiver) -> None:
    result = await emu.state.user_sends_text("zhangsan", "量尺寸 <b>&</b>")
    assert result.ok and result.attempts == 1
    params, body = receiver.raw[0]
    assert set(params) == {"msg_signature", "timestamp", "nonce"}
    outer = xmltodict.parse(body)["xml"]
    assert list(outer) == ["ToUserName", "AgentID", "Encrypt"]
    assert outer["ToUserName"] == CORP_ID and outer["AgentID"] == str(AGENT_ID)
    message = receiver.messages[0]
    fields = [k for k in message if k != "_raw"]
    assert fields == ["ToUserName", "FromUserName", "CreateTime", "MsgType", "Content", "MsgId", "AgentID"]
    assert message["ToUserName"] == CORP_ID
    assert message["FromUserName"] == "zhangsan"
    assert message["MsgType"] == "text"
    assert message["Content"] == "量尺寸 <b>&</b>"
    assert message["AgentID"] == str(AGENT_ID)
    assert message["MsgId"].isdigit()
    assert "<CreateTime><![CDATA" not in message["_raw"]  # numbers are bare, as WeCom sends them


async def test_msg_ids_are_unique(emu: Emu, receiver: Receiver) -> None:
    await emu.state.user_sends_text("zhangsan", "一")
    await emu.state.user_sends_text("zhangsan", "二")
    assert receiver.messages[0]["MsgId"] != receiver.messages[1]["MsgId"]


async def test_enter_agent_event(emu: Emu, receiver: Receiver) -> None:
    await emu.state.user_enters_agent("lisi")
    message = receiver.messages[0]
    assert message["MsgType"] == "event"
    assert message["Event"] == "enter_agent"
    assert message["EventKey"] is None  # empty CDATA
    assert "MsgId" not in message


async def test_scancode_event(emu: Emu, receiver: Receiver) -> None:
    await emu.state.user_scans("lisi", "scan_order", "ORDER-42")
    message = receiver.messages[0]
    assert message["Event"] == "scancode_waitmsg"
    assert message["EventKey"] == "scan_order"
    assert message["ScanCodeInfo"] == {"ScanType": "qrcode", "ScanResult": "ORDER-42"}


async def test_template_card_event_fields(emu: Emu, receiver: Receiver) -> None:
    answer = await emu.send(card_body(button_card("order_1-a@b")))
    await emu.state.user_clicks("zhangsan", answer["msgid"], "dispatch:lisi")
    message = receiver.messages[0]
    assert message["Event"] == "template_card_event"
    assert message["EventKey"] == "dispatch:lisi"
    assert message["TaskId"] == "order_1-a@b"
    assert message["CardType"] == "button_interaction"
    assert message["ResponseCode"] and message["ResponseCode"] != answer["response_code"]
    assert message["AgentID"] == str(AGENT_ID)
    assert "MsgId" not in message


async def test_vote_card_event_carries_selected_items(emu: Emu, receiver: Receiver) -> None:
    card = {
        "card_type": "vote_interaction",
        "main_title": {"title": "选择安装日期"},
        "task_id": "vote-1",
        "checkbox": {
            "question_key": "day",
            "mode": 1,
            "option_list": [{"id": "mon", "text": "周一"}, {"id": "tue", "text": "周二", "is_checked": True}],
        },
        "submit_button": {"text": "提交", "key": "submit_day"},
    }
    answer = await emu.send(card_body(card))
    await emu.state.user_clicks("zhangsan", answer["msgid"], "submit_day", {"day": ["mon", "tue"]})
    items = receiver.messages[0]["SelectedItems"]["SelectedItem"]
    assert items["QuestionKey"] == "day"
    assert items["OptionIds"]["OptionId"] == ["mon", "tue"]


async def test_verify_url_matches_echo(emu: Emu, receiver: Receiver) -> None:
    assert await emu.state.verify_url() is True


async def test_verify_url_fails_on_wrong_echo(emu: Emu, receiver: Receiver) -> None:
    receiver.echo_override = '"quoted"'
    assert await emu.state.verify_url() is False

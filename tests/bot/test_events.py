"""Inner XML, as WeCom builds it (90239/90240), into the typed events handlers see."""

from __future__ import annotations

import pytest

from bot.crypto import CallbackRejected, parse_xml
from bot.events import (
    CardClick,
    DirectoryChanged,
    EnterAgent,
    ImageMessage,
    MalformedEvent,
    MenuClick,
    OtherEvent,
    ScanCode,
    TextMessage,
    dedupe_key,
    parse_event,
)
from emulator.callback import (
    Sender,
    change_contact_xml,
    event_xml,
    image_xml,
    render_xml,
    scancode_xml,
    template_card_event_xml,
    text_xml,
)

WHO = Sender(corp_id="wwrelaytest000001", userid="sunceliang", agent_id=1000002, create_time=1764000000)


def raw(xml: str) -> dict:  # type: ignore[type-arg]
    return parse_xml(xml.encode())


def test_text() -> None:
    event = parse_event(raw(text_xml(WHO, content="订单 LS001 <&>]]>", msg_id=42)))
    assert event == TextMessage(userid="sunceliang", create_time=1764000000, content="订单 LS001 <&>]]>", msg_id="42")


def test_image() -> None:
    event = parse_event(raw(image_xml(WHO, pic_url="http://x/p.jpg", media_id="MEDIA1", msg_id=7)))
    assert event == ImageMessage(
        userid="sunceliang", create_time=1764000000, media_id="MEDIA1", pic_url="http://x/p.jpg", msg_id="7"
    )


@pytest.mark.parametrize(
    ("selected", "expected"),
    [
        (None, {}),
        ({"q1": ["a"]}, {"q1": ["a"]}),  # one OptionId: a string in the XML's dict form
        ({"q1": ["a", "b"], "q2": ["c"]}, {"q1": ["a", "b"], "q2": ["c"]}),
    ],
)
def test_card_click_with_its_choices(selected: dict[str, list[str]] | None, expected: dict[str, list[str]]) -> None:
    xml = template_card_event_xml(
        WHO,
        event="template_card_event",
        event_key="ta:5:1",
        task_id="measure-5-abc",
        card_type="button_interaction",
        response_code="RC1",
        selected=selected,
    )
    event = parse_event(raw(xml))
    assert isinstance(event, CardClick)
    assert (event.event_key, event.task_id, event.card_type, event.response_code) == (
        "ta:5:1",
        "measure-5-abc",
        "button_interaction",
        "RC1",
    )
    assert event.selected == expected


def test_menu_click_enter_and_scan() -> None:
    assert parse_event(raw(event_xml(WHO, event="click", event_key="MY_TASKS"))) == MenuClick(
        userid="sunceliang", create_time=1764000000, event_key="MY_TASKS"
    )
    assert isinstance(parse_event(raw(event_xml(WHO, event="enter_agent"))), EnterAgent)
    scan = parse_event(raw(scancode_xml(WHO, event_key="SCAN", scan_type="qrcode", result="LS001")))
    assert scan == ScanCode(
        userid="sunceliang", create_time=1764000000, event_key="SCAN", scan_type="qrcode", scan_result="LS001"
    )


def test_anything_else_is_kept_as_other() -> None:
    location = render_xml([*WHO.head("location"), ("Location_X", "31.2"), ("MsgId", 9), ("AgentID", 1000002)])
    assert parse_event(raw(location)) == OtherEvent(userid="sunceliang", create_time=1764000000, msg_type="location")
    view = parse_event(raw(event_xml(WHO, event="view", event_key="http://x")))
    assert view == OtherEvent(userid="sunceliang", create_time=1764000000, msg_type="event", event="view")


@pytest.mark.parametrize(
    "xml",
    [
        "<xml><MsgType>text</MsgType></xml>",  # no sender
        "<xml><FromUserName>a</FromUserName><CreateTime>later</CreateTime></xml>",
        "<xml><FromUserName><b>nested</b></FromUserName></xml>",
        "<xml><FromUserName>a</FromUserName><MsgType>image</MsgType><MsgId>1</MsgId></xml>",  # no MediaId
    ],
)
def test_unreadable_messages_are_refused(xml: str) -> None:
    with pytest.raises(MalformedEvent):
        parse_event(raw(xml))


def test_dedupe_keys() -> None:
    first = raw(text_xml(WHO, content="帮助", msg_id=1))
    assert dedupe_key(first) == dedupe_key(raw(text_xml(WHO, content="帮助", msg_id=1)))
    assert dedupe_key(first) != dedupe_key(raw(text_xml(WHO, content="帮助", msg_id=2)))

    def tap(key: str, code: str) -> str:
        return dedupe_key(
            raw(
                template_card_event_xml(
                    WHO,
                    event="template_card_event",
                    event_key=key,
                    task_id="measure-5-abc",
                    card_type="button_interaction",
                    response_code=code,
                )
            )
        )

    assert tap("ta:5:1", "RC1") == tap("ta:5:1", "RC1")  # WeCom's re-send
    assert tap("ta:5:1", "RC1") != tap("ta:5:0", "RC1")  # another button
    assert tap("ta:5:1", "RC1") != tap("ta:5:1", "RC2")  # the same button tapped again
    # Whatever WeCom sends fits the inbox's unique column, and still tells re-sends from new taps.
    long_key = "k" * 1024
    assert len(tap(long_key, "R" * 64)) <= 255
    assert tap(long_key, "R" * 64) == tap(long_key, "R" * 64)
    assert tap(long_key, "R" * 64) != tap(long_key, "R" * 63 + "S")


def test_scans_within_one_second_are_each_kept() -> None:
    def scan(result: str) -> str:
        return dedupe_key(raw(scancode_xml(WHO, event_key="scan_goods_in", scan_type="barcode", result=result)))

    assert scan("CODE_128,W70-0001") == scan("CODE_128,W70-0001")  # WeCom's re-send
    assert scan("CODE_128,W70-0001") != scan("CODE_128,W70-0002")  # the next window's label, same second


# -- the XML itself: WeCom's flat fields, as the protocol doc's POST body and events give them ----------


def test_the_protocol_docs_post_body() -> None:
    body = (
        b"<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName><AgentID><![CDATA[218]]></AgentID>"
        b"<Encrypt><![CDATA[RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6a==]]></Encrypt></xml>"
    )
    assert parse_xml(body) == {
        "ToUserName": "wx5823bf96d3bd56c7",
        "AgentID": "218",
        "Encrypt": "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6a==",
    }


def test_fields_keep_their_shape() -> None:
    xml = template_card_event_xml(
        WHO,
        event="template_card_event",
        event_key="k",
        task_id="t",
        card_type="vote_interaction",
        response_code="r",
        selected={"q1": ["a", "b"], "q2": ["c"]},
    )
    fields = raw(xml)
    assert fields["SelectedItems"] == {
        "SelectedItem": [
            {"QuestionKey": "q1", "OptionIds": {"OptionId": ["a", "b"]}},
            {"QuestionKey": "q2", "OptionIds": {"OptionId": "c"}},
        ]
    }
    assert raw(scancode_xml(WHO, event_key="scan", scan_type="qrcode", result="LS001-1"))["ScanCodeInfo"] == {
        "ScanType": "qrcode",
        "ScanResult": "LS001-1",
    }
    # Text is stripped as before, an empty field is None, an XML declaration and whitespace between fields are fine.
    assert parse_xml(
        b'<?xml version="1.0" encoding="UTF-8"?>\n<xml>\n <Content><![CDATA[  \xe5\xb8\xae\xe5\x8a\xa9 ]]></Content>\n'
        b" <EventKey></EventKey>\n</xml>"
    ) == {"Content": "帮助", "EventKey": None}


@pytest.mark.parametrize(
    "xml",
    [
        b'<!DOCTYPE xml [<!ENTITY e "unused">]><xml><Encrypt>abc</Encrypt></xml>',
        b'<!DOCTYPE xml [<!ENTITY e "boom">]><xml><Encrypt>&e;</Encrypt></xml>',
        b'<!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]><xml><Encrypt>&x;</Encrypt></xml>',
        b'<!DOCTYPE xml [<!NOTATION n SYSTEM "x">]><xml><Encrypt>abc</Encrypt></xml>',
        b"<!DOCTYPE xml><xml><Encrypt>abc</Encrypt></xml>",
    ],
    ids=["unused-entity", "entity", "external-entity", "notation", "bare-doctype"],
)
def test_a_dtd_is_refused(xml: bytes) -> None:
    with pytest.raises(CallbackRejected) as refused:
        parse_xml(xml)
    assert refused.value.status == 400
    assert "DTD" in refused.value.reason


@pytest.mark.parametrize(
    "xml",
    [b"", b"<xml>", b"<xml><a></b></xml>", b"<root><a>1</a></root>", b"<xml/>", b"<xml>&amp;</xml>", b"\xff\xfe"],
    ids=["empty", "unterminated", "mismatched", "wrong-root", "empty-root", "text-root", "not-utf8"],
)
def test_malformed_xml_is_refused(xml: bytes) -> None:
    with pytest.raises(CallbackRejected) as refused:
        parse_xml(xml)
    assert refused.value.status == 400


SYS = Sender(corp_id="wwrelaytest000001", userid="sys", agent_id=1000002, create_time=1764000000)


def test_directory_changes() -> None:
    joined = parse_event(
        parse_xml(change_contact_xml(SYS, "create_user", [("UserID", "xinren"), ("Department", "3,1")]))
    )
    assert joined == DirectoryChanged(userid="sys", create_time=1764000000, change_type="create_user", member="xinren")
    party = parse_event(parse_xml(change_contact_xml(SYS, "update_party", [("Id", 7), ("ParentId", "2")])))
    assert isinstance(party, DirectoryChanged) and party.department_id == 7
    tag = parse_event(parse_xml(change_contact_xml(SYS, "update_tag", [("TagId", 5), ("AddUserItems", "a,b")])))
    assert isinstance(tag, DirectoryChanged) and tag.tag_id == 5
    with pytest.raises(MalformedEvent):
        parse_event(parse_xml(change_contact_xml(SYS, "delete_user", [])))
    with pytest.raises(MalformedEvent):
        parse_event(parse_xml(change_contact_xml(SYS, "delete_party", [("Id", "x")])))


def test_directory_changes_in_one_second_stay_apart() -> None:
    """Events from "sys" share FromUserName and CreateTime: what changed tells them apart; a re-send is one."""

    def key(change: str, fields: list[tuple[str, str | int]]) -> str:
        return dedupe_key(parse_xml(change_contact_xml(SYS, change, fields)))

    created = [key("create_party", [("Id", i), ("ParentId", "1")]) for i in (7, 8)]
    moved = [key("update_user", [("UserID", "xinren"), ("Department", d)]) for d in ("3", "4")]
    assert len({*created, *moved}) == 4
    assert key("delete_user", [("UserID", "xinren")]) == key("delete_user", [("UserID", "xinren")])

"""Typed inbound events (90239 messages, 90240 events). Handlers see these, never XML."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Event:
    userid: str
    create_time: int


@dataclass(frozen=True)
class TextMessage(Event):
    content: str
    msg_id: str


@dataclass(frozen=True)
class ImageMessage(Event):
    media_id: str
    pic_url: str
    msg_id: str


@dataclass(frozen=True)
class CardClick(Event):
    """template_card_event: a button of a card was tapped. No MsgId; ResponseCode is one-use, 72 h."""

    event_key: str
    task_id: str
    card_type: str
    response_code: str
    selected: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class MenuClick(Event):
    event_key: str


@dataclass(frozen=True)
class ScanCode(Event):
    event_key: str
    scan_type: str
    scan_result: str


@dataclass(frozen=True)
class EnterAgent(Event):
    pass


@dataclass(frozen=True)
class ExternalContactAdded(Event):
    """change_external_contact / add_external_contact (92130): a customer added member `member`.
    `userid` is "sys"; the welcome code is absent when the two have chatted before."""

    member: str
    external_userid: str
    state: str
    welcome_code: str


@dataclass(frozen=True)
class DirectoryChanged(Event):
    """change_contact (90970 members, 90971 departments, 90972 tags) from `sys`. Since 2022-08-15 a member
    carries only UserID/Department and a department only Id/ParentId, so Relay reads the rest from the
    directory API; `member` / `department_id` / `tag_id` say which one changed."""

    change_type: (
        str  # create_user | update_user | delete_user | create_party | update_party | delete_party | update_tag
    )
    member: str = ""
    new_member: str = ""  # NewUserID: a userid changed (once, when WeCom generated it)
    department_id: int | None = None
    tag_id: int | None = None


DIRECTORY_CHANGES = (
    "create_user",
    "update_user",
    "delete_user",
    "create_party",
    "update_party",
    "delete_party",
    "update_tag",
)


@dataclass(frozen=True)
class OtherEvent(Event):
    """Anything Relay does not act on (location, voice, view, ...): stored, answered with help."""

    msg_type: str
    event: str = ""


class MalformedEvent(ValueError):
    pass


def _text(raw: dict[str, Any], key: str) -> str:
    value = raw.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise MalformedEvent(f"{key} is not text")
    return value


def _selected(raw: dict[str, Any]) -> dict[str, list[str]]:
    # SelectedItems/SelectedItem may be one element or a list; OptionIds/OptionId likewise.
    items = raw.get("SelectedItems") or {}
    item_list = items.get("SelectedItem") if isinstance(items, dict) else None
    if item_list is None:
        return {}
    if isinstance(item_list, dict):
        item_list = [item_list]
    result: dict[str, list[str]] = {}
    for item in item_list:
        options = (item.get("OptionIds") or {}).get("OptionId") if isinstance(item, dict) else None
        if isinstance(options, str):
            options = [options]
        result[str(item.get("QuestionKey", ""))] = [str(o) for o in options or []]
    return result


def dedupe_key(raw: dict[str, Any]) -> str:
    """Messages carry MsgId; events don't, so sender + time + what was tapped identifies them (90238).

    A card tap's ResponseCode is new for every tap and the same in WeCom's re-sends of it, so two
    real taps within one second stay two, and a re-send stays one. So is a scan's result: the
    warehouse scanning the three windows of one order in quick succession sends three scans.
    """
    msg_id = raw.get("MsgId")
    if msg_id:
        return f"msg:{msg_id}"
    scan = raw.get("ScanCodeInfo")
    # A customer-contact event comes from "sys": who added whom tells two adds in one second apart.
    contact = [raw.get("ChangeType"), raw.get("UserID"), raw.get("ExternalUserID")] if raw.get("ChangeType") else []
    if raw.get("Event") == "change_contact":
        # A directory change names a member, a department or a tag, and what it now is: two changes in one
        # second stay two, a re-send stays one.
        contact += [raw.get(k) for k in ("NewUserID", "Department", "Id", "ParentId", "TagId")]
        contact += [raw.get("AddUserItems"), raw.get("DelUserItems")]
    parts = [
        raw.get("FromUserName"),
        raw.get("CreateTime"),
        raw.get("Event"),
        raw.get("TaskId"),
        raw.get("EventKey"),
        raw.get("ResponseCode"),
        scan.get("ScanResult") if isinstance(scan, dict) else None,
        *contact,
    ]
    key = "evt:" + ":".join(str(p or "") for p in parts)
    # EventKey may be 1 KB and ResponseCode has no documented bound; the inbox's unique column holds 255.
    return key if len(key) <= 255 else "evt:sha256:" + hashlib.sha256(key.encode()).hexdigest()


def parse_event(raw: dict[str, Any]) -> Event:
    userid = _text(raw, "FromUserName")
    if not userid:
        raise MalformedEvent("no FromUserName")
    try:
        create_time = int(_text(raw, "CreateTime") or "0")
    except ValueError as exc:
        raise MalformedEvent("CreateTime is not a number") from exc
    msg_type = _text(raw, "MsgType")
    if msg_type == "text":
        return TextMessage(
            userid=userid, create_time=create_time, content=_text(raw, "Content"), msg_id=_text(raw, "MsgId")
        )
    if msg_type == "image":
        media_id = _text(raw, "MediaId")
        if not media_id:
            raise MalformedEvent("image without MediaId")
        return ImageMessage(
            userid=userid,
            create_time=create_time,
            media_id=media_id,
            pic_url=_text(raw, "PicUrl"),
            msg_id=_text(raw, "MsgId"),
        )
    if msg_type != "event":
        return OtherEvent(userid=userid, create_time=create_time, msg_type=msg_type)
    event = _text(raw, "Event")
    if event in ("template_card_event", "template_card_menu_event"):
        return CardClick(
            userid=userid,
            create_time=create_time,
            event_key=_text(raw, "EventKey"),
            task_id=_text(raw, "TaskId"),
            card_type=_text(raw, "CardType"),
            response_code=_text(raw, "ResponseCode"),
            selected=_selected(raw),
        )
    if event == "click":
        return MenuClick(userid=userid, create_time=create_time, event_key=_text(raw, "EventKey"))
    if event in ("scancode_waitmsg", "scancode_push"):
        info = raw.get("ScanCodeInfo") or {}
        return ScanCode(
            userid=userid,
            create_time=create_time,
            event_key=_text(raw, "EventKey"),
            scan_type=str(info.get("ScanType") or ""),
            scan_result=str(info.get("ScanResult") or ""),
        )
    if event == "change_external_contact" and _text(raw, "ChangeType") == "add_external_contact":
        member, external = _text(raw, "UserID"), _text(raw, "ExternalUserID")
        if not member or not external:
            raise MalformedEvent("add_external_contact without UserID or ExternalUserID")
        return ExternalContactAdded(
            userid=userid,
            create_time=create_time,
            member=member,
            external_userid=external,
            state=_text(raw, "State"),
            welcome_code=_text(raw, "WelcomeCode"),
        )
    if event == "change_contact" and _text(raw, "ChangeType") in DIRECTORY_CHANGES:
        return _directory_change(raw, userid, create_time)
    if event == "enter_agent":
        return EnterAgent(userid=userid, create_time=create_time)
    return OtherEvent(userid=userid, create_time=create_time, msg_type=msg_type, event=event)


def _number(raw: dict[str, Any], key: str) -> int | None:
    text = _text(raw, key).strip()
    if not text:
        return None
    if not text.isdigit():
        raise MalformedEvent(f"{key} is not a number")
    return int(text)


def _directory_change(raw: dict[str, Any], userid: str, create_time: int) -> DirectoryChanged:
    change = _text(raw, "ChangeType")
    event = DirectoryChanged(
        userid=userid,
        create_time=create_time,
        change_type=change,
        member=_text(raw, "UserID"),
        new_member=_text(raw, "NewUserID"),
        department_id=_number(raw, "Id"),
        tag_id=_number(raw, "TagId"),
    )
    if change.endswith("_user") and not event.member:
        raise MalformedEvent(f"{change} without UserID")
    if change.endswith("_party") and event.department_id is None:
        raise MalformedEvent(f"{change} without Id")
    if change == "update_tag" and event.tag_id is None:
        raise MalformedEvent("update_tag without TagId")
    return event

"""Customer contact (客户联系): 「联系我」 ways, customers (WeChat users) adding members, the welcome
message, and enterprise mass-send tasks, with what each customer received.

What is validated, and where it comes from:
- add_contact_way (92228): type 1 (one member) with exactly one `user`, scene 1 or 2, `state` at most 30
  characters, `remark` at most 30; the member must exist and have customer contact (配置了客户联系功能).
- send_welcome_msg (92137): only within 20 s of the add event and once; text and/or at most 9
  attachments; a code whose welcome already went out answers 41051.
- add_msg_template (92135): chat_type single, the sender's customers only (others come back in
  fail_list); the task sends nothing until the member confirms it in their client. A customer receives
  at most `mass_send_per_month` mass-sent messages per natural month (92135 says 4 in its older wording;
  the page now names the days of the month, adjustable): beyond it the confirmed task shows status 3
  for them (因客户已经收到其他群发消息导致发送失败, get_groupmsg_send_result) and they receive nothing.
Error codes the pages do not name are answered 40058 (invalid parameter) with a hint.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from emulator import errors
from emulator.clock import Clock
from emulator.codes import OneUseCodes
from emulator.directory import Directory
from emulator.errors import WeComError

WELCOME_CODE_TTL = 20  # seconds after the add event (92137)
STATE_LIMIT = 30  # characters of a contact way's state (92228)
REMARK_LIMIT = 30
TEXT_LIMIT = 4000  # bytes of a welcome / mass-send text
ATTACHMENT_LIMIT = 9
STARTED_CHATTING = 41051  # 92137: the welcome was already delivered
SHANGHAI = timezone(timedelta(hours=8))

# get_groupmsg_send_result's status per customer
UNSENT, SENT, NOT_FRIEND, OVER_LIMIT = 0, 1, 2, 3
STATUS_TEXT = {UNSENT: "未发送", SENT: "已发送", NOT_FRIEND: "非好友，发送失败", OVER_LIMIT: "本月已收满，未收到"}


@dataclass
class ContactWay:
    config_id: str
    user: str
    state: str
    scene: int
    qr_code: str
    created: float


@dataclass
class Customer:
    external_userid: str
    name: str


@dataclass
class Received:
    """Something a customer got in WeChat from a member."""

    seq: int
    time: float
    kind: str  # "welcome" or "mass"
    sender: str
    text: str
    attachments: list[dict[str, Any]]
    msgid: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "time": int(self.time),
            "kind": self.kind,
            "sender": self.sender,
            "text": self.text,
            "attachments": self.attachments,
            "msgid": self.msgid,
        }


@dataclass
class MassTask:
    msgid: str
    sender: str
    external_userids: list[str]
    text: str
    attachments: list[dict[str, Any]]
    created: float
    confirmed: float | None = None
    status: dict[str, int] = field(default_factory=dict)
    send_time: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "msgid": self.msgid,
            "sender": self.sender,
            "text": self.text,
            "attachments": self.attachments,
            "created": int(self.created),
            "confirmed": self.confirmed is not None,
            "results": [
                {
                    "external_userid": e,
                    "status": self.status.get(e, UNSENT),
                    "text": STATUS_TEXT[self.status.get(e, UNSENT)],
                }
                for e in self.external_userids
            ],
        }


@dataclass
class Added:
    """A customer added a member: what the event carried."""

    external_userid: str
    userid: str
    state: str
    welcome_code: str


class ContactService:
    def __init__(self, *, directory: Directory, clock: Clock, per_month: int, customer_contact: set[str]) -> None:
        self.directory = directory
        self.clock = clock
        self.per_month = per_month
        self.customer_contact = {u.lower() for u in customer_contact}  # members with 客户联系
        self.ways: dict[str, ContactWay] = {}
        self.customers: dict[str, Customer] = {}
        self.friends: set[tuple[str, str]] = set()  # (userid, external_userid)
        self.welcomed: set[tuple[str, str]] = set()  # a welcome (or a chat) happened: no more codes
        self.welcome_codes: OneUseCodes[tuple[str, str]] = OneUseCodes(clock, WELCOME_CODE_TTL)
        self.used_welcome_codes: set[str] = set()
        self.received: dict[str, list[Received]] = {}
        self.tasks: dict[str, MassTask] = {}
        self._seq = 0

    # -- the API ---------------------------------------------------------------------------------

    def add_contact_way(self, body: dict[str, Any], base_url: str) -> dict[str, Any]:
        kind, scene = body.get("type"), body.get("scene")
        if kind is None:
            raise WeComError(errors.INVALID_PARAMETER, "missing contact way type")
        if kind != 1:
            raise WeComError(errors.INVALID_PARAMETER, "the emulator plays type 1 (one member) only")
        if scene not in (1, 2):
            raise WeComError(errors.INVALID_PARAMETER, "scene must be 1 or 2")
        state = body.get("state", "")
        if not isinstance(state, str) or len(state) > STATE_LIMIT:
            raise WeComError(errors.INVALID_PARAMETER, f"state longer than {STATE_LIMIT} characters")
        remark = body.get("remark", "")
        if not isinstance(remark, str) or len(remark) > REMARK_LIMIT:
            raise WeComError(errors.INVALID_PARAMETER, f"remark longer than {REMARK_LIMIT} characters")
        users = body.get("user")
        if isinstance(users, str):
            users = [users]
        if not isinstance(users, list) or len(users) != 1:
            raise WeComError(errors.INVALID_PARAMETER, "type 1 needs exactly one user")
        member = self.directory.get(str(users[0]))
        if member is None:
            raise WeComError(errors.USER_NOT_FOUND, str(users[0]))
        if member.userid.lower() not in self.customer_contact:
            raise WeComError(errors.INVALID_PARAMETER, f"{member.userid} has no customer contact (客户联系)")
        config_id = secrets.token_hex(16)
        qr_code = f"{base_url}/emulator/contact-way/{config_id}/qr.png"
        self.ways[config_id] = ContactWay(config_id, member.userid, state, int(scene), qr_code, self.clock.now())
        return {"config_id": config_id, "qr_code": qr_code} if scene == 2 else {"config_id": config_id}

    def send_welcome_msg(self, body: dict[str, Any]) -> None:
        code = body.get("welcome_code")
        if not code or not isinstance(code, str):
            raise WeComError(errors.INVALID_PARAMETER, "welcome_code missing")
        text, attachments = _content(body)
        if code in self.used_welcome_codes:
            raise WeComError(STARTED_CHATTING, "externaluser has started chatting")
        pair = self.welcome_codes.consume(code)
        if pair is None:
            raise WeComError(errors.INVALID_PARAMETER, "invalid welcome_code (unknown, or past its 20 s)")
        self.used_welcome_codes.add(code)
        userid, external = pair
        self.welcomed.add(pair)
        self._receive(external, "welcome", userid, text, attachments)

    def add_msg_template(self, body: dict[str, Any]) -> dict[str, Any]:
        if body.get("chat_type", "single") != "single":
            raise WeComError(errors.INVALID_PARAMETER, "the emulator plays chat_type single only")
        sender = body.get("sender")
        member = self.directory.get(str(sender or ""))
        if member is None:
            raise WeComError(errors.USER_NOT_FOUND, str(sender))
        externals = body.get("external_userid")
        if not isinstance(externals, list) or not externals:
            raise WeComError(errors.INVALID_PARAMETER, "external_userid list missing")
        text, attachments = _content(body)
        valid = [str(e) for e in externals if (member.userid, str(e)) in self.friends]
        fail_list = [str(e) for e in externals if (member.userid, str(e)) not in self.friends]
        msgid = "msg" + secrets.token_urlsafe(18)
        if valid:
            self.tasks[msgid] = MassTask(msgid, member.userid, valid, text, attachments, self.clock.now())
        return {"fail_list": fail_list, "msgid": msgid}

    def get_groupmsg_send_result(self, body: dict[str, Any]) -> dict[str, Any]:
        task = self.tasks.get(str(body.get("msgid", "")))
        if task is None:
            raise WeComError(errors.INVALID_PARAMETER, "invalid msgid")
        if str(body.get("userid", "")).lower() != task.sender.lower():
            raise WeComError(errors.INVALID_PARAMETER, "userid is not the task's sender")
        send_list = [
            {"external_userid": e, "userid": task.sender, "status": task.status.get(e, UNSENT)}
            | ({"send_time": task.send_time[e]} if e in task.send_time else {})
            for e in task.external_userids
        ]
        return {"next_cursor": "", "send_list": send_list}

    # -- what people do --------------------------------------------------------------------------

    def customer_adds(self, config_id: str, name: str, external_userid: str = "") -> Added:
        """A WeChat user scans a contact way's QR code and adds its member."""
        way = self.ways.get(config_id)
        if way is None:
            raise KeyError(f"no contact way {config_id!r}")
        external = external_userid or "wm" + secrets.token_urlsafe(21)
        self.customers.setdefault(external, Customer(external, name))
        pair = (way.user, external)
        self.friends.add(pair)
        # 92130 / 92137: no welcome code when the two have chatted (or a welcome went out) before.
        code = "" if pair in self.welcomed else self.welcome_codes.issue(pair)
        return Added(external_userid=external, userid=way.user, state=way.state, welcome_code=code)

    def confirm(self, userid: str, msgid: str) -> MassTask:
        """The member taps 发送 on a pending mass-send task in their client."""
        task = self.tasks.get(msgid)
        if task is None or task.sender.lower() != userid.lower():
            raise KeyError(f"{userid} has no mass-send task {msgid!r}")
        if task.confirmed is not None:
            raise ValueError("already sent")
        task.confirmed = self.clock.now()
        for external in task.external_userids:
            if (task.sender, external) not in self.friends:
                task.status[external] = NOT_FRIEND
            elif self.mass_received_this_month(external) >= self.per_month:
                task.status[external] = OVER_LIMIT  # beyond the limit the customer receives none
            else:
                task.status[external] = SENT
                task.send_time[external] = int(self.clock.now())
                self._receive(external, "mass", task.sender, task.text, task.attachments, msgid=task.msgid)
        return task

    def pending_tasks(self, userid: str) -> list[MassTask]:
        return [t for t in self.tasks.values() if t.sender.lower() == userid.lower() and t.confirmed is None]

    def tasks_of(self, userid: str) -> list[MassTask]:
        return [t for t in self.tasks.values() if t.sender.lower() == userid.lower()]

    def mass_received_this_month(self, external: str) -> int:
        month = _month(self.clock.now())
        return sum(1 for r in self.received.get(external, []) if r.kind == "mass" and _month(r.time) == month)

    def customers_of(self, userid: str) -> list[Customer]:
        return [self.customers[e] for (u, e) in sorted(self.friends) if u.lower() == userid.lower()]

    def _receive(
        self, external: str, kind: str, sender: str, text: str, attachments: list[dict[str, Any]], msgid: str = ""
    ) -> None:
        self._seq += 1
        entry = Received(self._seq, self.clock.now(), kind, sender, text, attachments, msgid)
        self.received.setdefault(external, []).append(entry)


def _month(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).astimezone(SHANGHAI).strftime("%Y-%m")


def _content(body: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    text_part = body.get("text") or {}
    text = str(text_part.get("content", "")) if isinstance(text_part, dict) else ""
    attachments = body.get("attachments") or []
    if not isinstance(attachments, list):
        raise WeComError(errors.INVALID_PARAMETER, "attachments must be a list")
    if not text and not attachments:
        raise WeComError(errors.EMPTY_CONTENT, "text or attachments required")
    if len(text.encode()) > TEXT_LIMIT:
        raise WeComError(errors.CONTENT_TOO_LONG, f"text over {TEXT_LIMIT} bytes")
    if len(attachments) > ATTACHMENT_LIMIT:
        raise WeComError(errors.INVALID_PARAMETER, f"at most {ATTACHMENT_LIMIT} attachments")
    for item in attachments:
        if not isinstance(item, dict) or item.get("msgtype") not in ("image", "link", "miniprogram", "video", "file"):
            raise WeComError(errors.INVALID_PARAMETER, "attachment msgtype invalid")
        if item["msgtype"] == "link":
            link = item.get("link") or {}
            if not link.get("title") or not link.get("url"):
                raise WeComError(errors.INVALID_PARAMETER, "link needs title and url")
    return text, attachments

"""EmulatorState: everything the emulated WeCom knows, plus the members' actions tests drive."""

from __future__ import annotations

import asyncio
import itertools
import secrets
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from emulator.callback import (
    CallbackClient,
    CallbackResult,
    Sender,
    change_contact_xml,
    event_xml,
    image_xml,
    render_xml,
    scancode_xml,
    template_card_event_xml,
    text_xml,
)
from emulator.chat import CardView, ChatEntry, ChatLog, Direction
from emulator.clock import Clock
from emulator.codes import OneUseCodes
from emulator.config import EmulatorConfig, EmulatorDepartment, EmulatorUser
from emulator.contact import Added, ContactService, MassTask, Received
from emulator.directory import Directory, DirectoryError
from emulator.faults import FaultKind, FaultPlan
from emulator.media import MediaStore, MediaType
from emulator.messaging import RESPONSE_CODE_TTL, CardScope, MemberLimit, MessageService
from emulator.tokens import TokenStore

OAUTH_CODE_TTL = 300


@dataclass(frozen=True)
class CallbackRecord:
    """One event WeCom pushed to Relay, for the console's log and for tests."""

    seq: int
    time: int
    userid: str
    kind: str  # "text", "image", or the event name
    xml: str  # the inner XML before encryption
    result: CallbackResult

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "time": self.time,
            "userid": self.userid,
            "kind": self.kind,
            **self.result.to_json(),
        }


class ClickError(ValueError):
    """The member cannot press that: no such card, or the key is not a live callback button."""


class EmulatorState:
    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.clock = Clock()
        self.directory = Directory(config.users, config.departments, config.tags)
        self.tokens = TokenStore(self.clock, config.token_ttl)
        self.media = MediaStore(self.clock)
        self.chats = ChatLog()
        self.faults = FaultPlan()
        self.calls: Counter[str] = Counter()  # API name ("message/send") -> calls received
        self.timeout_seconds = 30.0  # how long a "timeout" fault holds the answer
        self.held_released = asyncio.Event()  # set: every answer held by a "timeout" fault goes now
        self.base_url = config.public_url.rstrip("/")
        self.response_codes: OneUseCodes[CardScope] = OneUseCodes(self.clock, RESPONSE_CODE_TTL)
        self.oauth_codes: OneUseCodes[str] = OneUseCodes(self.clock, OAUTH_CODE_TTL)
        self.messages = MessageService(
            agent_id=config.agent_id,
            directory=self.directory,
            chats=self.chats,
            media=self.media,
            response_codes=self.response_codes,
            clock=self.clock,
            strict_duplicate_check=config.strict_duplicate_check,
            member_limit=MemberLimit(self.clock, per_minute=config.member_per_minute, per_hour=config.member_per_hour),
        )
        self.contact = ContactService(
            directory=self.directory,
            clock=self.clock,
            per_month=config.mass_send_per_month,
            customer_contact=set(config.customer_contact),
        )
        self.callback_client = CallbackClient(config)
        self.callbacks: list[CallbackRecord] = []
        # Real MsgIds are 64-bit numbers; start somewhere that looks like one.
        self._msg_ids = itertools.count(7_000_000_000_000_000_000 + secrets.randbelow(10**15))

    async def close(self) -> None:
        await self.callback_client.close()

    # -- control -------------------------------------------------------------------------------

    def inject(self, api: str, kind: FaultKind | str, count: int = 1) -> None:
        """The next `count` calls of `api` ("message/send", "gettoken", ...) meet fault `kind`."""
        self.faults.inject(api, kind, count)

    def clear_faults(self) -> None:
        self.faults.clear()

    def release_held(self) -> None:
        """Answer at once the calls a "timeout" fault is holding (a test done with them)."""
        self.held_released.set()

    def add_member(self, userid: str, name: str, department: int = 1) -> None:
        """A member joins the corp's address book (a large company, in a test)."""
        self.directory.add_user(EmulatorUser(userid=userid, name=name, department=[department]))

    def expire_tokens(self) -> None:
        self.tokens.expire_all()

    def strict_duplicate_check(self, strict: bool = True) -> None:
        """Compare the whole request JSON in the duplicate check, as doc 90236 says."""
        self.messages.strict_duplicate_check = strict

    def limit_per_member(self, per_minute: int = 30, per_hour: int = 1000) -> None:
        """Drop, silently, what a member receives beyond WeCom's limits (90454); 0 lifts one."""
        limit = self.messages.member_limit
        limit.per_minute, limit.per_hour = per_minute, per_hour

    @property
    def delivered(self) -> Counter[str]:
        """Messages that reached each member (userid -> count)."""
        return self.messages.member_limit.delivered

    @property
    def dropped(self) -> Counter[str]:
        """Messages WeCom accepted (errcode 0) that never reached the member: over their limit."""
        return self.messages.member_limit.dropped

    def advance_time(self, seconds: float) -> None:
        """Move the expiry clock (tokens, codes, media); callback timestamps stay on real time."""
        self.clock.advance(seconds)

    # -- inspection ----------------------------------------------------------------------------

    def user(self, userid: str) -> EmulatorUser:
        return self.directory.require(userid)

    def chat(self, userid: str, after: int = 0) -> list[ChatEntry]:
        return self.chats.entries(self.user(userid).userid, after)

    def bot_messages(self, userid: str) -> list[ChatEntry]:
        return [e for e in self.chat(userid) if e.direction == "out"]

    def last_message(self, userid: str, direction: Direction = "out") -> ChatEntry | None:
        matching = [e for e in self.chat(userid) if e.direction == direction]
        return matching[-1] if matching else None

    def texts(self, userid: str) -> list[str]:
        """What the bot said to this member in text and markdown messages."""
        return [e.text for e in self.bot_messages(userid) if e.text is not None]

    def cards(self, userid: str) -> list[CardView]:
        return [e.card for e in self.bot_messages(userid) if e.card is not None]

    def last_card(self, userid: str) -> CardView | None:
        cards = self.cards(userid)
        return cards[-1] if cards else None

    def card(self, userid: str, msgid: str) -> CardView:
        entry = self.chats.find(self.user(userid).userid, msgid)
        if entry is None or entry.card is None:
            raise ClickError(f"{userid} has no template card {msgid!r}")
        return entry.card

    async def wait_for_message(
        self, userid: str, *, msgtype: str | None = None, after: int = 0, within: float = 5.0
    ) -> ChatEntry:
        """The first bot message newer than seq `after` (of `msgtype`, if given).

        Raises TimeoutError after `within` seconds.
        """
        async with asyncio.timeout(within):
            while True:
                for entry in self.bot_messages(userid):
                    if entry.seq > after and (msgtype is None or entry.msgtype == msgtype):
                        return entry
                await self.chats.changed()

    # -- members' actions: each one is a callback to Relay ------------------------------------

    def _sender(self, userid: str) -> Sender:
        return Sender(
            corp_id=self.config.corp_id,
            userid=self.user(userid).userid,
            agent_id=self.config.agent_id,
            create_time=int(time.time()),
        )

    async def user_sends_text(self, userid: str, text: str) -> CallbackResult:
        sender = self._sender(userid)
        msg_id = next(self._msg_ids)
        self._record_own(sender, {"msgtype": "text", "text": {"content": text}}, msg_id)
        return await self._push(sender.userid, "text", text_xml(sender, content=text, msg_id=msg_id))

    async def user_sends_image(self, userid: str, data: bytes, filename: str = "photo.jpg") -> CallbackResult:
        sender = self._sender(userid)
        media = self.media.put(data=data, filename=filename, type=MediaType.IMAGE)
        pic_url = f"{self.base_url}/emulator/media/{media.media_id}"
        msg_id = next(self._msg_ids)
        payload = {"msgtype": "image", "image": {"media_id": media.media_id, "pic_url": pic_url}}
        self._record_own(sender, payload, msg_id)
        xml = image_xml(sender, pic_url=pic_url, media_id=media.media_id, msg_id=msg_id)
        return await self._push(sender.userid, "image", xml)

    async def user_enters_agent(self, userid: str) -> CallbackResult:
        sender = self._sender(userid)
        return await self._push(sender.userid, "enter_agent", event_xml(sender, event="enter_agent"))

    async def user_clicks_menu(self, userid: str, key: str) -> CallbackResult:
        """A click on the app's custom menu (event `click`)."""
        sender = self._sender(userid)
        return await self._push(sender.userid, "click", event_xml(sender, event="click", event_key=key))

    async def user_scans(self, userid: str, event_key: str, result: str, scan_type: str = "qrcode") -> CallbackResult:
        sender = self._sender(userid)
        xml = scancode_xml(sender, event_key=event_key, scan_type=scan_type, result=result)
        return await self._push(sender.userid, "scancode_waitmsg", xml)

    async def user_clicks(
        self,
        userid: str,
        msgid: str,
        button_key: str,
        selected: Mapping[str, Sequence[str]] | None = None,
    ) -> CallbackResult:
        """Press a callback button (or the submit, or an action_menu entry) of a card in the chat.

        The event carries a fresh one-use ResponseCode that may update this member's card only.
        `selected` (question_key -> option ids) defaults to what the card has preselected.
        """
        sender = self._sender(userid)
        card = self.card(userid, msgid)
        if card.has_callback_key(button_key):
            event = "template_card_event"
            chosen = dict(selected) if selected is not None else default_selection(card.card)
        elif card.has_menu_key(button_key):
            event, chosen = "template_card_menu_event", {}
        else:
            raise ClickError(f"card {msgid!r} has no live callback button {button_key!r}")
        code = self.messages.issue_response_code(msgid, (sender.userid,))
        xml = template_card_event_xml(
            sender,
            event=event,
            event_key=button_key,
            task_id=card.task_id,
            card_type=card.card_type,
            response_code=code,
            selected=chosen,
        )
        result = await self._push(sender.userid, event, xml)
        self._apply_card_reply(sender.userid, msgid, result)
        return result

    async def verify_url(self) -> bool:
        return await self.callback_client.verify_url()

    # -- customers (WeChat users, not members): 客户联系 ----------------------------------------------

    async def customer_adds(
        self, config_id: str, name: str = "微信用户", external_userid: str = ""
    ) -> tuple[Added, CallbackResult]:
        """A customer scans a 「联系我」 QR code and adds its member: WeCom pushes add_external_contact
        (change_external_contact, 92130) from `sys` to the app's callback URL."""
        added = self.contact.customer_adds(config_id, name, external_userid)
        sender = Sender(
            corp_id=self.config.corp_id, userid="sys", agent_id=self.config.agent_id, create_time=int(time.time())
        )
        fields: list[tuple[str, Any]] = [
            *sender.head("event"),
            ("Event", "change_external_contact"),
            ("ChangeType", "add_external_contact"),
            ("UserID", added.userid),
            ("ExternalUserID", added.external_userid),
            ("State", added.state),
        ]
        if added.welcome_code:
            fields.append(("WelcomeCode", added.welcome_code))
        result = await self._push("sys", "change_external_contact", render_xml(fields))
        return added, result

    def member_confirms_mass_send(self, userid: str, msgid: str) -> MassTask:
        """The member sends a pending enterprise mass-send task from their client (群发助手)."""
        task = self.contact.confirm(self.user(userid).userid, msgid)
        return task

    def pending_mass_sends(self, userid: str) -> list[MassTask]:
        return self.contact.pending_tasks(self.user(userid).userid)

    def customer_received(self, external_userid: str) -> list[Received]:
        """What a customer got in WeChat from members: welcome messages and mass-sends that reached them."""
        return list(self.contact.received.get(external_userid, []))

    # -- the directory (通讯录) changing: each change is a change_contact event to Relay ---------------------
    # Since 2022-08-15 a newly set callback URL gets only UserID/Department of a member and Id/ParentId of a
    # department, and update_party only when ParentId changes (90970/90971, 【重要】): the emulator sends that
    # narrowest form, so a rename reaches Relay only through its scheduled sync. `notify=False` makes a change
    # whose event WeCom never delivered.

    async def member_joins(self, user: EmulatorUser, *, notify: bool = True) -> CallbackResult | None:
        self.directory.add_user(user)
        return await self._contact_change(
            notify, "create_user", [("UserID", user.userid), ("Department", _ids(user.department))]
        )

    async def member_changes(
        self, userid: str, *, name: str | None = None, department: list[int] | None = None, notify: bool = True
    ) -> CallbackResult | None:
        user = self.directory.update_user(userid, name=name, department=department)
        return await self._contact_change(
            notify, "update_user", [("UserID", user.userid), ("Department", _ids(user.department))]
        )

    async def member_leaves(self, userid: str, *, notify: bool = True) -> CallbackResult | None:
        user = self.directory.remove_user(userid)
        return await self._contact_change(notify, "delete_user", [("UserID", user.userid)])

    async def department_created(self, dept: EmulatorDepartment, *, notify: bool = True) -> CallbackResult | None:
        self.directory.add_department(dept)
        return await self._contact_change(notify, "create_party", [("Id", dept.id), ("ParentId", str(dept.parentid))])

    async def department_changes(
        self, department_id: int, *, name: str | None = None, parentid: int | None = None, notify: bool = True
    ) -> CallbackResult | None:
        before = self.directory.departments.get(department_id)
        if before is None:
            raise DirectoryError(f"no department {department_id}")
        dept = self.directory.update_department(department_id, name=name, parentid=parentid)
        if dept.parentid == before.parentid:
            return None  # a rename alone raises no event
        return await self._contact_change(notify, "update_party", [("Id", dept.id), ("ParentId", str(dept.parentid))])

    async def department_deleted(self, department_id: int, *, notify: bool = True) -> CallbackResult | None:
        self.directory.remove_department(department_id)
        return await self._contact_change(notify, "delete_party", [("Id", department_id)])

    async def member_tagged(
        self, tagid: int, userid: str, *, tagged: bool = True, notify: bool = True
    ) -> CallbackResult | None:
        """A tag given to (or taken from) a member: update_tag with AddUserItems / DelUserItems (90972)."""
        self.directory.tag_user(tagid, userid, tagged=tagged)
        user = self.user(userid).userid
        fields: list[tuple[str, Any]] = [("TagId", tagid), ("AddUserItems" if tagged else "DelUserItems", user)]
        return await self._contact_change(notify, "update_tag", fields)

    async def resend(self, record: CallbackRecord) -> CallbackResult:
        """WeCom delivering an event again (a retry after a lost answer): the same inner XML."""
        return await self._push(record.userid, record.kind, record.xml)

    async def _contact_change(
        self, notify: bool, change_type: str, fields: list[tuple[str, Any]]
    ) -> CallbackResult | None:
        if not notify:
            return None
        sender = Sender(
            corp_id=self.config.corp_id, userid="sys", agent_id=self.config.agent_id, create_time=int(time.time())
        )
        return await self._push("sys", f"change_contact:{change_type}", change_contact_xml(sender, change_type, fields))

    def _record_own(self, sender: Sender, payload: dict[str, Any], msg_id: int) -> None:
        self.chats.append(
            userid=sender.userid, direction="in", payload=payload, msgid=str(msg_id), time=sender.create_time
        )

    async def _push(self, userid: str, kind: str, xml: str) -> CallbackResult:
        result = await self.callback_client.deliver(xml)
        self.callbacks.append(
            CallbackRecord(
                seq=len(self.callbacks) + 1,
                time=int(time.time()),
                userid=userid,
                kind=kind,
                xml=xml,
                result=result,
            )
        )
        self._apply_text_reply(userid, result)
        return result

    def _apply_text_reply(self, userid: str, result: CallbackResult) -> None:
        """A passive text reply shows up in the member's chat like a sent message."""
        reply = result.reply or {}
        if reply.get("MsgType") != "text":
            return
        payload = {"msgtype": "text", "text": {"content": str(reply.get("Content") or "")}}
        self.chats.append(
            userid=userid,
            direction="out",
            payload=payload,
            msgid=secrets.token_urlsafe(32),
            time=int(time.time()),
        )

    def _apply_card_reply(self, userid: str, msgid: str, result: CallbackResult) -> None:
        """update_button as a passive reply: only the clicker's card changes."""
        reply = result.reply or {}
        button = reply.get("Button")
        if reply.get("MsgType") == "update_button" and isinstance(button, dict) and button.get("ReplaceName"):
            self.messages.rewrite_user_card(userid, msgid, {"replace_name": str(button["ReplaceName"])})


def _ids(ids: Sequence[int]) -> str:
    return ",".join(str(i) for i in ids)


def default_selection(card: dict[str, Any]) -> dict[str, list[str]]:
    """What a member submits without touching the card's choices: its preselected options."""
    chosen: dict[str, list[str]] = {}
    selection = card.get("button_selection")
    if isinstance(selection, dict) and selection.get("selected_id"):
        chosen[str(selection.get("question_key", ""))] = [str(selection["selected_id"])]
    checkbox = card.get("checkbox")
    if isinstance(checkbox, dict):
        checked = [str(o.get("id")) for o in checkbox.get("option_list", []) if o.get("is_checked")]
        if checked:
            chosen[str(checkbox.get("question_key", ""))] = checked
    for select in card.get("select_list", []) or []:
        if isinstance(select, dict) and select.get("selected_id"):
            chosen[str(select.get("question_key", ""))] = [str(select["selected_id"])]
    return chosen

"""WeCom -> Relay: inner XML as WeCom builds it (90239/90240), encrypted, signed and POSTed with retries."""

from __future__ import annotations

import secrets
import time
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
import xmltodict
from wechatpy.enterprise.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException

from emulator.config import EmulatorConfig

# A field value: text (CDATA), a number (bare) or nested fields.
XmlValue = str | int | Sequence[tuple[str, "XmlValue"]]


def cdata(text: str) -> str:
    # "]]>" cannot sit inside one CDATA section; split it across two.
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def render_fields(fields: Sequence[tuple[str, XmlValue]]) -> str:
    parts = []
    for name, value in fields:
        if isinstance(value, bool):
            raise TypeError(f"{name}: booleans have no XML form here")
        if isinstance(value, int):
            inner = str(value)
        elif isinstance(value, str):
            inner = cdata(value)
        else:
            inner = render_fields(value)
        parts.append(f"<{name}>{inner}</{name}>")
    return "".join(parts)


def render_xml(fields: Sequence[tuple[str, XmlValue]]) -> str:
    return f"<xml>{render_fields(fields)}</xml>"


@dataclass(frozen=True)
class Sender:
    """The fields every inner XML starts with, and the AgentID it ends with."""

    corp_id: str
    userid: str
    agent_id: int
    create_time: int

    def head(self, msgtype: str) -> list[tuple[str, XmlValue]]:
        return [
            ("ToUserName", self.corp_id),
            ("FromUserName", self.userid),
            ("CreateTime", self.create_time),
            ("MsgType", msgtype),
        ]


def text_xml(sender: Sender, *, content: str, msg_id: int) -> str:
    return render_xml([*sender.head("text"), ("Content", content), ("MsgId", msg_id), ("AgentID", sender.agent_id)])


def image_xml(sender: Sender, *, pic_url: str, media_id: str, msg_id: int) -> str:
    return render_xml(
        [
            *sender.head("image"),
            ("PicUrl", pic_url),
            ("MediaId", media_id),
            ("MsgId", msg_id),
            ("AgentID", sender.agent_id),
        ]
    )


def event_xml(sender: Sender, *, event: str, event_key: str = "", extra: Sequence[tuple[str, XmlValue]] = ()) -> str:
    return render_xml(
        [
            *sender.head("event"),
            ("Event", event),
            ("EventKey", event_key),
            *extra,
            ("AgentID", sender.agent_id),
        ]
    )


def scancode_xml(sender: Sender, *, event_key: str, scan_type: str, result: str) -> str:
    info: list[tuple[str, XmlValue]] = [("ScanType", scan_type), ("ScanResult", result)]
    return event_xml(sender, event="scancode_waitmsg", event_key=event_key, extra=[("ScanCodeInfo", info)])


def change_contact_xml(sender: Sender, change_type: str, fields: Sequence[tuple[str, XmlValue]]) -> str:
    """A directory change (change_contact, 90970-90972) from `sys`: no AgentID, as the pages show it."""
    return render_xml([*sender.head("event"), ("Event", "change_contact"), ("ChangeType", change_type), *fields])


def selected_items(selected: Mapping[str, Sequence[str]]) -> list[tuple[str, XmlValue]]:
    items: list[tuple[str, XmlValue]] = []
    for question_key, option_ids in selected.items():
        options: list[tuple[str, XmlValue]] = [("OptionId", str(o)) for o in option_ids]
        items.append(("SelectedItem", [("QuestionKey", question_key), ("OptionIds", options)]))
    return items


def template_card_event_xml(
    sender: Sender,
    *,
    event: str,
    event_key: str,
    task_id: str,
    card_type: str,
    response_code: str,
    selected: Mapping[str, Sequence[str]] | None = None,
) -> str:
    """template_card_event (or _menu_event): no MsgId; SelectedItems after AgentID as in 90240."""
    fields: list[tuple[str, XmlValue]] = [
        *sender.head("event"),
        ("Event", event),
        ("EventKey", event_key),
        ("TaskId", task_id),
        ("CardType", card_type),
        ("ResponseCode", response_code),
        ("AgentID", sender.agent_id),
    ]
    if selected:
        fields.append(("SelectedItems", selected_items(selected)))
    return render_xml(fields)


@dataclass(frozen=True)
class Envelope:
    body: str
    params: dict[str, str]  # msg_signature, timestamp, nonce


def seal(crypto: WeChatCrypto, *, corp_id: str, agent_id: int, inner_xml: str) -> Envelope:
    timestamp = str(int(time.time()))
    nonce = str(secrets.randbelow(10**10))
    # wechatpy builds the passive-reply form; its Encrypt and MsgSignature are what a callback carries.
    reply = ET.fromstring(crypto.encrypt_message(inner_xml, nonce, timestamp))
    encrypt = reply.findtext("Encrypt") or ""
    signature = reply.findtext("MsgSignature") or ""
    body = render_xml([("ToUserName", corp_id), ("AgentID", str(agent_id)), ("Encrypt", encrypt)])
    return Envelope(body=body, params={"msg_signature": signature, "timestamp": timestamp, "nonce": nonce})


@dataclass
class CallbackResult:
    attempts: int
    status: int | None  # the last attempt's HTTP status; None when it timed out or failed to connect
    body: str = ""
    error: str | None = None
    reply: dict[str, Any] | None = None  # the decrypted passive reply, when Relay answered with one
    reply_error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "attempts": self.attempts,
            "status": self.status,
            "error": self.error,
            "reply": self.reply,
            "reply_error": self.reply_error,
        }


def decrypt_reply(crypto: WeChatCrypto, body: str) -> dict[str, Any]:
    """A passive reply: <xml><Encrypt/><MsgSignature/><TimeStamp/><Nonce/></xml>, signed like a callback."""
    outer = ET.fromstring(body)
    signature = outer.findtext("MsgSignature") or ""
    timestamp = outer.findtext("TimeStamp") or ""
    nonce = outer.findtext("Nonce") or ""
    inner = crypto.decrypt_message(body, signature, timestamp, nonce)
    parsed = xmltodict.parse(inner)["xml"]
    return dict(parsed) if parsed else {}


class CallbackClient:
    def __init__(self, config: EmulatorConfig) -> None:
        self._config = config
        self.crypto = WeChatCrypto(config.token, config.encoding_aes_key, config.corp_id)
        self._session: aiohttp.ClientSession | None = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def deliver(self, inner_xml: str) -> CallbackResult:
        """POST until a 200; re-sends the identical request (same timestamp, nonce, signature)."""
        envelope = seal(self.crypto, corp_id=self._config.corp_id, agent_id=self._config.agent_id, inner_xml=inner_xml)
        result = CallbackResult(attempts=0, status=None)
        for _ in range(1 + self._config.callback_retries):
            result = await self._attempt(envelope, result.attempts + 1)
            if result.ok:
                self._read_reply(result)
                break
        return result

    async def _attempt(self, envelope: Envelope, attempt: int) -> CallbackResult:
        timeout = aiohttp.ClientTimeout(total=self._config.callback_timeout)
        try:
            async with self._http().post(
                self._config.callback_url,
                params=envelope.params,
                data=envelope.body.encode("utf-8"),
                headers={"Content-Type": "text/xml; charset=utf-8"},
                timeout=timeout,
            ) as response:
                return CallbackResult(attempts=attempt, status=response.status, body=await response.text())
        except TimeoutError:
            return CallbackResult(attempts=attempt, status=None, error="timeout")
        except aiohttp.ClientError as exc:
            return CallbackResult(attempts=attempt, status=None, error=f"{type(exc).__name__}: {exc}")

    def _read_reply(self, result: CallbackResult) -> None:
        if not result.body.strip():
            return  # "received, nothing to reply"
        try:
            result.reply = decrypt_reply(self.crypto, result.body)
        except InvalidSignatureException:
            result.reply_error = "passive reply has a bad MsgSignature"
        except Exception as exc:  # any unreadable reply is reported on the result, never raised
            result.reply_error = f"passive reply unreadable: {type(exc).__name__}"

    async def verify_url(self) -> bool:
        """The GET echostr check WeCom runs when the callback URL is saved."""
        echo = str(secrets.randbelow(10**19))
        sealed = seal(self.crypto, corp_id=self._config.corp_id, agent_id=self._config.agent_id, inner_xml=echo)
        encrypt = ET.fromstring(sealed.body).findtext("Encrypt") or ""
        params = {**sealed.params, "echostr": encrypt}
        timeout = aiohttp.ClientTimeout(total=self._config.callback_timeout)
        try:
            async with self._http().get(self._config.callback_url, params=params, timeout=timeout) as response:
                # Byte for byte: a BOM, quotes or a trailing newline fail WeCom's check too.
                return response.status == 200 and await response.read() == echo.encode()
        except (TimeoutError, aiohttp.ClientError):
            return False

"""Each member's conversation with the app, as the console shows it and tests assert on it."""

from __future__ import annotations

import asyncio
import copy
from dataclasses import dataclass, field
from time import time as wall_clock
from typing import Any, Literal

Direction = Literal["in", "out"]  # in: from the member, out: from the bot

INTERACTIVE_CARD_TYPES = frozenset({"button_interaction", "vote_interaction", "multiple_interaction"})


@dataclass(frozen=True)
class CardButton:
    key: str
    text: str
    type: int = 0  # 0 callback, 1 url
    style: int = 1
    url: str = ""


@dataclass(frozen=True)
class CardView:
    """A template card as the member currently sees it."""

    msgid: str
    card: dict[str, Any]

    @property
    def card_type(self) -> str:
        return str(self.card.get("card_type", ""))

    @property
    def task_id(self) -> str:
        return str(self.card.get("task_id", ""))

    @property
    def title(self) -> str:
        return str(self.card.get("main_title", {}).get("title", ""))

    @property
    def desc(self) -> str:
        return str(self.card.get("main_title", {}).get("desc", ""))

    @property
    def sub_title_text(self) -> str:
        return str(self.card.get("sub_title_text", ""))

    @property
    def buttons(self) -> tuple[CardButton, ...]:
        return tuple(
            CardButton(
                key=str(b.get("key", "")),
                text=str(b.get("text", "")),
                type=int(b.get("type", 0)),
                style=int(b.get("style", 1)),
                url=str(b.get("url", "")),
            )
            for b in self.card.get("button_list", [])
        )

    @property
    def button_texts(self) -> list[str]:
        return [b.text for b in self.buttons]

    @property
    def replace_text(self) -> str | None:
        """The grey label that stands where the buttons were, once the card was answered."""
        text = self.card.get("replace_text")
        return str(text) if text else None

    @property
    def replaced(self) -> bool:
        return self.replace_text is not None

    @property
    def fields(self) -> dict[str, str]:
        """horizontal_content_list as keyname -> value."""
        return {
            str(row.get("keyname", "")): str(row.get("value", ""))
            for row in self.card.get("horizontal_content_list", [])
        }

    def button(self, key: str) -> CardButton:
        for b in self.buttons:
            if b.key == key:
                return b
        raise KeyError(key)

    def has_callback_key(self, key: str) -> bool:
        if self.replaced:
            return False
        keys = {b.key for b in self.buttons if b.type == 0}
        submit = self.card.get("submit_button")
        if isinstance(submit, dict):
            keys.add(str(submit.get("key", "")))
        return key in keys

    def has_menu_key(self, key: str) -> bool:
        actions = self.card.get("action_menu", {}).get("action_list", [])
        return any(str(a.get("key", "")) == key for a in actions)


@dataclass
class ChatEntry:
    seq: int  # position in the whole emulator, never changes
    rev: int  # last change; equals seq until a card update rewrites the entry
    userid: str
    direction: Direction
    msgtype: str
    payload: dict[str, Any]  # the message JSON as sent, card replacements applied
    msgid: str
    time: int
    # When the emulator got the entry, or last changed it (a card update): epoch seconds, for timing.
    changed_at: float = field(default_factory=wall_clock)

    @property
    def text(self) -> str | None:
        """The content of a text or markdown message."""
        if self.msgtype in ("text", "markdown"):
            return str(self.payload.get(self.msgtype, {}).get("content", ""))
        return None

    @property
    def card(self) -> CardView | None:
        if self.msgtype != "template_card":
            return None
        return CardView(self.msgid, self.payload.get("template_card", {}))

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "rev": self.rev,
            "userid": self.userid,
            "direction": self.direction,
            "msgtype": self.msgtype,
            "payload": self.payload,
            "msgid": self.msgid,
            "time": self.time,
            "changed_at": round(self.changed_at, 6),
        }


@dataclass
class ChatLog:
    _entries: dict[str, list[ChatEntry]] = field(default_factory=dict)
    _counter: int = 0
    _waiters: list[asyncio.Future[None]] = field(default_factory=list)

    @property
    def revision(self) -> int:
        return self._counter

    def _next(self) -> int:
        self._counter += 1
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)
        return self._counter

    async def changed(self) -> None:
        """Returns after the next new or rewritten entry."""
        await self.watch()

    def watch(self) -> asyncio.Future[None]:
        """A future done at the next new or rewritten entry: taken before reading the entries, it misses
        none that come while they are being sent."""
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        return waiter

    def append(self, *, userid: str, direction: Direction, payload: dict[str, Any], msgid: str, time: int) -> ChatEntry:
        seq = self._next()
        entry = ChatEntry(
            seq=seq,
            rev=seq,
            userid=userid,
            direction=direction,
            msgtype=str(payload.get("msgtype", "")),
            # Each recipient gets their own copy: a card update for one must not touch the others.
            payload=copy.deepcopy(payload),
            msgid=msgid,
            time=time,
        )
        self._entries.setdefault(userid, []).append(entry)
        return entry

    def entries(self, userid: str, after: int = 0) -> list[ChatEntry]:
        return [e for e in self._entries.get(userid, []) if e.rev > after]

    def find(self, userid: str, msgid: str) -> ChatEntry | None:
        for entry in reversed(self._entries.get(userid, [])):
            if entry.msgid == msgid:
                return entry
        return None

    def rewrite_card(self, entry: ChatEntry, card: dict[str, Any]) -> None:
        entry.payload["template_card"] = copy.deepcopy(card)
        entry.msgtype = "template_card"
        entry.payload["msgtype"] = "template_card"
        entry.rev = self._next()
        entry.changed_at = wall_clock()

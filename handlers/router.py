"""Routing inbound events to handlers: one Router per role, gated once at router level.

Text handlers match a regular expression on the message; click handlers match the typed button key
they declare; image handlers take photos. The first router (in include order) whose role the member
holds and that has a matching handler wins.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from bot.events import CardClick, Event, ImageMessage, ScanCode, TextMessage
from cards.keys import ButtonKey
from infra.runtime import Links, runtime
from models import Role, Staff
from workflow import notify


@dataclass
class Ctx:
    """What a handler gets: who, what they sent, what was prepared outside the transaction."""

    staff: Staff
    event: Event
    prepared: Any = None
    key: ButtonKey | None = None

    @property
    def links(self) -> Links:
        return runtime().links

    async def reply(self, text: str) -> None:
        await notify.reply(self.staff.userid, text)

    async def send(self, message: dict[str, Any]) -> None:
        await notify.send(message)

    async def mark_card(self, label: str) -> None:
        """Replace the tapped card's buttons with a label (the click's one-use response code)."""
        if isinstance(self.event, CardClick) and self.event.response_code:
            await notify.update_tapped(self.staff.userid, self.event.response_code, label)


Bound = Callable[[], Awaitable[None]]  # a handler with what it asked for already handed to it
K = TypeVar("K", bound=ButtonKey)
TextFn = Callable[[Ctx, re.Match[str]], Awaitable[None]]
ImageFn = Callable[[Ctx, ImageMessage], Awaitable[None]]
ScanFn = Callable[[Ctx, ScanCode], Awaitable[None]]


@dataclass
class Router:
    """Handlers get what they asked for, typed: the regex match of a text, the unpacked button key of
    a tap (as aiogram's callback-data filters do), the photo or the scan."""

    name: str
    roles: tuple[Role, ...] = ()  # empty: every member
    texts: list[tuple[re.Pattern[str], TextFn]] = field(default_factory=list)
    clicks: dict[type[ButtonKey], Callable[[Ctx, Any], Awaitable[None]]] = field(default_factory=dict)
    images: list[ImageFn] = field(default_factory=list)
    scans: dict[str, ScanFn] = field(default_factory=dict)

    def allows(self, staff: Staff) -> bool:
        return not self.roles or any(staff.has_role(r) for r in self.roles)

    def text(self, pattern: str) -> Callable[[TextFn], TextFn]:
        def register(fn: TextFn) -> TextFn:
            self.texts.append((re.compile(pattern), fn))
            return fn

        return register

    def click(
        self, key_type: type[K]
    ) -> Callable[[Callable[[Ctx, K], Awaitable[None]]], Callable[[Ctx, K], Awaitable[None]]]:
        def register(fn: Callable[[Ctx, K], Awaitable[None]]) -> Callable[[Ctx, K], Awaitable[None]]:
            self.clicks[key_type] = fn
            return fn

        return register

    def scan(self, event_key: str) -> Callable[[ScanFn], ScanFn]:
        def register(fn: ScanFn) -> ScanFn:
            self.scans[event_key] = fn
            return fn

        return register

    def image(self) -> Callable[[ImageFn], ImageFn]:
        def register(fn: ImageFn) -> ImageFn:
            self.images.append(fn)
            return fn

        return register


def find_handler(routers: list[Router], ctx: Ctx) -> Bound | None:
    event = ctx.event
    for router in routers:
        if not router.allows(ctx.staff):
            continue
        if isinstance(event, TextMessage):
            for pattern, text_fn in router.texts:
                match = pattern.fullmatch(event.content.strip())
                if match:
                    return partial(text_fn, ctx, match)
        elif isinstance(event, CardClick) and ctx.key is not None:
            clicked = router.clicks.get(type(ctx.key))
            if clicked is not None:
                return partial(clicked, ctx, ctx.key)
        elif isinstance(event, ImageMessage) and router.images:
            return partial(router.images[0], ctx, event)
        elif isinstance(event, ScanCode) and event.event_key in router.scans:
            return partial(router.scans[event.event_key], ctx, event)
    return None

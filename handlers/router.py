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
# A text handler's slow part (drawing a chart, storing a file), run before its transaction opens; what it
# returns reaches the handler as ctx.prepared. It writes nothing to the database, so running it again after a
# crash is harmless.
PrepareFn = Callable[[Ctx, re.Match[str]], Awaitable[Any]]
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
    prepares: dict[TextFn, PrepareFn] = field(default_factory=dict)

    def allows(self, staff: Staff) -> bool:
        return not self.roles or any(staff.has_role(r) for r in self.roles)

    def text(self, pattern: str, *, prepare: PrepareFn | None = None) -> Callable[[TextFn], TextFn]:
        def register(fn: TextFn) -> TextFn:
            self.texts.append((re.compile(pattern), fn))
            if prepare is not None:
                self.prepares[fn] = prepare
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


@dataclass(frozen=True)
class Found:
    """The handler for an event, with its arguments bound; and its slow part, if it declared one."""

    run: Bound
    prepare: Callable[[], Awaitable[Any]] | None = None


def find_handler(routers: list[Router], ctx: Ctx) -> Found | None:
    event = ctx.event
    for router in routers:
        if not router.allows(ctx.staff):
            continue
        if isinstance(event, TextMessage):
            for pattern, text_fn in router.texts:
                match = pattern.fullmatch(event.content.strip())
                if match:
                    prepare = router.prepares.get(text_fn)
                    return Found(partial(text_fn, ctx, match), partial(prepare, ctx, match) if prepare else None)
        elif isinstance(event, CardClick) and ctx.key is not None:
            clicked = router.clicks.get(type(ctx.key))
            if clicked is not None:
                return Found(partial(clicked, ctx, ctx.key))
        elif isinstance(event, ImageMessage) and router.images:
            return Found(partial(router.images[0], ctx, event))
        elif isinstance(event, ScanCode) and event.event_key in router.scans:
            return Found(partial(router.scans[event.event_key], ctx, event))
    return None

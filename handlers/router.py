"""Routing inbound events to handlers: one Router per role, gated once at router level.

Text handlers match a regular expression on the message; click handlers match the typed button key
they declare; image handlers take photos. The first router (in include order) whose role the member
holds and that has a matching handler wins.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from bot.events import CardClick, Event, ImageMessage, ScanCode, TextMessage
from bot.outbox import enqueue_card_update, enqueue_message
from cards.common import text_message
from cards.keys import ButtonKey
from models import Role, Staff
from relay.runtime import Links, runtime


@dataclass
class Ctx:
    """What a handler gets: who, what they sent, what was prepared outside the transaction."""

    staff: Staff
    event: Event
    prepared: Any = None
    match: re.Match[str] | None = None
    key: ButtonKey | None = None

    @property
    def links(self) -> Links:
        return runtime().links

    async def reply(self, text: str) -> None:
        await enqueue_message(text_message(self.staff.userid, text))

    async def send(self, message: dict[str, Any]) -> None:
        await enqueue_message(message)

    async def mark_card(self, label: str) -> None:
        """Replace the tapped card's buttons with a label (the click's one-use response code)."""
        if isinstance(self.event, CardClick) and self.event.response_code:
            await enqueue_card_update(
                userids=[self.staff.userid], response_code=self.event.response_code, replace_name=label
            )


HandlerFn = Callable[[Ctx], Awaitable[None]]
# A handler's slow part (drawing a chart, storing a file), run before its transaction opens; what it returns
# reaches the handler as ctx.prepared. It writes nothing to the database, so running it again after a crash
# is harmless.
PrepareFn = Callable[[Ctx], Awaitable[Any]]


@dataclass
class Router:
    name: str
    roles: tuple[Role, ...] = ()  # empty: every member
    texts: list[tuple[re.Pattern[str], HandlerFn]] = field(default_factory=list)
    clicks: dict[type[ButtonKey], HandlerFn] = field(default_factory=dict)
    images: list[HandlerFn] = field(default_factory=list)
    scans: dict[str, HandlerFn] = field(default_factory=dict)
    prepares: dict[HandlerFn, PrepareFn] = field(default_factory=dict)

    def allows(self, staff: Staff) -> bool:
        return not self.roles or any(staff.has_role(r) for r in self.roles)

    def text(self, pattern: str, *, prepare: PrepareFn | None = None) -> Callable[[HandlerFn], HandlerFn]:
        def register(fn: HandlerFn) -> HandlerFn:
            self.texts.append((re.compile(pattern), fn))
            if prepare is not None:
                self.prepares[fn] = prepare
            return fn

        return register

    def click(self, key_type: type[ButtonKey]) -> Callable[[HandlerFn], HandlerFn]:
        def register(fn: HandlerFn) -> HandlerFn:
            self.clicks[key_type] = fn
            return fn

        return register

    def scan(self, event_key: str) -> Callable[[HandlerFn], HandlerFn]:
        def register(fn: HandlerFn) -> HandlerFn:
            self.scans[event_key] = fn
            return fn

        return register

    def image(self) -> Callable[[HandlerFn], HandlerFn]:
        def register(fn: HandlerFn) -> HandlerFn:
            self.images.append(fn)
            return fn

        return register


def find_handler(routers: list[Router], ctx: Ctx) -> HandlerFn | None:
    event = ctx.event
    for router in routers:
        if not router.allows(ctx.staff):
            continue
        if isinstance(event, TextMessage):
            for pattern, fn in router.texts:
                match = pattern.fullmatch(event.content.strip())
                if match:
                    ctx.match = match
                    return fn
        elif isinstance(event, CardClick) and ctx.key is not None:
            clicked = router.clicks.get(type(ctx.key))
            if clicked is not None:
                return clicked
        elif isinstance(event, ImageMessage) and router.images:
            return router.images[0]
        elif isinstance(event, ScanCode) and event.event_key in router.scans:
            return router.scans[event.event_key]
    return None


def find_prepare(routers: list[Router], handler: HandlerFn) -> PrepareFn | None:
    for router in routers:
        if handler in router.prepares:
            return router.prepares[handler]
    return None

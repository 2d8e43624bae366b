"""Who is waiting for a message Relay sends: the member who just asked, someone told of a step, or
nobody in particular (alerts, reminders, the daily numbers). WeCom lets an app send each member only
so many messages (90454), so the outbox sends the first kind first and leaves them room.

The inbox marks the member it is answering, the scheduler marks its jobs as pushes; whatever is
queued inside is classed by these marks, without every caller saying so.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from enum import IntEnum


class Priority(IntEnum):
    ANSWER = 0  # to the member whose message is being handled: they are waiting for it
    NOTICE = 1  # someone's step tells others
    PUSH = 2  # alerts, reminders, digests, the daily numbers: nobody asked just now


_answering: ContextVar[str] = ContextVar("answering", default="")
_pushing: ContextVar[bool] = ContextVar("pushing", default=False)


@contextlib.contextmanager
def answering(userid: str) -> Iterator[None]:
    """While handling a member's message: what goes back to them alone is their answer."""
    token = _answering.set(userid)
    try:
        yield
    finally:
        _answering.reset(token)


@contextlib.contextmanager
def pushing() -> Iterator[None]:
    """While running a scheduled job: what it sends, nobody asked for just now."""
    token = _pushing.set(True)
    try:
        yield
    finally:
        _pushing.reset(token)


def priority_for(touser: str) -> Priority:
    if _pushing.get():
        return Priority.PUSH
    asker = _answering.get()
    return Priority.ANSWER if asker and touser == asker else Priority.NOTICE

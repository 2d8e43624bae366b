"""What a member's next chat message refers to: the job their photos belong to, the order their scans
are for. Chat has no form around a message, so this small state stands in for one (aiogram keeps its
FSM the same way): one interface over the key-value store, in-process for the demo, Redis for
several processes.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.kv import KeyValueStore
from infra.runtime import runtime
from models import InboxMessage, MessageState, Staff, Task, TaskKind, TaskState


@dataclass(frozen=True)
class Slot:
    name: str  # part of the stored key: chat:<name>:<userid>
    ttl: float  # seconds: a context nobody used for this long is forgotten


PHOTOS = Slot("task", 7 * 86400)  # the measuring or installing job the member's photos go to
GOODS_IN = Slot("goods", 86400)  # the order the warehouse member's scans are for
PHOTO_BATCH = Slot("photo-batch", 3600)  # the first photo of a batch still arriving
# The service ticket the installer's photos go to, and whether before (even) or after (odd) the work:
# ticket id * 2 + 1 for after. Checked before the field job's photos (workflow/tickets.py).
TICKET_PHOTOS = Slot("ticket", 7 * 86400)


class ChatState:
    def __init__(self, store: KeyValueStore) -> None:
        self.store = store

    @staticmethod
    def key(slot: Slot, userid: str) -> str:
        return f"chat:{slot.name}:{userid}"

    async def get(self, slot: Slot, userid: str) -> int | None:
        value = await self.store.get(self.key(slot, userid))
        return int(value) if value and value.isdigit() else None

    async def set(self, slot: Slot, userid: str, value: int) -> None:
        await self.store.set(self.key(slot, userid), str(value), ttl=slot.ttl)

    async def clear(self, slot: Slot, userid: str, *, only: int | None = None) -> None:
        """Forget the context; with `only`, just if it still points there (another may have replaced it)."""
        await self.store.delete(self.key(slot, userid), if_value=None if only is None else str(only))


def chat() -> ChatState:
    return ChatState(runtime().kv)


async def photo_task(staff: Staff) -> Task | None:
    """The job a photo from this member belongs to: the one they picked, else their only accepted one."""
    remembered = await chat().get(PHOTOS, staff.userid)
    if remembered is not None:
        task = await Task.get_or_none(id=remembered, assignee_id=staff.id, state=TaskState.ACCEPTED)
        if task is not None:
            return task
    tasks = await Task.filter(
        assignee_id=staff.id, kind__in=[TaskKind.MEASURE, TaskKind.INSTALL], state=TaskState.ACCEPTED
    ).limit(2)
    return tasks[0] if len(tasks) == 1 else None


async def photo_batch(staff: Staff, photo_id: int) -> int | None:
    """Photos sent together arrive as one message each. While another photo of this member's waits in
    the inbox, this one joins a batch still arriving (None: it gets no answer of its own); the last one
    gets the id of its batch's first photo (its own, sent alone), to answer for them all at once. WeCom
    drops what a member gets beyond 30 messages a minute, so 40 photos must not bring 40 cards."""
    state = chat()
    first = await state.get(PHOTO_BATCH, staff.userid)
    waiting = await InboxMessage.filter(userid=staff.userid, msg_type="image", state=MessageState.PENDING).count()
    if waiting > 1:  # this one (still pending while it is handled) and at least one more
        if first is None:
            await state.set(PHOTO_BATCH, staff.userid, photo_id)
        return None
    await state.clear(PHOTO_BATCH, staff.userid)
    return first if first is not None and first < photo_id else photo_id

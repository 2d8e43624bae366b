"""Turning inbound events into workflow calls and cards. The routers, in the order they are tried."""

from __future__ import annotations

import logging
from typing import Any

from tortoise.transactions import in_transaction

from bot.client import MediaTooLarge, WeComClient, WeComError
from bot.events import CardClick, DirectoryChanged, EnterAgent, Event, ExternalContactAdded, ImageMessage, TextMessage
from cards.keys import KeyError_, unpack_key
from handlers import (
    common,
    contact,
    dealers,
    dispatchers,
    factory,
    finance,
    leads,
    managers,
    news,
    sales,
    stock,
    tickets,
    warehouse,
    workers,
)
from handlers.router import Ctx, Router, find_handler
from infra.errors import UserError
from infra.runtime import runtime
from infra.storage import RejectedFile, StoredFile
from models import Staff
from workflow import directory, notify
from workflow.errors import Conflict, WorkflowError
from workflow.order_lifecycle import ORDER
from workflow.tasks import PHOTO_STEPS

log = logging.getLogger(__name__)

ROUTERS: list[Router] = [
    sales.router,
    dispatchers.router,
    workers.router,
    warehouse.router,
    factory.router,
    managers.router,
    finance.router,
    leads.router,
    contact.router,
    tickets.router,
    news.router,
    dealers.router,
    stock.router,
    common.router,
]

# Who sends photos in the chat: whoever the lifecycle lets add them. Only their photos are fetched.
PHOTO_ROLES = {role for step in PHOTO_STEPS.values() for role in ORDER[step].roles()}

NOT_A_MEMBER = "你还不是接力的成员，请联系管理员开通账号。"
SORRY = "抱歉，处理你的消息时出错了，我们已记录问题，请稍后再试。"


class Dispatcher:
    def __init__(self, client: WeComClient, routers: list[Router] | None = None) -> None:
        self.client = client
        self.routers = routers or ROUTERS

    async def prepare(self, event: Event) -> Any:
        """Outside the transaction: a photo fetched from WeCom and stored, or a handler's own slow part.

        A refusal (WorkflowError) is returned, not raised: the handler's transaction answers it.
        """
        if isinstance(event, ExternalContactAdded):
            return None  # from WeCom itself ("sys"), not a member: handled in handle()
        if isinstance(event, DirectoryChanged):
            return await directory.prepare_change(self.client, event) if directory.enabled() else None
        staff = await Staff.get_or_none(userid=event.userid, active=True)
        if staff is None:
            return None
        if isinstance(event, ImageMessage):
            return await self._fetch_photo(staff, event)
        found = find_handler(self.routers, Ctx(staff=staff, event=event))
        if found is None or found.prepare is None:
            return None
        try:
            return await found.prepare()
        except WorkflowError as exc:
            return exc

    async def _fetch_photo(self, staff: Staff, event: ImageMessage) -> StoredFile | RejectedFile | None:
        if not any(staff.has_role(r) for r in PHOTO_ROLES):
            return None
        files = runtime().files
        try:
            media = await self.client.get_media(event.media_id, max_bytes=files.max_image_bytes)
        except MediaTooLarge:
            return RejectedFile(f"图片太大，请发送 {files.max_image_bytes // 1048576} MB 以内的图片")
        except WeComError as exc:
            log.warning("media %s: %s", event.media_id, exc)
            return RejectedFile("照片已过期或无法下载，请重新发送")
        try:
            return await files.put_image(media.data)
        except RejectedFile as exc:
            return exc

    async def handle(self, event: Event, prepared: Any) -> None:
        if isinstance(event, ExternalContactAdded):
            await contact.external_contact_added(event)
            return
        if isinstance(event, DirectoryChanged):
            if prepared is not None:
                await directory.apply_change(event, prepared)
            return
        staff = await Staff.get_or_none(userid=event.userid)
        if staff is None or not staff.active:
            if not isinstance(event, EnterAgent):
                await notify.reply(event.userid, NOT_A_MEMBER)
            return
        ctx = Ctx(staff=staff, event=event, prepared=prepared)
        if isinstance(event, CardClick):
            try:
                ctx.key = unpack_key(event.event_key)
            except KeyError_:
                await ctx.reply("这个按钮已失效，请发送“我的任务”查看最新任务。")
                return
        found = find_handler(self.routers, ctx)
        if found is None:
            await self._unhandled(ctx)
            return
        try:
            # A savepoint: a refusal half-way leaves nothing behind, and the refusal is still answered.
            async with in_transaction():
                if isinstance(prepared, WorkflowError):
                    raise prepared
                await found.run()
        except UserError as refused:
            if isinstance(refused, Conflict):
                await ctx.mark_card(refused.short)
            await ctx.reply(refused.message)

    async def _unhandled(self, ctx: Ctx) -> None:
        event = ctx.event
        if isinstance(event, EnterAgent):
            return
        if isinstance(event, CardClick):
            await ctx.reply("你没有权限进行这个操作。")
        elif isinstance(event, ImageMessage):
            await ctx.reply("目前只有测量和安装师傅需要在聊天里发送照片；其他资料请在订单页面上传。")
        else:
            note = (
                ""
                if isinstance(event, TextMessage) and event.content.strip() in ("", "你好")
                else "没听懂，可以这样说："
            )
            await common.send_help(ctx, note=note)

    async def on_failure(self, event: Event, exc: BaseException) -> None:
        """The error boundary: after the last attempt, tell the member something kind (WeCom's own
        events come from "sys", who is no member)."""
        if isinstance(event, (DirectoryChanged, ExternalContactAdded)):
            return
        await notify.reply(event.userid, SORRY)

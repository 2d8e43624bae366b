"""Showroom bookings (预约): the consultant's card taps (领单, 到店, 暂停服务, the outcomes without a
reason); the rows that need a reason or a colleague open the lead's page instead."""

from __future__ import annotations

import re

from cards.keys import LeadStepKey
from cards.leads import leads_card
from handlers.router import Ctx, Router
from models import Lead
from workflow.errors import NotFound
from workflow.lead_lifecycle import LEAD
from workflow.leads import may_see, take

router = Router("leads", roles=LEAD.roles_of(*(t.name for t in LEAD)))


@router.click(LeadStepKey)
async def lead_step(ctx: Ctx, key: LeadStepKey) -> None:
    lead = await Lead.get_or_none(id=key.lead_id)
    if lead is None or not await may_see(ctx.staff, lead):
        raise NotFound("这个预约不存在")
    lead = await take(ctx.staff, lead, key.step)
    await ctx.mark_card(f"已{LEAD[key.step].label}（{lead.state.label}）")


@router.text(r"^预约$|^我的预约$|^登记预约$")
async def leads_link(ctx: Ctx, match: re.Match[str]) -> None:
    await ctx.send(leads_card(ctx.staff.userid, ctx.staff.id, links=ctx.links))

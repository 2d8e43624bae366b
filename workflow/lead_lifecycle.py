"""A showroom booking's (预约) lifecycle, declared once (seed 002: 预约管理).

Read a row as: *name* (the button's label) may be done by *who* when the lead is in *source*; it takes
the lead to *target* and writes the lead's history. The consultant's card, the leads page, the queue
and every refusal come from this table. A lead is judged by its store: reception and managers act on
the leads of the stores in their part of the company (Scope.UNIT), a consultant on the leads they hold
(Scope.ASSIGNEE); the customer books on the store's public page (Scope.LINK), and another system
through the API with a service token holding `leads:write` (as reception would).

Assignment is the row `assign`, taken by Relay itself (workflow/lead_assign.py): a queued lead goes to
a free consultant of its store; 拒绝（退回）puts it back in the queue for another; 暂停服务 leaves it
with its consultant, unclaimed, to be claimed again. 已成交 is taken by creating the order from the lead
(the order form pre-filled from it): it is offered as a link to that form, never as a bare button.
"""

from __future__ import annotations

from typing import Any

from models import Lead, LeadEventKind, LeadState, OrgUnit, Role, ServiceToken
from workflow import webhooks
from workflow.errors import NotAllowed
from workflow.lifecycle import Rule, Scope
from workflow.machine import Actor, Machine, Step

L = LeadState

# What a service token's scope lets its caller do, as the role a member would need.
TOKEN_ROLES = {"leads:write": Role.RECEPTION}

# The states a lead is with a consultant in; serving: the consultant is with the customer; busy: serving,
# or a customer waiting for them to claim (a paused lead or one to call back does not keep them busy).
HELD = (L.ASSIGNED, L.CLAIMED, L.ARRIVED, L.PAUSED, L.FOLLOW_UP)
SERVING = (L.CLAIMED, L.ARRIVED)
BUSY = (L.ASSIGNED, *SERVING)
OPEN = (L.NEW, *HELD)
# Outcomes that say whether the customer bought: the conversion rate is won / decided.
DECIDED = (L.WON, L.NOT_WON)


def lead_name(lead: Lead) -> str:
    return f"预约 {lead.number}"


class LeadLifecycle(Machine[Lead]):
    model = Lead
    states = LeadState
    assignee_field = "consultant_id"
    source_file = "workflow/lead_lifecycle.py"
    intro = (
        "A showroom booking (预约), assigned automatically to a free consultant of its store "
        "(workflow/lead_assign.py); a service token with `leads:write` books as reception does."
    )
    entry = "book"
    event_type = webhooks.LEAD_STATE_CHANGED

    def name_of(self, entity: Lead) -> str:
        return lead_name(entity)

    async def event_data(self, entity: Lead) -> dict[str, Any]:
        return {"number": entity.number, "store_id": entity.store_id}  # not the customer's name or phone

    def roles_held(self, actor: Actor) -> set[Role]:
        if isinstance(actor, ServiceToken):
            return {TOKEN_ROLES[s] for s in actor.scope_list if s in TOKEN_ROLES}
        return super().roles_held(actor)

    async def holds(self, rule: Rule, actor: Actor | None, entity: Lead, context: Any) -> bool:
        if isinstance(actor, ServiceToken):
            return True  # another system books across the company, as its scope says
        if actor is None:
            return False
        if rule.scope == Scope.ASSIGNEE:
            return entity.consultant_id == actor.id
        if rule.scope == Scope.UNIT:
            mine = await OrgUnit.get(id=actor.org_unit_id)
            store = await OrgUnit.get(id=entity.store_id)
            return store.path.startswith(mine.path)
        return False

    def scope_refusal(self, t: Step, actor: Actor | None, entity: Lead, context: Any) -> NotAllowed:
        if actor is None:
            return NotAllowed("这个操作需要员工身份")
        if any(r.scope == Scope.ASSIGNEE for r in t.who) and not any(r.scope == Scope.UNIT for r in t.who):
            return NotAllowed(f"{lead_name(entity)} 不是分配给你的预约")
        return NotAllowed(f"{lead_name(entity)} 不在你负责的门店")


CONSULTANT = Rule(Role.CONSULTANT, Scope.ASSIGNEE)
FRONT = (Rule(Role.RECEPTION, Scope.UNIT), Rule(Role.MANAGER, Scope.UNIT))
BOOKERS = (*FRONT, Rule(Role.CONSULTANT, Scope.UNIT), Rule(None, Scope.LINK))

LEAD = LeadLifecycle(
    "lead",
    [
        # Booking: staff's form, the store's public page (the customer: no member), the API, a CSV file.
        Step("book", "登记预约", BOOKERS, (), L.NEW, LeadEventKind.CREATED, automatic=True),
        # Relay's own: a queued lead to the free consultant the rules rank first.
        Step("assign", "自动分配", FRONT, (L.NEW,), L.ASSIGNED, LeadEventKind.ASSIGNED, automatic=True),
        Step("claim", "领单", (CONSULTANT,), (L.ASSIGNED, L.PAUSED, L.FOLLOW_UP), L.CLAIMED, LeadEventKind.CLAIMED),
        # Reception records the customer in the store (the seed's 到店 beside a found booking).
        Step(
            "arrive", "到店", (CONSULTANT, *FRONT), (L.ASSIGNED, L.CLAIMED, L.PAUSED), L.ARRIVED, LeadEventKind.ARRIVED
        ),
        Step("win", "已成交", (CONSULTANT,), (L.CLAIMED, L.ARRIVED), L.WON, LeadEventKind.WON),
        Step("not_won", "到店未成交", (CONSULTANT,), (L.ARRIVED,), L.NOT_WON, LeadEventKind.NOT_WON),
        Step("follow_up", "需要回访", (CONSULTANT,), (L.CLAIMED, L.ARRIVED), L.FOLLOW_UP, LeadEventKind.FOLLOW_UP),
        Step(
            "no_show",
            "未到店",
            (CONSULTANT, *FRONT),
            (L.ASSIGNED, L.CLAIMED, L.PAUSED, L.FOLLOW_UP),
            L.NO_SHOW,
            LeadEventKind.NO_SHOW,
        ),
        # Handing on: back to the queue with a reason, to a colleague, or paused (unclaimed, still theirs).
        Step("reject", "拒绝（退回）", (CONSULTANT,), (L.ASSIGNED,), L.NEW, LeadEventKind.REJECTED),
        Step("transfer", "转给同事", (CONSULTANT,), HELD, L.ASSIGNED, LeadEventKind.TRANSFERRED),
        Step("pause", "暂停服务", (CONSULTANT,), SERVING, L.PAUSED, LeadEventKind.PAUSED),
        Step("void", "作废", (CONSULTANT, *FRONT), OPEN, L.VOID, LeadEventKind.VOIDED),
        # Reception's or the store manager's override (改派): to the consultant picked from the drop-down.
        Step("reassign", "改派", FRONT, OPEN, L.ASSIGNED, LeadEventKind.REASSIGNED, corrects=True),
        # The consultant left the company (the WeCom directory says so): back to the store's queue.
        Step("return", "离职退回", FRONT, HELD, L.NEW, LeadEventKind.RETURNED, automatic=True),
    ],
)

# The steps that need a typed reason (a WeCom card cannot take text: their buttons open the lead's page).
NEEDS_REASON = ("reject", "void", "not_won")
# The steps that need a colleague picked.
NEEDS_CONSULTANT = ("transfer", "reassign")

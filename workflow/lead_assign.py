"""Fair automatic assignment of showroom bookings (seed 002: 自动分配的规则).

The seed's rules, in order: 1. a free consultant (有空销售顾问), 2. the one who has received fewest
customers today (接待顾客少的), 3. the highest conversion rate (成单率高的), where at first, without
history, leads are shared out evenly (初期逻辑为平均分配).

- The candidates are the active members with the consultant role of the lead's store, less those who
  refused (退回) this lead already.
- Free: holding no lead in a busy state: claimed or arrived (the consultant is with a customer) or
  assigned (a customer is waiting for them to 领单). A paused lead (暂停服务) or one to call back does not
  keep them busy: pausing frees a consultant for the queue. So a freed consultant takes one queued lead,
  not the whole queue, and two bookings at once never both go to one consultant while another is free.
- Received today: the leads a consultant holds that went to them today (local day).
- Conversion rate: won / decided, decided being won or not won (到店未成交): the customers they served to
  an end. It ranks only once every candidate left has `leads.min_history` decided leads; until then, and
  between equals, the one whose last assignment is oldest goes first (round-robin).
- Nobody free: the lead waits in the store's queue (state new) and goes to the first consultant who is
  free again (a lead finished, paused, refused), oldest lead first.

Fair under concurrency: every assignment for a store runs while holding the store's row lock (SELECT ...
FOR NO KEY UPDATE on its org_unit row, in the caller's transaction), so two leads booked at the same instant are
assigned one after the other, the second seeing the first. SQLite has one writer and no row locks.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from infra.runtime import runtime
from infra.timeutil import local_moment, local_today, utcnow
from models import Lead, LeadEvent, LeadEventKind, LeadState, OrgUnit, Role, Staff
from workflow import notify
from workflow.lead_lifecycle import BUSY, DECIDED, LEAD

ASSIGN = LEAD["assign"]


@dataclass(frozen=True)
class Standing:
    """What a consultant is ranked on, at the moment of assigning."""

    staff: Staff
    busy: int
    today: int
    won: int
    decided: int
    last_assigned: datetime | None

    @property
    def rate(self) -> float:
        return self.won / self.decided if self.decided else 0.0


async def consultants_of(store_id: int) -> list[Staff]:
    members = await Staff.filter(active=True, org_unit_id=store_id).order_by("id")
    return [m for m in members if m.has_role(Role.CONSULTANT)]


async def standings(store_id: int) -> list[Standing]:
    """Every consultant of the store with what the rules rank them on."""
    members = await consultants_of(store_id)
    ids = [m.id for m in members]
    if not ids:
        return []
    busy = Counter(
        await Lead.filter(consultant_id__in=ids, state__in=list(BUSY)).values_list("consultant_id", flat=True)
    )
    start = local_moment(local_today())
    today = Counter(
        await Lead.filter(consultant_id__in=ids, assigned_at__gte=start).values_list("consultant_id", flat=True)
    )
    outcomes = await Lead.filter(consultant_id__in=ids, state__in=list(DECIDED)).values_list("consultant_id", "state")
    won = Counter(c for c, s in outcomes if s == LeadState.WON)
    decided = Counter(c for c, _ in outcomes)
    last: dict[int, datetime] = {}
    for staff_id, at in await LeadEvent.filter(kind=LeadEventKind.ASSIGNED, staff_id__in=ids).values_list(
        "staff_id", "created_at"
    ):
        if staff_id not in last or at > last[staff_id]:
            last[staff_id] = at
    return [Standing(m, busy[m.id], today[m.id], won[m.id], decided[m.id], last.get(m.id)) for m in members]


def rank(candidates: list[Standing], *, min_history: int) -> Standing | None:
    """The consultant the seed's rules pick among these: free, then fewest today, then conversion (once
    each has the history), then round-robin (the longest since their last assignment; never first)."""
    free = [c for c in candidates if not c.busy]
    if not free:
        return None
    fewest = min(c.today for c in free)
    tier = [c for c in free if c.today == fewest]
    if len(tier) > 1 and all(c.decided >= min_history for c in tier):
        best = max(c.rate for c in tier)
        tier = [c for c in tier if c.rate == best]
    return min(tier, key=lambda c: (c.last_assigned is not None, c.last_assigned or utcnow(), c.staff.id))


async def refused_by(lead: Lead) -> set[int]:
    rows = await LeadEvent.filter(lead_id=lead.id, kind=LeadEventKind.REJECTED).values_list("staff_id", flat=True)
    return {r for r in rows if r is not None}


async def lock_store(store_id: int) -> None:
    """Hold the store's row until the caller's transaction ends: its assignments happen one at a time.
    FOR NO KEY UPDATE: rows inserted meanwhile that refer to the store (a lead, an order) take a KEY SHARE
    lock on it, which this does not wait for (FOR UPDATE would, and two bookings would deadlock)."""
    await OrgUnit.select_for_update(no_key=True).get(id=store_id)


async def fill_store(store_id: int) -> list[Lead]:
    """Assign the store's queued leads, oldest first, while a consultant is free for them. Inside the
    caller's transaction, under the store's lock. Returns the leads assigned."""
    await lock_store(store_id)
    queued = await Lead.filter(store_id=store_id, state=LeadState.NEW).order_by("created_at", "id")
    if not queued:
        return []
    min_history = runtime().config.leads.min_history
    assigned = []
    for lead in queued:
        ranked = await standings(store_id)
        refused = await refused_by(lead)
        pick = rank([s for s in ranked if s.staff.id not in refused], min_history=min_history)
        if pick is None:
            if not any(not s.busy for s in ranked):
                break  # nobody free: the rest wait too
            continue  # the free ones refused this lead: it waits for another (or a manager's 改派)
        await give(lead, pick.staff, kind=LeadEventKind.ASSIGNED, actor=None)
        assigned.append(lead)
    return assigned


async def give(lead: Lead, consultant: Staff, *, kind: LeadEventKind, actor: Staff | None, text: str = "") -> None:
    """The lead goes to this consultant now (an assignment, a transfer, an override): its state by the
    table's row for it, the history, the consultant's card."""
    step = {LeadEventKind.ASSIGNED: ASSIGN, LeadEventKind.TRANSFERRED: LEAD["transfer"]}.get(kind, LEAD["reassign"])
    values: dict[str, object] = {"consultant_id": consultant.id, "assigned_at": utcnow()}
    if kind == LeadEventKind.TRANSFERRED:
        values["transfers"] = lead.transfers + 1
    await LEAD.move(step, lead, **values)
    await LeadEvent.create(lead_id=lead.id, kind=kind, actor=actor, staff=consultant, text=text)
    await notify.lead_assigned(lead, consultant, buttons=await card_buttons(lead, consultant), by=actor, how=kind)


async def card_buttons(lead: Lead, consultant: Staff) -> list[tuple[str, str]]:
    """The steps the consultant may take on the lead now, from the table: (step name, label)."""
    return [(t.name, t.label) for t in await LEAD.available(consultant, lead)]

"""How a showroom booking (预约) reads on cards and pages, and who sees its phone in full."""

from __future__ import annotations

from cards.leads import LeadView
from infra.runtime import runtime
from infra.security import mask_phone
from infra.timeutil import fmt_time
from models import Lead, OrgUnit, Role, Staff


def lead_phone(lead: Lead) -> str:
    return runtime().vault.decrypt(lead.phone_encrypted)


def may_call_lead(actor: Staff, lead: Lead, *, in_store: bool) -> bool:
    """Who must call the customer of a booking: the consultant holding it, and reception of its store.
    Everyone else reads the phone masked."""
    return lead.consultant_id == actor.id or (actor.has_role(Role.RECEPTION) and in_store)


async def lead_view(lead: Lead) -> LeadView:
    store = await OrgUnit.get(id=lead.store_id)
    return LeadView(
        id=lead.id,
        number=lead.number,
        name=lead.name,
        phone_masked=mask_phone(lead_phone(lead)),
        store=store.name,
        wanted=fmt_time(lead.wanted_at) if lead.wanted_at else "",
        need_level=lead.need_level,
        products=lead.products,
        source=lead.source.label,
        state_label=lead.state.label,
    )

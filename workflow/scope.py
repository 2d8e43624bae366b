"""Who may see and act on what: role, plus the part of the org tree a member covers."""

from __future__ import annotations

import re

from models import Order, OrgUnit, Role, Staff, Task
from models.enums import LIVE_TASK_STATES
from workflow.errors import NotAllowed, NotFound

# What a paper order number may be (create_order stores it upper-case).
ORDER_NUMBER_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z\-]{0,31}$")


async def unit_path(unit_id: int) -> str:
    unit = await OrgUnit.get(id=unit_id)
    return unit.path


async def covers(staff: Staff, order: Order) -> bool:
    """The order belongs to the member's unit or a unit below it. Asked before every action and every
    list of buttons: the member's own unit needs no reading, another takes one query for both paths."""
    if order.org_unit_id == staff.org_unit_id:
        return True
    paths = dict(await OrgUnit.filter(id__in=[order.org_unit_id, staff.org_unit_id]).values_list("id", "path"))
    return str(paths[order.org_unit_id]).startswith(str(paths[staff.org_unit_id]))


async def can_see(staff: Staff, order: Order) -> bool:
    if order.sales_id == staff.id or await covers(staff, order):
        return True
    # A declined, cancelled or reassigned job gives no access: only a job the member holds or did.
    return await Task.filter(order_id=order.id, assignee_id=staff.id, state__in=list(LIVE_TASK_STATES)).exists()


def require_role(staff: Staff, *roles: Role) -> None:
    if not any(staff.has_role(r) for r in roles):
        names = "或".join(r.label for r in roles)
        raise NotAllowed(f"只有{names}可以这样操作")


async def get_order_for(staff: Staff, number: str) -> Order:
    """The order with this number, if the member may see it (an unseen order is reported as unknown)."""
    number = number.strip()
    if not ORDER_NUMBER_RE.match(number):
        raise NotFound(f"没有找到订单 {number[:40]}")  # no order can have such a number: no query
    order = await Order.get_or_none(number=number.upper())
    if order is None or not await can_see(staff, order):
        raise NotFound(f"没有找到订单 {number}")
    return order


async def staff_covering(order: Order, role: Role) -> list[Staff]:
    """Active members with the role whose unit is the order's unit or above it."""
    path = await unit_path(order.org_unit_id)
    result = []
    for member in await Staff.filter(active=True).prefetch_related("org_unit"):
        if member.has_role(role) and path.startswith(member.org_unit.path):
            result.append(member)
    return result


async def staff_within(unit_id: int, role: Role) -> list[Staff]:
    """Active members with the role in this unit or below it."""
    path = await unit_path(unit_id)
    members = await Staff.filter(active=True, org_unit__path__startswith=path).order_by("name")
    return [m for m in members if m.has_role(role)]

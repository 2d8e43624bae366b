"""Staff and org units kept in step with WeCom's directory (通讯录): on its change events and by a full
sync on a schedule, which also mends whatever an event missed (WeCom sends no event for a department
renamed, and an event can be lost).

- A department is an org unit, kept by `OrgUnit.wecom_department_id`. A unit Relay had before the first
  sync (imported from a CSV file) is linked to the department of the same name under the same parent,
  not made twice. A linked unit's name and place are WeCom's; a department deleted closes its unit
  (`active` False), never deletes it.
- A member is a Staff row by userid, in the unit of their main department. A member who leaves (deleted,
  disabled, or gone from a full listing) is deactivated, never deleted, and their open work goes back:
  measuring and installing jobs to the dispatchers (the card a decline gives), leads to the store's
  queue, service tickets to after-sales. Back in the directory later, they are active again.
- Roles are Relay's: a sync gives or takes only the roles mapped from WeCom tags ([directory] tag_roles),
  and only those it gave (`Staff.tag_roles`); a role an admin gave stays. A member an admin deactivated
  stays inactive.
- Every change is idempotent: the same event twice, or a sync over a sync, changes nothing more.

The directory is read before the transaction (bot/directory.py: prepare_change, fetch_snapshot) and
applied inside it (apply_change, apply_snapshot).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from bot.client import WeComClient
from bot.directory import Department, DirectoryReader, Member, Snapshot
from bot.events import DirectoryChanged
from infra.runtime import runtime
from infra.timeutil import utcnow
from models import Job, Lead, OrgUnit, Role, Staff, Task, Ticket
from models.enums import OPEN_TASK_STATES
from models.flows import FLOWS
from workflow.errors import Invalid
from workflow.jobs import schedule
from workflow.lead_lifecycle import HELD as LEAD_HELD
from workflow.leads import return_leads
from workflow.org_units import rehome_unit
from workflow.scope import require_role
from workflow.tasks import return_task
from workflow.ticket_lifecycle import WORKING
from workflow.tickets import return_ticket

log = logging.getLogger(__name__)

SYNC = "directory_sync"


@dataclass
class SyncResult:
    """What a sync or an event changed, for the log and the tests."""

    units_created: int = 0
    units_changed: int = 0
    units_closed: int = 0
    joined: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)
    returned: int = 0  # jobs, leads and tickets handed back

    @property
    def anything(self) -> bool:
        return bool(
            self.units_created or self.units_changed or self.units_closed or self.joined or self.changed or self.left
        )


def enabled() -> bool:
    return runtime().config.directory.enabled


async def request_sync(*, actor: Staff) -> None:
    """An admin's 同步通讯录: a full sync now, as a job a worker runs (the directory is read outside the
    request, and two admins pressing at once in one second make one job)."""
    require_role(actor, Role.ADMIN)
    if not enabled():
        raise Invalid("未开启企业微信通讯录同步（配置 [directory] enabled）")
    now = utcnow()
    await schedule(SYNC, f"{SYNC}:manual:{int(now.timestamp())}", now)


async def last_sync() -> Job | None:
    """The latest full sync that ran (for the admin index)."""
    return await Job.filter(kind=SYNC, done_at__isnull=False).order_by("-done_at").first()


def _tag_names() -> set[str]:
    return set(runtime().config.directory.tag_roles)


def _roles_from_tags(userid: str, tags: dict[str, set[str]]) -> set[str]:
    mapping = runtime().config.directory.tag_roles
    return {mapping[name] for name, holders in tags.items() if name in mapping and userid in holders}


# -- reading (outside the transaction) -----------------------------------------------------------------


@dataclass(frozen=True)
class ChangeFacts:
    """What the directory API says now about the one thing an event names."""

    member: Member | None = None
    departments: list[Department] = field(default_factory=list)  # the member's or the changed one, parents first
    tags: dict[str, set[str]] | None = None  # None: not read (the event cannot change tag roles)


async def prepare_change(client: WeComClient, event: DirectoryChanged) -> ChangeFacts:
    reader = DirectoryReader(client)
    if event.change_type in ("create_user", "update_user"):
        member = await reader.member(event.new_member or event.member)
        chains = [await _chain(reader, d) for d in (member.departments if member else ())]
        departments = list({d.id: d for chain in chains for d in chain}.values())
        return ChangeFacts(member=member, departments=departments, tags=await reader.tagged(_tag_names()))
    if event.change_type in ("create_party", "update_party") and event.department_id is not None:
        return ChangeFacts(departments=await _chain(reader, event.department_id))
    if event.change_type == "update_tag":
        return ChangeFacts(tags=await reader.tagged(_tag_names()))
    return ChangeFacts()


async def _chain(reader: DirectoryReader, department_id: int) -> list[Department]:
    """The department and its parents up to the synced root, so each is placed under the right unit."""
    root = runtime().config.directory.root_department
    chain: list[Department] = []
    next_id: int | None = department_id
    while next_id and len(chain) < 16:  # WeCom nests at most 15 levels (90205)
        dept = await reader.department(next_id)
        if dept is None:
            break
        chain.append(dept)
        next_id = dept.parentid if dept.id != root else None
    return chain


async def fetch_snapshot(payload: dict[str, Any]) -> Snapshot:
    """The whole directory, read with a client of its own (a scheduled job has no dispatcher's)."""
    config = runtime().config
    client = WeComClient(
        api_base=config.wecom.api_base,
        corp_id=config.wecom.corp_id,
        secret=config.wecom.secret,
        agent_id=config.wecom.agent_id,
        store=runtime().kv,
        timeout=config.wecom.request_timeout,
    )
    try:
        return await DirectoryReader(client).snapshot(config.directory.root_department, _tag_names())
    finally:
        await client.close()


# -- applying (inside the transaction) -----------------------------------------------------------------


async def apply_snapshot(payload: dict[str, Any], snapshot: Snapshot) -> SyncResult:
    """Reconcile Relay with the whole directory: units, members, departures, tag roles."""
    result = SyncResult()
    await _place_departments(snapshot.departments, result, complete=True)
    present = {m.userid.lower(): m for m in snapshot.members if m.present}
    units = await _linked_units()
    known = {s.userid.lower(): s for s in await Staff.all()}
    for member in present.values():
        roles = _roles_from_tags(member.userid, snapshot.tags)
        await _place_member(member, roles, result, units=units, staff=known.get(member.userid.lower()))
    if not present:
        # A listing with nobody in it is the app's visible range gone wrong, not the company gone.
        log.warning("directory sync: the directory lists no members; nobody is deactivated")
        return result
    linked = set(await OrgUnit.filter(wecom_department_id__isnull=False).values_list("id", flat=True))
    for staff in await Staff.filter(active=True, org_unit_id__in=list(linked)):
        if staff.userid.lower() not in present:
            await depart(staff, result)
    if result.anything:
        log.info("directory sync: %s", result)
    return result


async def apply_change(event: DirectoryChanged, facts: ChangeFacts) -> SyncResult:
    result = SyncResult()
    if event.change_type in ("create_user", "update_user"):
        if facts.member is None or not facts.member.present:
            await _depart_userid(event.member, result)  # gone again before the event was handled
        else:
            await _place_departments(facts.departments, result, complete=False)
            if event.new_member and event.new_member != event.member:
                await _renamed(event.member, event.new_member)
            roles = _roles_from_tags(facts.member.userid, facts.tags or {})
            staff = await Staff.get_or_none(userid=facts.member.userid)
            await _place_member(facts.member, roles, result, units=await _linked_units(), staff=staff)
    elif event.change_type == "delete_user":
        await _depart_userid(event.member, result)
    elif event.change_type in ("create_party", "update_party"):
        await _place_departments(facts.departments, result, complete=False)
    elif event.change_type == "delete_party" and event.department_id is not None:
        closed = await OrgUnit.filter(wecom_department_id=event.department_id, active=True).update(active=False)
        result.units_closed += closed
    elif event.change_type == "update_tag" and facts.tags is not None:
        await _retag(facts.tags, result)
    return result


async def _place_departments(departments: list[Department], result: SyncResult, *, complete: bool) -> None:
    """Each department's unit, created, linked, renamed or moved as needed, parents first. `complete`: the
    list is the whole tree, so a linked unit whose department is not in it is closed."""
    by_id = {d.id: d for d in departments}
    for dept in _parents_first(departments):
        # A parent above the synced root (or the root's 0) has no unit: the department is a top unit.
        parent = await OrgUnit.get_or_none(wecom_department_id=dept.parentid) if dept.parentid else None
        unit = await OrgUnit.get_or_none(wecom_department_id=dept.id)
        if unit is None:
            unit = await OrgUnit.get_or_none(
                name=dept.name, parent_id=parent.id if parent else None, wecom_department_id__isnull=True
            )
            if unit is None:
                unit = await OrgUnit.create(name=dept.name, parent=parent, wecom_department_id=dept.id)
                await rehome_unit(unit, parent)
                result.units_created += 1
                continue
            unit.wecom_department_id = dept.id
            await unit.save(update_fields=["wecom_department_id"])
        changed = False
        parent_id = parent.id if parent else None
        if (unit.name, unit.parent_id) != (dept.name, parent_id):  # type: ignore[attr-defined]
            clash = OrgUnit.filter(name=dept.name, parent_id=parent_id).exclude(id=unit.id)
            if await clash.exists():
                # A unit of Relay's own has that name there already: one parent, one name (org_unit's key).
                log.warning("directory: department %s (%s) clashes with a unit of the same name", dept.id, dept.name)
                continue
        if unit.name != dept.name:
            unit.name = dept.name
            await unit.save(update_fields=["name"])
            changed = True
        if unit.parent_id != parent_id:  # type: ignore[attr-defined]
            await rehome_unit(unit, parent)
            changed = True
        if not unit.active:
            unit.active = True
            await unit.save(update_fields=["active"])
            changed = True
        result.units_changed += changed
    if complete:
        gone = OrgUnit.filter(wecom_department_id__isnull=False, active=True).exclude(
            wecom_department_id__in=list(by_id)
        )
        result.units_closed += await gone.update(active=False)


def _parents_first(departments: list[Department]) -> list[Department]:
    ids = {d.id for d in departments}
    placed: set[int] = set()
    ordered: list[Department] = []
    pending = list(departments)
    while pending:
        ready = [d for d in pending if d.parentid not in ids or d.parentid in placed]
        if not ready:  # a cycle the API should never answer: take the rest as they come
            ready = pending
        for d in ready:
            ordered.append(d)
            placed.add(d.id)
        pending = [d for d in pending if d.id not in placed]
    return ordered


async def _linked_units() -> dict[int, OrgUnit]:
    units = await OrgUnit.filter(wecom_department_id__isnull=False)
    return {u.wecom_department_id: u for u in units if u.wecom_department_id is not None}


async def _place_member(
    member: Member, tag_roles: set[str], result: SyncResult, *, units: dict[int, OrgUnit], staff: Staff | None
) -> None:
    """The member's staff row, created or brought up to date. `units`: the linked units by department id;
    `staff`: the member's row if Relay has one (read by the caller, once for a whole sync)."""
    unit = next((units[d] for d in (member.main_department, *member.departments) if d in units), None)
    if unit is None:
        log.warning("directory: no unit for %s's departments %s", member.userid, member.departments)
        return
    if staff is None:
        await Staff.create(
            userid=member.userid,
            name=member.name[:64],
            roles=sorted(tag_roles),
            tag_roles=sorted(tag_roles),
            org_unit=unit,
        )
        result.joined.append(member.userid)
        return
    changed = staff.name != member.name[:64] or staff.org_unit_id != unit.id
    staff.name, staff.org_unit_id = member.name[:64], unit.id
    if staff.left_at is not None:  # back in the directory: active again (an admin's deactivation stays)
        staff.active, staff.left_at, changed = True, None, True
    changed |= _set_tag_roles(staff, tag_roles)
    if changed:
        await staff.save()
        result.changed.append(member.userid)


def _set_tag_roles(staff: Staff, wanted: set[str]) -> bool:
    """Give the roles the member's tags map to; take away those a tag gave and no tag gives now. A role
    the member held already (an admin gave it) is not the tag's: it stays when the tag goes."""
    had = set(staff.tag_roles or [])
    held = set(staff.roles)
    keep = sorted((had & wanted) | (wanted - held))
    roles = (held - (had - wanted)) | wanted
    if roles == set(staff.roles) and keep == sorted(had):
        return False
    staff.roles = [r for r in staff.roles if r in roles] + sorted(roles - set(staff.roles))
    staff.tag_roles = keep
    return True


async def _retag(tags: dict[str, set[str]], result: SyncResult) -> None:
    holders = {u.lower() for users in tags.values() for u in users}
    for staff in await Staff.all():
        concerned = staff.tag_roles or staff.userid.lower() in holders
        if concerned and _set_tag_roles(staff, _roles_from_tags(staff.userid, tags)):
            await staff.save(update_fields=["roles", "tag_roles"])
            result.changed.append(staff.userid)


async def _renamed(old: str, new: str) -> None:
    """A userid WeCom generated may be changed once (NewUserID, 90970): the same person, their history kept."""
    if not await Staff.exists(userid=new):
        await Staff.filter(userid=old).update(userid=new)


async def _depart_userid(userid: str, result: SyncResult) -> None:
    staff = await Staff.get_or_none(userid=userid)
    if staff is not None and staff.active:
        await depart(staff, result)


async def depart(staff: Staff, result: SyncResult, *, left: bool = True) -> None:
    """The member left (`left`: the directory says so; else an admin deactivated them): inactive from now,
    never deleted, their open work handed back."""
    moved = await Staff.filter(id=staff.id, active=True).update(active=False, left_at=utcnow() if left else None)
    if not moved:
        return  # someone else handled it first
    await staff.refresh_from_db()
    result.left.append(staff.userid)
    for task in await Task.filter(assignee_id=staff.id, state__in=list(OPEN_TASK_STATES), kind__in=list(FLOWS)):
        result.returned += await return_task(task=task, worker=staff)
    for ticket in await Ticket.filter(assignee_id=staff.id, state__in=list(WORKING)):
        await return_ticket(ticket=ticket, worker=staff)
        result.returned += 1
    result.returned += len(await return_leads(staff))


async def held_work(staff: Staff) -> int:
    """How much open work a member holds (the admin page shows it before a deactivation)."""
    tasks = await Task.filter(assignee_id=staff.id, state__in=list(OPEN_TASK_STATES), kind__in=list(FLOWS)).count()
    tickets = await Ticket.filter(assignee_id=staff.id, state__in=list(WORKING)).count()
    leads = await Lead.filter(consultant_id=staff.id, state__in=list(LEAD_HELD)).count()
    return tasks + tickets + leads

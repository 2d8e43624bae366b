"""Reading WeCom's directory (通讯录) as a self-built app may.

Which calls, and why these:
- `department/list?id=` (90208): the department and every one below it, with names, as far as the app's
  visible range (可见范围) reaches. (department/simplelist + department/get would do the same in more calls.)
- `user/list?department_id=` (90201): a department's own members with name, departments and main department.
  Since 2022-08 there is no fetch_child: each department is asked for in turn. Apps created after
  2022-06-20 get no mobile, email or avatar, and Relay needs none.
- `user/list_id` (96067) would list every userid at once, but answers only the contact-sync secret
  (通讯录同步), which a self-built app does not hold: not used.
- `user/get` and `department/get` (95351) for the one member or department a change event names, since
  events now carry only ids (90970, 90971).
- `tag/list` and `tag/get` (90213) for the tags mapped to roles; tag/get lists only members in the app's
  visible range, and whole departments in `partylist`.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.client import WeComClient, WeComError

USER_NOT_FOUND = 60111
DEPARTMENT_NOT_FOUND = 60003
ACTIVE = 1  # user status: 1 active, 2 disabled, 4 not yet activated, 5 left (90201)
LEFT_STATUSES = (2, 5)


@dataclass(frozen=True)
class Department:
    id: int
    name: str
    parentid: int


@dataclass(frozen=True)
class Member:
    userid: str
    name: str
    departments: tuple[int, ...]
    main_department: int
    status: int = ACTIVE

    @property
    def present(self) -> bool:
        """Still with the company: a disabled member (2) or one who left (5) counts as gone."""
        return self.status not in LEFT_STATUSES


@dataclass(frozen=True)
class Snapshot:
    """The whole directory under the root at one moment: what a full sync reconciles Relay with."""

    departments: list[Department]
    members: list[Member]
    tags: dict[str, set[str]]  # tag name -> userids holding it (directly or through a tagged department)


def _department(raw: dict[str, object]) -> Department:
    return Department(id=int(raw["id"]), name=str(raw.get("name") or raw["id"]), parentid=int(raw.get("parentid") or 0))  # type: ignore[call-overload]


def _member(raw: dict[str, object]) -> Member:
    departments = tuple(int(d) for d in raw.get("department") or [])  # type: ignore[attr-defined]
    main = int(raw.get("main_department") or (departments[0] if departments else 0))  # type: ignore[call-overload]
    return Member(
        userid=str(raw["userid"]),
        name=str(raw.get("name") or raw["userid"]),
        departments=departments,
        main_department=main,
        status=int(raw.get("status") or ACTIVE),  # type: ignore[call-overload]
    )


class DirectoryReader:
    def __init__(self, client: WeComClient) -> None:
        self.client = client

    async def departments(self, root: int) -> list[Department]:
        data = await self.client.call("GET", "department/list", params={"id": str(root)})
        return [_department(d) for d in data.get("department") or []]

    async def department(self, department_id: int) -> Department | None:
        try:
            data = await self.client.call("GET", "department/get", params={"id": str(department_id)})
        except WeComError as exc:
            if exc.errcode == DEPARTMENT_NOT_FOUND:
                return None
            raise
        return _department(data["department"])

    async def members_of(self, department_id: int) -> list[Member]:
        data = await self.client.call("GET", "user/list", params={"department_id": str(department_id)})
        return [_member(u) for u in data.get("userlist") or []]

    async def member(self, userid: str) -> Member | None:
        try:
            data = await self.client.call("GET", "user/get", params={"userid": userid})
        except WeComError as exc:
            if exc.errcode == USER_NOT_FOUND:
                return None
            raise
        return _member(data)

    async def tagged(self, names: set[str]) -> dict[str, set[str]]:
        """For each tag named here that exists: the userids holding it, directly or by their department."""
        if not names:
            return {}
        listed = await self.client.call("GET", "tag/list")
        holders: dict[str, set[str]] = {}
        for tag in listed.get("taglist") or []:
            name = str(tag.get("tagname", ""))
            if name not in names:
                continue
            data = await self.client.call("GET", "tag/get", params={"tagid": str(tag["tagid"])})
            userids = {str(u["userid"]) for u in data.get("userlist") or []}
            for party in data.get("partylist") or []:
                userids |= {m.userid for m in await self.members_of(int(party))}
            holders[name] = userids
        return holders

    async def snapshot(self, root: int, tag_names: set[str]) -> Snapshot:
        departments = await self.departments(root)
        members: dict[str, Member] = {}
        for dept in departments:
            for member in await self.members_of(dept.id):
                members.setdefault(member.userid, member)
        return Snapshot(departments, list(members.values()), await self.tagged(tag_names))

"""The corp's directory (通讯录): members, departments and tags, changed at runtime by tests and the console.

WeCom matches userids without regard to case (invaliduser comes back lowercased). What the directory API
answers, and which calls a self-built app may make, is in emulator/api.py.
"""

from __future__ import annotations

import dataclasses

from emulator.config import EmulatorDepartment, EmulatorTag, EmulatorUser

ROOT = 1


class DirectoryError(ValueError):
    """A change the directory refuses: an unknown member or department, a duplicate, a non-empty department."""


class Directory:
    def __init__(
        self,
        users: tuple[EmulatorUser, ...],
        departments: tuple[EmulatorDepartment, ...] = (),
        tags: tuple[EmulatorTag, ...] = (),
    ) -> None:
        self._by_lower = {u.userid.lower(): u for u in users}
        self.departments: dict[int, EmulatorDepartment] = {d.id: d for d in departments}
        if not self.departments:
            named = {ROOT} | {d for u in users for d in u.department}
            self.departments = {d: EmulatorDepartment(d, f"部门{d}", 0 if d == ROOT else ROOT) for d in sorted(named)}
        self.tags: dict[int, EmulatorTag] = {t.tagid: t for t in tags}

    # -- members -----------------------------------------------------------------------------------

    def all(self) -> tuple[EmulatorUser, ...]:
        return tuple(self._by_lower.values())

    def get(self, userid: str) -> EmulatorUser | None:
        return self._by_lower.get(userid.lower())

    def require(self, userid: str) -> EmulatorUser:
        user = self.get(userid)
        if user is None:
            raise KeyError(f"no member {userid!r} in the emulator")
        return user

    def in_department(self, department: int) -> list[EmulatorUser]:
        """The department's own members (not its sub-departments'): user/list since 2022-08 has no fetch_child."""
        return [u for u in self._by_lower.values() if department in u.department]

    def add_user(self, user: EmulatorUser) -> EmulatorUser:
        if user.userid.lower() in self._by_lower:
            raise DirectoryError(f"member {user.userid!r} exists")
        self._check_departments(user.department)
        self._by_lower[user.userid.lower()] = user
        return user

    def update_user(self, userid: str, *, name: str | None = None, department: list[int] | None = None) -> EmulatorUser:
        user = self.get(userid)
        if user is None:
            raise DirectoryError(f"no member {userid!r}")
        if department is not None:
            self._check_departments(department)
        changed = dataclasses.replace(
            user,
            name=user.name if name is None else name,
            department=list(user.department if department is None else department),
        )
        self._by_lower[userid.lower()] = changed
        return changed

    def remove_user(self, userid: str) -> EmulatorUser:
        user = self._by_lower.pop(userid.lower(), None)
        if user is None:
            raise DirectoryError(f"no member {userid!r}")
        for tag in list(self.tags.values()):
            if any(u.lower() == userid.lower() for u in tag.users):
                users = tuple(u for u in tag.users if u.lower() != userid.lower())
                self.tags[tag.tagid] = dataclasses.replace(tag, users=users)
        return user

    def _check_departments(self, ids: list[int]) -> None:
        if not ids:
            raise DirectoryError("a member belongs to at least one department")
        unknown = [d for d in ids if d not in self.departments]
        if unknown:
            raise DirectoryError(f"no department {unknown}")

    # -- departments -------------------------------------------------------------------------------

    def subtree(self, department_id: int) -> list[EmulatorDepartment]:
        """The department and all below it, parents before children (department/list?id=)."""
        found = [self.departments[department_id]]
        for dept in found:
            found.extend(d for d in self.departments.values() if d.parentid == dept.id and d.id != dept.id)
        return found

    def add_department(self, department: EmulatorDepartment) -> EmulatorDepartment:
        if department.id in self.departments:
            raise DirectoryError(f"department {department.id} exists")
        if department.parentid not in self.departments:
            raise DirectoryError(f"no parent department {department.parentid}")
        self.departments[department.id] = department
        return department

    def update_department(
        self, department_id: int, *, name: str | None = None, parentid: int | None = None
    ) -> EmulatorDepartment:
        dept = self.departments.get(department_id)
        if dept is None:
            raise DirectoryError(f"no department {department_id}")
        below = {d.id for d in self.subtree(department_id)}
        if parentid is not None and (parentid not in self.departments or parentid in below):
            raise DirectoryError(f"department {department_id} cannot move under {parentid}")
        changed = dataclasses.replace(
            dept, name=dept.name if name is None else name, parentid=dept.parentid if parentid is None else parentid
        )
        self.departments[department_id] = changed
        return changed

    def remove_department(self, department_id: int) -> EmulatorDepartment:
        """WeCom deletes only an empty department (no members, no sub-departments), never the root (90207)."""
        dept = self.departments.get(department_id)
        if dept is None:
            raise DirectoryError(f"no department {department_id}")
        if department_id == ROOT or self.in_department(department_id) or len(self.subtree(department_id)) > 1:
            raise DirectoryError(f"department {department_id} is the root or not empty")
        del self.departments[department_id]
        return dept

    # -- tags --------------------------------------------------------------------------------------

    def tag_members(self, tag: EmulatorTag) -> list[EmulatorUser]:
        return [u for u in (self.get(userid) for userid in tag.users) if u is not None]

    def tag_user(self, tagid: int, userid: str, *, tagged: bool = True) -> EmulatorTag:
        tag = self.tags.get(tagid)
        if tag is None:
            raise DirectoryError(f"no tag {tagid}")
        user = self.get(userid)
        if user is None:
            raise DirectoryError(f"no member {userid!r}")
        others = tuple(u for u in tag.users if u.lower() != userid.lower())
        changed = dataclasses.replace(tag, users=(*others, user.userid) if tagged else others)
        self.tags[tagid] = changed
        return changed

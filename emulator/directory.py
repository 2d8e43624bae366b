"""The corp's members. WeCom matches userids without regard to case (invaliduser comes back lowercased)."""

from __future__ import annotations

from emulator.config import EmulatorUser


class Directory:
    def __init__(self, users: tuple[EmulatorUser, ...]) -> None:
        self._users = users
        self._by_lower = {u.userid.lower(): u for u in users}

    def add(self, user: EmulatorUser) -> None:
        """A member who joins the corp (WeCom's address book grows while the app runs)."""
        if user.userid.lower() not in self._by_lower:
            self._users = (*self._users, user)
            self._by_lower[user.userid.lower()] = user

    def all(self) -> tuple[EmulatorUser, ...]:
        return self._users

    def get(self, userid: str) -> EmulatorUser | None:
        return self._by_lower.get(userid.lower())

    def require(self, userid: str) -> EmulatorUser:
        user = self.get(userid)
        if user is None:
            raise KeyError(f"no member {userid!r} in the emulator")
        return user

    def in_department(self, department: int) -> list[EmulatorUser]:
        return [u for u in self._users if department in u.department]

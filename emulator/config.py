"""The emulator's typed configuration: one corp, one self-built app, a fixed member list."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class EmulatorUser:
    userid: str
    name: str
    department: list[int] = field(default_factory=lambda: [1])
    position: str = ""  # e.g. "销售 / 测量派单", shown in the console


@dataclass(frozen=True)
class EmulatorDepartment:
    """A department (部门) of the corp's directory; id 1 is the root, whose parentid is 0."""

    id: int
    name: str
    parentid: int = 0
    order: int = 0


@dataclass(frozen=True)
class EmulatorTag:
    """A tag (标签) of the directory: members and whole departments carry it."""

    tagid: int
    tagname: str
    users: tuple[str, ...] = ()
    parties: tuple[int, ...] = ()


@dataclass(frozen=True)
class EmulatorConfig:
    corp_id: str
    corp_secret: str
    agent_id: int
    token: str
    encoding_aes_key: str
    callback_url: str  # Relay's POST /wecom/callback URL
    users: tuple[EmulatorUser, ...]
    callback_timeout: float = 5.0  # WeCom waits 5 s for the 200 (90238)
    callback_retries: int = 3  # re-sends after a timeout / non-200
    token_ttl: int = 7200
    # Where Relay reaches the emulator, used for the PicUrl of images members send.
    # Empty: learned from the first request the emulator serves.
    public_url: str = ""
    agent_name: str = "接力"  # the app's name in the console's chat header
    # The duplicate check as doc 90236 words it: a message whose whole request JSON was already sent in
    # the interval is not received again (a retry that differs from its first send in any byte is).
    # Off: only the content and the recipients are compared, the loosest reading.
    strict_duplicate_check: bool = False
    # Messages one member may receive from the app per minute and per hour (90454: 30 and 1000); the
    # excess is answered errcode 0 and never reaches them, as WeCom does. 0: no limit.
    member_per_minute: int = 0
    member_per_hour: int = 0
    # Members with customer contact (客户联系): only they can have 「联系我」 ways and customers.
    customer_contact: tuple[str, ...] = ()
    # Enterprise mass-sent messages a customer receives per natural month (92135); beyond, none.
    mass_send_per_month: int = 4
    # The directory's departments and tags. Without departments, the root (1) and every department a
    # member names exist, named after their ids.
    departments: tuple[EmulatorDepartment, ...] = ()
    tags: tuple[EmulatorTag, ...] = ()


def load_config(path: Path) -> EmulatorConfig:
    """Read a TOML file: top-level keys of EmulatorConfig plus [[users]], [[departments]] and [[tags]]."""
    with path.open("rb") as fh:
        raw: dict[str, Any] = tomllib.load(fh)
    users = tuple(
        EmulatorUser(
            userid=str(u["userid"]),
            name=str(u["name"]),
            department=[int(d) for d in u.get("department", [1])],
            position=str(u.get("position", "")),
        )
        for u in raw.pop("users", [])
    )
    departments = tuple(
        EmulatorDepartment(
            id=int(d["id"]), name=str(d["name"]), parentid=int(d.get("parentid", 0)), order=int(d.get("order", 0))
        )
        for d in raw.pop("departments", [])
    )
    tags = tuple(
        EmulatorTag(
            tagid=int(t["tagid"]),
            tagname=str(t["tagname"]),
            users=tuple(str(u) for u in t.get("users", [])),
            parties=tuple(int(p) for p in t.get("parties", [])),
        )
        for t in raw.pop("tags", [])
    )
    if "customer_contact" in raw:
        raw["customer_contact"] = tuple(str(u) for u in raw["customer_contact"])
    return EmulatorConfig(users=users, departments=departments, tags=tags, **raw)

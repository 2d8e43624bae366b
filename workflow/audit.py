"""The audit log: who viewed which order, revealed which phone, exported what, signed in, and which
customer's data an admin exported or erased.

One insert per thing done, made after the thing itself and never inside another open transaction, so
it adds one short write to the request and holds no lock. A row names orders and customers by id and
number, never by their personal data: a search typed as a phone is kept masked, a name not at all.
"""

from __future__ import annotations

import asyncio
import csv
import io
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from tortoise.expressions import Q

from infra.security import is_mobile, mask_phone, normalize_phone
from infra.timeutil import local, local_moment
from models import AuditAction, AuditEntry, Order, OrgUnit, Role, Staff
from workflow.errors import Invalid
from workflow.scope import ORDER_NUMBER_RE, require_role


async def record(
    action: AuditAction,
    *,
    actor: Staff | None,
    userid: str = "",
    order: Order | None = None,
    customer_id: int | None = None,
    ip: str = "",
    **detail: Any,
) -> None:
    await AuditEntry.create(
        action=action,
        actor=actor,
        actor_userid=actor.userid if actor is not None else userid[:64],
        order_id=order.id if order is not None else None,
        order_number=order.number if order is not None else "",
        customer_id=customer_id if customer_id is not None else (order.customer_id if order is not None else None),
        detail=detail,
        ip=ip[:64],
    )


def search_text(q: str) -> str:
    """What a search box held, as the log may keep it: an order number as typed, a phone masked, a
    name not at all (it is the customer's)."""
    q = q.strip()
    if not q:
        return ""
    phone = normalize_phone(q)
    if is_mobile(phone):
        return f"手机号 {mask_phone(phone)}"
    if ORDER_NUMBER_RE.match(q) and any(c.isdigit() for c in q):
        return f"订单号 {q}"
    return "姓名（不记录）"


@dataclass(frozen=True)
class AuditFilter:
    action: str = ""
    actor_id: int | None = None
    order_number: str = ""
    date_from: date | None = None
    date_to: date | None = None

    def described(self) -> dict[str, str]:
        """The filter as an export's own audit row keeps it."""
        values = {
            "action": self.action,
            "actor_id": str(self.actor_id or ""),
            "order": self.order_number,
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
        }
        return {k: v for k, v in values.items() if v}


async def audit_entries(viewer: Staff, f: AuditFilter, *, limit: int = 200) -> list[AuditEntry]:
    """The log, newest first, for an admin: what members of their part of the company did (and, for an
    admin at the top, sign-ins of userids Relay does not know)."""
    require_role(viewer, Role.ADMIN)
    unit = await OrgUnit.get(id=viewer.org_unit_id)
    scope = Q(actor__org_unit__path__startswith=unit.path)
    if unit.parent_id is None:  # type: ignore[attr-defined]
        scope |= Q(actor_id__isnull=True)
    query = AuditEntry.filter(scope)
    if f.action:
        if f.action not in AuditAction._value2member_map_:
            raise Invalid("未知的操作类型", "action")
        query = query.filter(action=f.action)
    if f.actor_id:
        query = query.filter(actor_id=f.actor_id)
    if f.order_number:
        query = query.filter(order_number=f.order_number.strip().upper()[:32])
    if f.date_from:
        query = query.filter(at__gte=local_moment(f.date_from))
    if f.date_to:
        query = query.filter(at__lt=local_moment(f.date_to + timedelta(days=1)))
    return await query.order_by("-at", "-id").limit(limit).prefetch_related("actor")


def describe(entry: AuditEntry) -> str:
    """The row's details as an admin reads them."""
    d = entry.detail or {}
    parts = []
    if "format" in d:
        parts.append(str(d["format"]).upper())
    if "rows" in d:
        parts.append(f"{d['rows']} 行")
    if d.get("filter"):
        parts.append("筛选：" + "，".join(f"{k}={v}" for k, v in d["filter"].items()))
    if "orders" in d:
        parts.append(f"{d['orders']} 个订单")
    if "via" in d:
        parts.append(str(d["via"]))
    if entry.action in ADMIN_EDITS:
        parts.extend(f"{key}={value}" for key, value in d.items())
    return "；".join(parts)


# An admin's changes: their rows say what changed, field by field (workflow/admin.py, workflow/catalog.py).
ADMIN_EDITS = (
    AuditAction.STAFF_EDIT,
    AuditAction.UNIT_EDIT,
    AuditAction.PRODUCT_EDIT,
    AuditAction.PRICES_EDIT,
    AuditAction.ALERT_RULE_EDIT,
)


AUDIT_CSV_HEADER = ["时间", "人员", "企业微信账号", "操作", "订单号", "客户编号", "详情", "IP"]


async def audit_csv(entries: list[AuditEntry]) -> str:
    def build() -> str:
        out = io.StringIO()
        out.write("\ufeff")
        writer = csv.writer(out)
        writer.writerow(AUDIT_CSV_HEADER)
        for e in entries:
            writer.writerow(
                [
                    local(e.at).strftime("%Y-%m-%d %H:%M:%S"),
                    _safe(e.actor.name if e.actor else ""),
                    _safe(e.actor_userid),
                    e.action.label,
                    e.order_number,
                    e.customer_id or "",
                    _safe(describe(e)),
                    e.ip,
                ]
            )
        return out.getvalue()

    return await asyncio.to_thread(build)


def _safe(text: str) -> str:
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text

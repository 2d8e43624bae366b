"""Service tokens: how a machine (the factory's own system) calls the API. An admin creates one with
scopes and sees its secret once; only the secret's sha256 is kept. A revoked or unknown token is
refused; a token without the scope an endpoint needs is refused with what it lacks."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from infra.timeutil import utcnow
from models import Role, ServiceToken, Staff
from workflow.errors import Conflict, Invalid, NotAllowed, NotFound
from workflow.scope import require_role

PREFIX = "relay_"
# Every scope a token may hold, and what it lets the caller do (the admin page lists them).
SCOPES = {
    "production:read": "查看待生产订单",
    "pieces:write": "更新生产件状态",
    "leads:write": "登记预约",
    "leads:read": "查看预约",
    "stock:read": "查看库存",
    "stock:write": "入库、退货入库与盘点（以所代表员工的仓库权限）",
    "news:read": "查看所发公告的阅读情况",
    "news:write": "发布公告（以所代表员工的范围）",
    # The integration API (ERP, finance): orders, customers and payments as the member the token acts as.
    "orders:read": "查看订单",
    "orders:write": "开单与推进订单",
    "customers:read": "查看客户（号码与地址打码）",
    "customers:pii": "查看客户完整号码与地址（每次记入审计日志）",
    "products:read": "查看产品与价目表",
    "products:write": "维护产品与价目表",
    "payments:read": "查看收款",
    "payments:write": "登记收款",
    "webhooks:write": "管理 Webhook 订阅与投递",
}


class Unauthenticated(NotAllowed):
    """No token, an unknown one, or a revoked one (401: the caller must get a valid token)."""

    status = 401


@dataclass(frozen=True)
class Created:
    token: ServiceToken
    secret: str  # shown once


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_scopes(scopes: list[str]) -> list[str]:
    chosen = list(dict.fromkeys(s.strip() for s in scopes if s.strip()))
    unknown = [s for s in chosen if s not in SCOPES]
    if unknown:
        raise Invalid(f"未知的权限范围：{'、'.join(unknown)}（可选：{'、'.join(SCOPES)}）", "scopes")
    if not chosen:
        raise Invalid("请至少选择一个权限范围", "scopes")
    return chosen


async def create_token(*, actor: Staff | None, name: str, scopes: list[str], acts_as: str = "") -> Created:
    """A new token (actor None: the command line, run by whoever holds the server). `acts_as`: the userid
    of the member it acts as (an integration's own account): orders, customers and payments are read and
    written with that member's roles and part of the company."""
    if actor is not None:
        require_role(actor, Role.ADMIN)
    name = name.strip()
    if not name or len(name) > 64:
        raise Invalid("请填写令牌名称（64 字以内）", "name")
    chosen = parse_scopes(scopes)
    member = None
    if acts_as.strip():
        member = await Staff.get_or_none(userid=acts_as.strip(), active=True)
        if member is None:
            raise Invalid(f"没有在职员工 {acts_as.strip()[:64]}", "acts_as")
    secret = PREFIX + secrets.token_urlsafe(32)
    token = await ServiceToken.create(
        name=name, scopes=" ".join(chosen), secret_hash=digest(secret), created_by=actor, staff=member
    )
    return Created(token, secret)


async def revoke_token(*, actor: Staff | None, token_id: int) -> ServiceToken:
    if actor is not None:
        require_role(actor, Role.ADMIN)
    token = await ServiceToken.get_or_none(id=token_id)
    if token is None:
        raise NotFound("令牌不存在")
    if not await ServiceToken.filter(id=token_id, revoked_at__isnull=True).update(revoked_at=utcnow()):
        raise Conflict("这个令牌已吊销", "已吊销")
    await token.refresh_from_db()
    return token


async def authenticate(secret: str, scope: str) -> ServiceToken:
    """The live token with this secret and scope; Unauthenticated (401) or NotAllowed (403) if not."""
    if not secret:
        raise Unauthenticated("缺少访问令牌（Authorization: Bearer <token>）")
    hashed = digest(secret)
    token = await ServiceToken.get_or_none(secret_hash=hashed).prefetch_related("staff")
    # The lookup is by the hash; compare again in constant time so a near-miss teaches nothing.
    if token is None or not hmac.compare_digest(token.secret_hash, hashed):
        raise Unauthenticated("访问令牌无效")
    if token.revoked_at is not None:
        raise Unauthenticated("访问令牌已吊销")
    if scope not in token.scope_list:
        raise NotAllowed(f"访问令牌没有 {scope} 权限")
    await ServiceToken.filter(id=token.id).update(last_used_at=utcnow())
    return token

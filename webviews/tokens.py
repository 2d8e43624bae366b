"""The admin's service tokens page: create a token for the factory's system (its secret shown once),
see when each was last used, revoke one."""

from __future__ import annotations

from aiohttp import web

from models import Role, ServiceToken, Staff
from webviews.auth import api_staff, check_csrf, csrf_token, h5_page
from webviews.forms import one, read_form, to_int
from webviews.render import render
from workflow.errors import NotAllowed, WorkflowError
from workflow.tokens import SCOPES, create_token, revoke_token

routes = web.RouteTableDef()
PATH = "/h5/admin/tokens"


def _admin(request: web.Request) -> Staff:
    staff = api_staff(request)
    if not staff.has_role(Role.ADMIN):
        raise NotAllowed("只有管理员可以管理访问令牌")
    return staff


async def _page(
    request: web.Request, *, status: int = 200, error: str | None = None, secret: str = "", notice: str = ""
) -> web.Response:
    staff = _admin(request)
    tokens = await ServiceToken.all().order_by("-id").prefetch_related("created_by", "staff")
    return render(
        request,
        "tokens.html",
        status=status,
        tokens=tokens,
        scopes=SCOPES,
        members=await Staff.filter(active=True).order_by("name"),
        csrf=csrf_token(staff),
        error=error,
        secret=secret,
        notice=notice,
    )


@routes.get(PATH)
@h5_page
async def tokens_page(request: web.Request) -> web.Response:
    return await _page(request)


@routes.post(PATH)
@h5_page
async def tokens_action(request: web.Request) -> web.Response:
    staff = _admin(request)
    fields, _ = await read_form(request)
    check_csrf(request, staff, one(fields, "csrf"))
    try:
        if one(fields, "revoke"):
            token = await revoke_token(actor=staff, token_id=to_int(one(fields, "revoke"), -1))
            return await _page(request, notice=f"令牌 {token.name} 已吊销")
        created = await create_token(
            actor=staff, name=one(fields, "name"), scopes=fields.get("scope", []), acts_as=one(fields, "acts_as")
        )
    except WorkflowError as refused:
        return await _page(request, status=refused.status, error=refused.message)
    # The secret is in this answer only: the page is not redirected, so a reload does not show it again.
    return await _page(request, secret=created.secret, notice=f"令牌 {created.token.name} 已创建")

"""The admin's webhooks page: subscribe another system's URL to events (its signing secret shown once),
(de)activate a subscription, and see every delivery (attempts, the receiver's last answer) with a button
to send one again."""

from __future__ import annotations

from aiohttp import web

from models import Role, Staff, WebhookSubscription
from webviews.auth import api_staff, check_csrf, csrf_token, h5_page
from webviews.forms import one, read_form, to_int
from webviews.render import render
from workflow import webhooks
from workflow.errors import NotAllowed, WorkflowError

routes = web.RouteTableDef()
PATH = "/h5/admin/webhooks"


def _admin(request: web.Request) -> Staff:
    staff = api_staff(request)
    if not staff.has_role(Role.ADMIN):
        raise NotAllowed("只有管理员可以管理 Webhook")
    return staff


async def _page(
    request: web.Request, *, status: int = 200, error: str | None = None, secret: str = "", notice: str = ""
) -> web.Response:
    staff = _admin(request)
    return render(
        request,
        "webhooks.html",
        status=status,
        subscriptions=await WebhookSubscription.all().order_by("-id"),
        deliveries=await webhooks.recent_deliveries(limit=100),
        event_types=webhooks.EVENT_TYPES,
        csrf=csrf_token(staff),
        error=error,
        secret=secret,
        notice=notice,
    )


@routes.get(PATH)
@h5_page
async def webhooks_page(request: web.Request) -> web.Response:
    return await _page(request)


@routes.post(PATH)
@h5_page
async def webhooks_action(request: web.Request) -> web.Response:
    staff = _admin(request)
    fields, _ = await read_form(request)
    check_csrf(request, staff, one(fields, "csrf"))
    try:
        if replay := one(fields, "replay"):
            delivery = await webhooks.replay(actor=staff, delivery_id=to_int(replay, -1))
            return await _page(request, notice=f"投递 {delivery.id}（{delivery.event_type}）已重新排队")
        if switch := one(fields, "toggle"):
            found = await webhooks.subscription_of(to_int(switch, -1))
            form = webhooks.SubscriptionInput(found.name, found.url, found.event_list)
            changed = await webhooks.update_subscription(
                actor=staff, subscription_id=found.id, form=form, active=not found.active
            )
            return await _page(request, notice=f"订阅 {changed.name} 已{'启用' if changed.active else '停用'}")
        form = webhooks.SubscriptionInput(one(fields, "name"), one(fields, "url"), fields.get("event", []))
        created = await webhooks.create_subscription(actor=staff, form=form)
    except WorkflowError as refused:
        return await _page(request, status=refused.status, error=refused.message)
    # The secret is in this answer only: not redirected, so a reload does not show it again.
    return await _page(request, secret=created.secret, notice=f"订阅 {created.subscription.name} 已创建")

"""The customer's own order page: a signed, expiring, revocable link per order, usable without an account.

The token is signed like the signature page's (itsdangerous, the app's secret key, its own salt) and
carries the order's link version: revoking an order's links raises the version, so every link sent
before stops working at once, and the next one sent is new.
"""

from __future__ import annotations

from tortoise.expressions import F

from infra.runtime import runtime
from infra.security import Signer
from models import Order
from workflow.signing import LinkProblem

EXPIRED = LinkProblem("链接已过期", "这个订单链接已过期，请联系您的销售顾问重新发送。")
INVALID = LinkProblem("链接无效", "这个订单链接无效，请向您的销售顾问索取正确的链接。")
REVOKED = LinkProblem("链接已失效", "这个订单链接已被收回，请向您的销售顾问索取新的链接。")


def _signer() -> Signer:
    return Signer(runtime().config.security.secret_key, "customer-page")


def customer_token(order: Order) -> str:
    return _signer().dumps({"o": order.id, "n": order.number, "v": order.customer_link_version})


def customer_page_url(order: Order) -> str:
    """The link to send the customer (in a welcome message, a milestone message, an SMS)."""
    return runtime().links.h5(f"/c/{customer_token(order)}")


async def order_for_customer_link(token: str) -> Order:
    """The order a customer link is for; LinkProblem with a page's worth of text if it is not valid."""
    max_age = runtime().config.security.customer_link_days * 86400
    value = _signer().loads(token, max_age)
    if value is None:
        # itsdangerous tells expired from forged only by trying without the age limit.
        raise EXPIRED if _signer().loads(token, 10**10) is not None else INVALID
    if not isinstance(value, dict):
        raise INVALID
    order = await Order.get_or_none(id=value.get("o"), number=value.get("n"))
    if order is None:
        raise INVALID
    if value.get("v") != order.customer_link_version:
        raise REVOKED
    return order


async def revoke_customer_links(order: Order) -> None:
    """End every link to the order's page sent so far (the caller checks who may, and records it)."""
    await Order.filter(id=order.id).update(customer_link_version=F("customer_link_version") + 1)
    await order.refresh_from_db(fields=["customer_link_version"])

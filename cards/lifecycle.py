"""Cards from design to after-sales: design done, confirmed, goods-in, installed, signing, visit, alerts."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from cards.common import button_card, callback_button, row, text_notice, url_button
from cards.keys import CardKind, CardRef, GoodsInKey
from cards.views import OrderView
from infra.runtime import Links


def money(value: Decimal | None) -> str:
    return "—" if value is None else f"¥{value:,.2f}"


def design_done_card(sales: str, order: OrderView, *, files: int, links: Links) -> dict[str, Any]:
    page = links.oauth(f"/h5/orders/{order.number}/gallery")
    confirm = links.oauth(f"/h5/orders/{order.number}/confirm")
    return text_notice(
        sales,
        task_id=CardRef(CardKind.DESIGNED, order.id).new_task_id(),
        title="设计完成",
        desc=f"订单 {order.number} · {order.customer_name}",
        emphasis=(f"{files} 份设计文件", "请与客户确认设计并收款"),
        rows=[row("产品", order.items_text)],
        url=confirm,
        jumps=[("客户确认与收款", confirm), ("查看并下载设计", page)],
    )


def to_warehouse_card(to: list[str], order: OrderView, *, links: Links) -> dict[str, Any]:
    page = links.oauth(f"/h5/orders/{order.number}/goods-in")
    return text_notice(
        to,
        task_id=CardRef(CardKind.CONFIRMED, order.id).new_task_id(),
        title="订单已确认，待生产入库",
        desc=f"订单 {order.number} · {order.customer_name}",
        rows=[row("产品", order.items_text), row("销售", order.sales_name)],
        quote="到货后请在入库页面填写或扫码录入每件产品的生产编号",
        url=page,
        jumps=[("入库登记", page)],
    )


def goods_in_card(
    userid: str, order: OrderView, *, items: list[tuple[str, str | None]], links: Links
) -> dict[str, Any]:
    lines = [f"{label}：{number or '未到货'}" for label, number in items]
    page = links.oauth(f"/h5/orders/{order.number}/goods-in")
    return text_notice(
        userid,
        task_id=CardRef(CardKind.GOODS_IN, order.id).new_task_id(),
        title=f"入库 · 订单 {order.number}",
        desc=f"{sum(1 for _, n in items if n)}/{len(items)} 件已到货",
        quote="\n".join(lines) + "\n扫码或在页面上录入生产编号",
        url=page,
        jumps=[("入库登记", page)],
    )


def scanned_card(userid: str, order: OrderView, *, number: str, items: list[tuple[int, str]]) -> dict[str, Any]:
    """Which item does this scanned production number belong to?"""
    return button_card(
        userid,
        task_id=CardRef(CardKind.SCAN, order.id).new_task_id(),
        title="扫码入库：属于哪件产品？",
        desc=f"订单 {order.number} · 编号 {number}",
        buttons=[
            callback_button(label, GoodsInKey(item_id=item_id, production_number=number).pack())
            for item_id, label in items[:6]
        ],
    )


def install_done_card(to: list[str], order: OrderView, *, photos: int, links: Links) -> dict[str, Any]:
    gallery = links.oauth(f"/h5/orders/{order.number}/gallery")
    return text_notice(
        to,
        task_id=CardRef(CardKind.INSTALLED, order.id).new_task_id(),
        title="安装完成",
        desc=f"订单 {order.number} · {order.customer_name}",
        emphasis=(f"{photos} 张安装照片", "点击查看"),
        rows=[row("地址", order.address), row("产品", order.items_text)],
        url=gallery,
    )


def signing_card(to: str, order: OrderView, *, installer_page: str, sign_url: str) -> dict[str, Any]:
    return button_card(
        to,
        task_id=CardRef(CardKind.SIGN_LINK, order.id).new_task_id(),
        title="请客户签字确认",
        desc=f"订单 {order.number} · {order.customer_name}",
        quote="请客户用手机扫码，或把链接转发给客户，查看安装照片并手写签名",
        buttons=[url_button("出示签字二维码", installer_page), url_button("打开签字页", sign_url, style=2)],
        url=installer_page,
    )


def visit_task_card(to: str, order: OrderView, *, installer: str, links: Links) -> dict[str, Any]:
    page = links.oauth(f"/h5/orders/{order.number}/visit")
    return text_notice(
        to,
        task_id=CardRef(CardKind.VISIT, order.id).new_task_id(),
        title="待回访",
        desc=f"订单 {order.number} · {order.customer_name}",
        rows=[row("电话", order.phone_masked), row("安装", installer), row("销售", order.sales_name)],
        quote="请致电客户回访，为销售、测量、安装评分",
        url=page,
        jumps=[("填写回访", page)],
    )


def signed_card(sales: str, order: OrderView, *, links: Links) -> dict[str, Any]:
    return text_notice(
        sales,
        task_id=CardRef(CardKind.SIGNED, order.id).new_task_id(),
        title="客户已签字",
        desc=f"订单 {order.number} · {order.customer_name}",
        url=links.oauth(f"/h5/orders/{order.number}"),
    )

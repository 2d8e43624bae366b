"""Installing's own card: the workbench after accepting."""

from __future__ import annotations

from typing import Any

from cards.common import button_card, callback_button, row
from cards.keys import CardKind, CardRef, FinishTaskKey, PhotosForTaskKey
from cards.tasks import day_label
from cards.views import TaskView
from infra.runtime import Links


def install_workbench_card(installer: str, task: TaskView, *, links: Links) -> dict[str, Any]:
    order = task.order
    return button_card(
        installer,
        task_id=CardRef(CardKind.INSTALL_BENCH, task.id).new_task_id(),
        title="安装进行中",
        desc=f"订单 {order.number} · {order.customer_name}",
        rows=[row("地址", order.address), row("日期", day_label(task.scheduled_date)), row("产品", order.items_text)],
        quote="安装完成后直接在聊天里发送安装结果照片，然后点“安装完成”：随后会收到给客户签字的二维码。",
        buttons=[
            callback_button("照片归入此单", PhotosForTaskKey(task_id=task.id).pack(), style=2),
            callback_button("安装完成", FinishTaskKey(task_id=task.id).pack(), style=1),
        ],
        url=links.oauth(f"/h5/orders/{order.number}"),
    )

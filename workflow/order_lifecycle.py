"""The order's lifecycle, declared once. Every guard, button and refusal about an order comes from here.

Read a row as: *name* (the button's label) may be done by *who* when the order is in *source*; it
takes the order to *target* (or leaves it), moves the field job, writes the timeline event, and is
offered on *page*. `docs/lifecycle.md` has the same table drawn as a diagram (`relay lifecycle`).

Scopes: UNIT, the order is in the member's part of the company; OWN, the member sold it; ASSIGNEE,
the member holds the order's field job of that kind; LINK, the customer with the signed link.
"""

from __future__ import annotations

from datetime import timedelta

from infra.runtime import runtime
from infra.timeutil import utcnow
from models import ApprovalState, EventKind, OrderState, Role, TaskKind, TaskState
from models.enums import OPEN_ORDER_STATES, OPEN_TASK_STATES
from models.flows import INSTALL, MEASURE, TaskFlow
from workflow.lifecycle import Facts, Lifecycle, Page, Rule, Scope, TaskMove, Transition

S = OrderState
OPEN = OPEN_TASK_STATES
ASSIGNED = (TaskState.ASSIGNED,)
ACCEPTED = (TaskState.ACCEPTED,)


def unit(*roles: Role) -> tuple[Rule, ...]:
    return tuple(Rule(r, Scope.UNIT) for r in roles)


def own_sale() -> Rule:
    return Rule(Role.SALES, Scope.OWN)


def assignee(role: Role) -> tuple[Rule, ...]:
    return (Rule(role, Scope.ASSIGNEE),)


# The H5 pages that offer transitions, each once: the order page shows the pages a member may use.
DISPATCH_MEASURE = Page("派测量", "/dispatch/measure")
MEASURE_PAGE = Page("图纸与产品 / 测量完成", "/measure")
DESIGN = Page("上传设计", "/design")
CONFIRM = Page("客户确认与收款", "/confirm")
PAYMENTS = Page("登记收款", "/payments")
GOODS_IN = Page("入库登记", "/goods-in")
DISPATCH_INSTALL = Page("派安装", "/dispatch/install")
SIGN = Page("客户签字", "/sign")
VISIT = Page("填写回访", "/visit")
CHANGES = Page("调整", "/changes", lists_actions=True)

CUSTOMER = Page("修改客户信息", "/customer")
APPROVAL = Page("价格审核", "/approval")
PRICES = Page("修改价格", "/prices")
CONFIRM_PAYMENTS = Page("确认到账", "/confirm-payments")
INVOICES = Page("开具发票", "/invoices")
CUSTOMER_LINK = Page("客户查看链接", "/customer-page")
CONTACT = Page("加客户微信", "/contact")
TICKET_NEW = Page("报修", "/tickets/new")

DISPATCH_PAGES = {TaskKind.MEASURE: DISPATCH_MEASURE, TaskKind.INSTALL: DISPATCH_INSTALL}


def field_job(flow: TaskFlow, dispatch_event: EventKind, events: dict[str, EventKind]) -> list[Transition]:
    """Measuring and installing share one shape: dispatch, accept or decline, reschedule, reassign,
    transfer. (Their own steps, photos and done, are rows of their own below.)"""
    k, at = flow.kind, (flow.scheduled_state,)
    dispatcher, worker = unit(flow.dispatcher_role), assignee(flow.worker_role)
    return [
        Transition(
            f"dispatch_{k}",
            DISPATCH_PAGES[k].label,
            dispatcher,
            (flow.ready_state,),
            flow.scheduled_state,
            TaskMove(k, create=True),
            dispatch_event,
            DISPATCH_PAGES[k],
        ),
        Transition(
            f"accept_{k}", "接单", worker, at, None, TaskMove(k, ASSIGNED, TaskState.ACCEPTED), events["accepted"]
        ),
        Transition(
            f"decline_{k}",
            "拒单",
            worker,
            at,
            flow.ready_state,
            TaskMove(k, ASSIGNED, TaskState.DECLINED),
            events["declined"],
        ),
        Transition(f"reschedule_{k}", "改期", dispatcher, at, None, TaskMove(k, OPEN), events["rescheduled"], CHANGES),
        Transition(
            f"reassign_{k}",
            "改派",
            dispatcher,
            at,
            None,
            TaskMove(k, OPEN, TaskState.ASSIGNED),
            events["reassigned"],
            CHANGES,
        ),
        Transition(
            f"transfer_{k}",
            "转交",
            worker,
            at,
            None,
            TaskMove(k, OPEN, TaskState.ASSIGNED),
            events["transferred"],
            CHANGES,
        ),
        # The worker left the company (the WeCom directory says so): the job goes back to be dispatched
        # again, as a decline does (workflow/directory.py).
        Transition(
            f"return_{k}",
            "离职退回",
            dispatcher,
            at,
            flow.ready_state,
            TaskMove(k, OPEN, TaskState.CANCELLED),
            events["returned"],
            automatic=True,
        ),
    ]


def _events(prefix: str) -> dict[str, EventKind]:
    return {
        step: EventKind(f"{prefix}_{step}")
        for step in ("accepted", "declined", "rescheduled", "reassigned", "transferred", "returned")
    }


def undo_window(facts: Facts) -> str | None:
    """A cancel can be undone for schedule.cancel_undo_minutes; after that it stands."""
    order = facts.order
    minutes = runtime().config.schedule.cancel_undo_minutes
    if order.cancelled_at is None or utcnow() - order.cancelled_at > timedelta(minutes=minutes):
        return f"订单 {order.number} 取消已超过 {minutes} 分钟，不能撤销"
    return None


def prices_cleared(facts: Facts) -> str | None:
    """Production waits for the price review (审核): none asked, or the last level approved."""
    order = facts.order
    if order.approval_state == ApprovalState.PENDING:
        return f"订单 {order.number} 价格待审核，审核通过后才能投产"
    if order.approval_state == ApprovalState.REJECTED:
        return f"订单 {order.number} 价格已被驳回，请修改价格重新提交审核，通过后才能投产"
    return None


def approver_now(facts: Facts) -> str | None:
    """Only a manager of the unit whose level is waiting decides it (the levels come in turn)."""
    order, approval, actor = facts.order, facts.approval, facts.actor
    if approval is None:
        return f"订单 {order.number} 没有待审核的价格"
    if actor is None or actor.org_unit_id != approval.unit_id:
        return f"订单 {order.number} 正待{approval.unit.name}审核，你不是这一级的审核人"
    return None


MEASURE_JOB = TaskMove(TaskKind.MEASURE, OPEN)
INSTALL_JOB = TaskMove(TaskKind.INSTALL, OPEN)
E = EventKind
# The states in which an order has a contract amount and payments.
PAID_STATES = (S.CONFIRMED, S.IN_STOCK, S.INSTALL_SCHEDULED, S.INSTALLED, S.SIGNED, S.VISITED)

# Who sends the customer the link to their own page: whoever the customer deals with about the order
# (its salesperson; after-sales once it is installed) and the managers over it, who answer when neither
# can. Dispatchers and field staff only meet the customer for one visit.
CUSTOMER_PAGE_PEOPLE = (own_sale(), *unit(Role.AFTER_SALES, Role.MANAGER))

ORDER = Lifecycle(
    "order",
    [
        Transition("create_order", "开单", (Rule(Role.SALES, Scope.UNIT),), (), S.CREATED, event=E.CREATED),
        # Measuring (测量)
        *field_job(MEASURE, E.MEASURE_DISPATCHED, _events("measure")),
        Transition(
            "add_site_photo",
            "现场照片",
            assignee(Role.MEASURER),
            (S.MEASURE_SCHEDULED,),
            None,
            MEASURE_JOB,
            E.PHOTO_ADDED,
        ),
        Transition(
            "categorize_photo",
            "照片分类",
            assignee(Role.MEASURER),
            (S.MEASURE_SCHEDULED,),
            None,
            MEASURE_JOB,
            E.PHOTO_CATEGORIZED,
        ),
        Transition(
            "add_drawing",
            "上传图纸",
            assignee(Role.MEASURER),
            (S.MEASURE_SCHEDULED,),
            None,
            MEASURE_JOB,
            E.DRAWING_ADDED,
            MEASURE_PAGE,
        ),
        Transition(
            "adjust_items",
            "调整产品与房间",
            assignee(Role.MEASURER),
            (S.MEASURE_SCHEDULED,),
            None,
            MEASURE_JOB,
            E.ITEMS_ADJUSTED,
            MEASURE_PAGE,
        ),
        Transition(
            "finish_measure",
            "测量完成",
            assignee(Role.MEASURER),
            (S.MEASURE_SCHEDULED,),
            S.MEASURED,
            TaskMove(TaskKind.MEASURE, ACCEPTED, TaskState.DONE),
            E.MEASURED,
            MEASURE_PAGE,
            stamp="measured_at",
        ),
        Transition(
            "remeasure",
            "重新测量",
            (own_sale(), *unit(Role.DESIGNER, Role.MEASURE_DISPATCHER, Role.MANAGER)),
            (S.MEASURED, S.DESIGNED),
            S.CREATED,
            event=E.REMEASURE,
            page=CHANGES,
            clears=("measured_at", "designed_at"),
        ),
        # Design (设计)
        Transition("add_design", "上传设计", unit(Role.DESIGNER), (S.MEASURED,), event=E.DESIGN_ADDED, page=DESIGN),
        Transition(
            "finish_design",
            "设计完成",
            unit(Role.DESIGNER),
            (S.MEASURED,),
            S.DESIGNED,
            event=E.DESIGNED,
            page=DESIGN,
            stamp="designed_at",
        ),
        # The price review (审核): a discount beyond money.discount_threshold or a contract below the
        # floor waits for the managers of the order's store, then its region (workflow/approval.py).
        Transition(
            "approve",
            "同意",
            unit(Role.MANAGER),
            OPEN_ORDER_STATES,
            event=E.APPROVAL_APPROVED,
            page=APPROVAL,
            guard=approver_now,
            guard_label="本级审核人",
        ),
        Transition(
            "reject",
            "驳回",
            unit(Role.MANAGER),
            OPEN_ORDER_STATES,
            event=E.APPROVAL_REJECTED,
            page=APPROVAL,
            guard=approver_now,
            guard_label="本级审核人",
        ),
        # Confirmation and money (客户确认, 收款)
        Transition(
            "confirm",
            "客户确认与收款",
            (own_sale(),),
            (S.DESIGNED,),
            S.CONFIRMED,
            event=E.CONFIRMED,
            page=CONFIRM,
            stamp="confirmed_at",
            guard=prices_cleared,
            guard_label="价格已审核",
        ),
        # Prices: sales changes a line's unit price or discount, or the order's discount, until
        # production starts on the line (workflow/items.py edit_prices checks the pieces). Offered,
        # never waiting on anyone.
        Transition(
            "edit_prices",
            "修改价格",
            (own_sale(),),
            (S.CREATED, S.MEASURE_SCHEDULED, S.MEASURED, S.DESIGNED, S.CONFIRMED),
            event=E.PRICES_CHANGED,
            page=PRICES,
            corrects=True,
        ),
        Transition(
            "record_payment",
            "登记收款",
            (own_sale(),),
            (S.CONFIRMED, S.IN_STOCK, S.INSTALL_SCHEDULED, S.INSTALLED, S.SIGNED, S.VISITED),
            event=E.PAYMENT,
            page=PAYMENTS,
        ),
        # Finance (财务): a payment sales records is 待确认 until finance of the order's unit confirms the
        # money arrived (workflow/finance.py); invoices are issued against the contract amount.
        Transition(
            "confirm_payment",
            "确认到账",
            unit(Role.FINANCE),
            PAID_STATES,
            event=E.PAYMENT_CONFIRMED,
            page=CONFIRM_PAYMENTS,
        ),
        Transition("issue_invoice", "开具发票", unit(Role.FINANCE), PAID_STATES, event=E.INVOICE_ISSUED, page=INVOICES),
        # Goods-in (入库): the last item in takes the order on by itself.
        Transition("receive_item", "入库", unit(Role.WAREHOUSE), (S.CONFIRMED,), event=E.GOODS_IN, page=GOODS_IN),
        Transition(
            "all_in",
            "货已到齐",
            unit(Role.WAREHOUSE),
            (S.CONFIRMED,),
            S.IN_STOCK,
            event=E.IN_STOCK,
            stamp="in_stock_at",
            automatic=True,
        ),
        # Installing (安装)
        *field_job(INSTALL, E.INSTALL_DISPATCHED, _events("install")),
        Transition(
            "add_install_photo",
            "安装照片",
            assignee(Role.INSTALLER),
            (S.INSTALL_SCHEDULED,),
            None,
            INSTALL_JOB,
            E.INSTALL_PHOTO_ADDED,
        ),
        Transition(
            "finish_install",
            "安装完成",
            assignee(Role.INSTALLER),
            (S.INSTALL_SCHEDULED,),
            S.INSTALLED,
            TaskMove(TaskKind.INSTALL, ACCEPTED, TaskState.DONE),
            E.INSTALLED,
            stamp="installed_at",
        ),
        # The customer's signature (客户签字): the installer who did the job, or sales, shows the link.
        Transition(
            "share_signing",
            "客户签字",
            (*assignee(Role.INSTALLER), own_sale()),
            (S.INSTALLED,),
            task=TaskMove(TaskKind.INSTALL, (TaskState.ACCEPTED, TaskState.DONE)),
            page=SIGN,
        ),
        Transition(
            "sign", "确认签字", (Rule(None, Scope.LINK),), (S.INSTALLED,), S.SIGNED, event=E.SIGNED, stamp="signed_at"
        ),
        # The customer asks, from their own page (workflow/customer_requests.py), to move a booked visit:
        # the dispatchers over the order are told, and whoever may reschedule the job settles it.
        *(
            Transition(
                f"request_reschedule_{flow.kind}",
                "申请改期",
                (Rule(None, Scope.LINK),),
                (flow.scheduled_state,),
                task=TaskMove(flow.kind, OPEN),
                event=E.RESCHEDULE_REQUESTED,
            )
            for flow in (MEASURE, INSTALL)
        ),
        # Reaching the customer (客户联系): the salesperson's 「联系我」 QR code carrying the order.
        Transition(
            "contact_customer",
            "加客户微信",
            (own_sale(),),
            (*OPEN_ORDER_STATES, S.SIGNED, S.VISITED),
            page=CONTACT,
        ),
        # After-sales (回访): not reaching the customer is recorded and leaves the order where it is.
        Transition(
            "visit",
            "填写回访",
            unit(Role.AFTER_SALES),
            (S.INSTALLED, S.SIGNED),
            S.VISITED,
            event=E.VISITED,
            page=VISIT,
            stamp="visited_at",
        ),
        Transition(
            "visit_unreached", "未接通", unit(Role.AFTER_SALES), (S.INSTALLED, S.SIGNED), event=E.VISITED, page=VISIT
        ),
        # The customer's own page (客户查看链接, workflow/customer_page.py): who deals with the customer sends
        # its link, at any stage (a cancelled order's page says so); a link that reached the wrong person
        # is taken back, and every link sent before stops working.
        Transition(
            "share_customer_page",
            "客户查看链接",
            CUSTOMER_PAGE_PEOPLE,
            tuple(OrderState),
            page=CUSTOMER_LINK,
        ),
        Transition(
            "revoke_customer_page",
            "收回客户链接",
            CUSTOMER_PAGE_PEOPLE,
            tuple(OrderState),
            event=E.CUSTOMER_LINK_REVOKED,
            page=CUSTOMER_LINK,
            corrects=True,
        ),
        # Service tickets (售后工单): a problem after the install, reported by the customer on their page or
        # by staff; the ticket's own steps are the table in workflow/ticket_lifecycle.py. Offered, never
        # waiting on anyone.
        Transition(
            "open_ticket",
            "报修",
            (own_sale(), *unit(Role.SALES, Role.AFTER_SALES, Role.MANAGER), Rule(None, Scope.LINK)),
            (S.INSTALLED, S.SIGNED, S.VISITED),
            page=TICKET_NEW,
            corrects=True,
        ),
        # Changing course (调整)
        Transition(
            "cancel",
            "取消订单",
            (own_sale(), *unit(Role.MANAGER, Role.ADMIN)),
            OPEN_ORDER_STATES,
            S.CANCELLED,
            event=E.CANCELLED,
            page=CHANGES,
            stamp="cancelled_at",
        ),
        Transition(
            "undo_cancel",
            "撤销取消",
            (own_sale(), *unit(Role.MANAGER, Role.ADMIN)),
            (S.CANCELLED,),
            event=E.CANCEL_UNDONE,
            page=CHANGES,
            restores=True,
            guard=undo_window,
            guard_label="限时",
            corrects=True,
        ),
        # Putting things right (更正)
        Transition(
            "void_payment",
            "作废或更正收款",
            (own_sale(), *unit(Role.MANAGER)),
            (S.CONFIRMED, S.IN_STOCK, S.INSTALL_SCHEDULED, S.INSTALLED, S.SIGNED, S.VISITED),
            event=E.PAYMENT_VOIDED,
            page=PAYMENTS,
            corrects=True,
        ),
        Transition(
            "void_invoice",
            "作废发票",
            unit(Role.FINANCE),
            PAID_STATES,
            event=E.INVOICE_VOIDED,
            page=INVOICES,
            corrects=True,
        ),
        Transition(
            "edit_customer",
            "修改客户信息",
            (own_sale(), *unit(Role.SALES, Role.MANAGER)),
            (*OPEN_ORDER_STATES, S.SIGNED, S.VISITED),
            event=E.CUSTOMER_EDITED,
            page=CUSTOMER,
            corrects=True,
        ),
    ],
)


def job(kind: TaskKind, step: str) -> Transition:
    """The field-job row of this kind: job(TaskKind.MEASURE, "accept") is accept_measure."""
    return ORDER[f"{step}_{kind.value}"]

"""The domain's fixed vocabularies. Values are stored in the database; labels are what staff read."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    SALES = "sales"
    MEASURE_DISPATCHER = "measure_dispatcher"
    MEASURER = "measurer"
    DESIGNER = "designer"
    WAREHOUSE = "warehouse"
    INSTALL_DISPATCHER = "install_dispatcher"
    INSTALLER = "installer"
    AFTER_SALES = "after_sales"
    MANAGER = "manager"
    ADMIN = "admin"
    FINANCE = "finance"  # confirms recorded payments, issues invoices and receipts
    FACTORY = "factory"  # moves production pieces through their stages
    CONSULTANT = "consultant"  # 销售顾问: gets showroom leads (预约) assigned, claims and serves them
    RECEPTION = "reception"  # 前台: books leads for customers, records arrival, reassigns by hand
    PURCHASING = "purchasing"  # 采购: told when stock falls below its safety level, receives stock
    DEALER = "dealer"  # 经销商: orders from the catalogue at its own price list, follows each order and piece
    DEALER_MANAGER = "dealer_manager"  # 经销商管理: the company side; accepts or returns dealers' orders

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]

    @property
    def person(self) -> str:
        """Who holds the role, as a sentence names them (只有测量派单员可以…)."""
        return ROLE_PEOPLE[self]


ROLE_PEOPLE = {
    Role.SALES: "销售",
    Role.MEASURE_DISPATCHER: "测量派单员",
    Role.MEASURER: "测量师傅",
    Role.DESIGNER: "设计师",
    Role.WAREHOUSE: "仓库管理员",
    Role.INSTALL_DISPATCHER: "安装派单员",
    Role.INSTALLER: "安装师傅",
    Role.AFTER_SALES: "售后客服",
    Role.MANAGER: "管理层",
    Role.ADMIN: "管理员",
    Role.FINANCE: "财务",
    Role.FACTORY: "工厂",
    Role.CONSULTANT: "销售顾问",
    Role.RECEPTION: "前台",
    Role.PURCHASING: "采购",
    Role.DEALER: "经销商",
    Role.DEALER_MANAGER: "经销商管理员",
}

ROLE_LABELS = {
    Role.SALES: "销售",
    Role.MEASURE_DISPATCHER: "测量派单",
    Role.MEASURER: "测量",
    Role.DESIGNER: "设计",
    Role.WAREHOUSE: "仓库",
    Role.INSTALL_DISPATCHER: "安装派单",
    Role.INSTALLER: "安装",
    Role.AFTER_SALES: "售后",
    Role.MANAGER: "管理层",
    Role.ADMIN: "管理员",
    Role.FINANCE: "财务",
    Role.FACTORY: "工厂",
    Role.CONSULTANT: "销售顾问",
    Role.RECEPTION: "前台",
    Role.PURCHASING: "采购",
    Role.DEALER: "经销商",
    Role.DEALER_MANAGER: "经销商管理",
}


class OrderState(StrEnum):
    CREATED = "created"
    MEASURE_SCHEDULED = "measure_scheduled"
    MEASURED = "measured"
    DESIGNED = "designed"
    CONFIRMED = "confirmed"
    IN_STOCK = "in_stock"
    INSTALL_SCHEDULED = "install_scheduled"
    INSTALLED = "installed"
    SIGNED = "signed"
    VISITED = "visited"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return ORDER_STATE_LABELS[self]


ORDER_STATE_LABELS = {
    OrderState.CREATED: "待派测量",
    OrderState.MEASURE_SCHEDULED: "已预约测量",
    OrderState.MEASURED: "测量完成",
    OrderState.DESIGNED: "设计完成",
    OrderState.CONFIRMED: "已确认",
    OrderState.IN_STOCK: "已到货",
    OrderState.INSTALL_SCHEDULED: "已预约安装",
    OrderState.INSTALLED: "安装完成",
    OrderState.SIGNED: "客户已签字",
    OrderState.VISITED: "已回访",
    OrderState.CANCELLED: "已取消",
}


class TaskKind(StrEnum):
    MEASURE = "measure"
    INSTALL = "install"
    VISIT = "visit"

    @property
    def label(self) -> str:
        return {"measure": "测量", "install": "安装", "visit": "回访"}[self.value]


class TaskState(StrEnum):
    ASSIGNED = "assigned"  # waiting for the assignee to accept
    ACCEPTED = "accepted"
    DECLINED = "declined"
    DONE = "done"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return {
            "assigned": "待接单",
            "accepted": "已接单",
            "declined": "已拒单",
            "done": "已完成",
            "cancelled": "已取消",
        }[self.value]


OPEN_TASK_STATES = (TaskState.ASSIGNED, TaskState.ACCEPTED)
# A job that was not declined, cancelled or taken away: its assignee works (or worked) on the order.
LIVE_TASK_STATES = (TaskState.ASSIGNED, TaskState.ACCEPTED, TaskState.DONE)


class PieceState(StrEnum):
    """Where one production piece (one unit of an order line) is, from the factory to the wall."""

    QUEUED = "queued"
    IN_PRODUCTION = "in_production"
    FINISHED = "finished"
    SHIPPED = "shipped"
    IN_STOCK = "in_stock"
    INSTALLED = "installed"

    @property
    def label(self) -> str:
        return {
            "queued": "待生产",
            "in_production": "生产中",
            "finished": "已完工",
            "shipped": "已发货",
            "in_stock": "已到货",
            "installed": "已安装",
        }[self.value]


class LeadState(StrEnum):
    """Where a showroom booking (预约) is, from booked to its outcome (workflow/lead_lifecycle.py)."""

    NEW = "new"  # booked, waiting in the store's queue for a free consultant
    ASSIGNED = "assigned"  # with a consultant, not yet claimed (or paused)
    CLAIMED = "claimed"  # the consultant is serving the customer
    ARRIVED = "arrived"  # the customer is in the store
    PAUSED = "paused"  # 暂停服务: unclaimed again, still the consultant's, to be claimed again
    FOLLOW_UP = "follow_up"  # to be called back
    WON = "won"  # became an order
    NOT_WON = "not_won"
    NO_SHOW = "no_show"
    VOID = "void"

    @property
    def label(self) -> str:
        return LEAD_STATE_LABELS[self]


LEAD_STATE_LABELS = {
    LeadState.NEW: "排队待分配",
    LeadState.ASSIGNED: "待领单",
    LeadState.CLAIMED: "服务中",
    LeadState.ARRIVED: "已到店",
    LeadState.PAUSED: "已暂停",
    LeadState.FOLLOW_UP: "需要回访",
    LeadState.WON: "已成交",
    LeadState.NOT_WON: "到店未成交",
    LeadState.NO_SHOW: "未到店",
    LeadState.VOID: "作废",
}


class LeadSource(StrEnum):
    STAFF = "staff"  # the H5 form staff fill in
    PUBLIC = "public"  # the store's public booking page
    API = "api"
    CSV = "csv"

    @property
    def label(self) -> str:
        return {"staff": "门店登记", "public": "在线预约", "api": "接口", "csv": "批量导入"}[self.value]


class LeadEventKind(StrEnum):
    """What a lead's history records: its lifecycle's steps and its creation."""

    CREATED = "created"
    ASSIGNED = "assigned"
    CLAIMED = "claimed"
    REJECTED = "rejected"
    TRANSFERRED = "transferred"
    PAUSED = "paused"
    ARRIVED = "arrived"
    FOLLOW_UP = "follow_up"
    WON = "won"
    NOT_WON = "not_won"
    NO_SHOW = "no_show"
    VOIDED = "voided"
    REASSIGNED = "reassigned"
    RETURNED = "returned"  # the consultant left the company: back to the store's queue


class AttachmentCategory(StrEnum):
    PLUMBING_ELECTRICAL = "plumbing_electrical"
    WALLS_FLOORS = "walls_floors"
    WINDOWS = "windows"
    OTHER = "other"
    UNSORTED = "unsorted"  # a site photo whose category the measurer has not picked yet
    PAPER_ORDER = "paper_order"
    DRAWING = "drawing"
    DESIGN = "design"
    INSTALL = "install"
    SIGNATURE = "signature"
    # Service tickets (售后工单): what the customer or staff sent with the report, and the installer's
    # photos before and after the work.
    TICKET_REPORT = "ticket_report"
    TICKET_BEFORE = "ticket_before"
    TICKET_AFTER = "ticket_after"

    @property
    def label(self) -> str:
        return ATTACHMENT_LABELS[self]


ATTACHMENT_LABELS = {
    AttachmentCategory.PLUMBING_ELECTRICAL: "水电路",
    AttachmentCategory.WALLS_FLOORS: "墙地",
    AttachmentCategory.WINDOWS: "窗户",
    AttachmentCategory.OTHER: "其他",
    AttachmentCategory.UNSORTED: "未分类",
    AttachmentCategory.PAPER_ORDER: "纸质订单",
    AttachmentCategory.DRAWING: "正式图纸",
    AttachmentCategory.DESIGN: "设计图",
    AttachmentCategory.INSTALL: "安装照片",
    AttachmentCategory.SIGNATURE: "客户签字",
    AttachmentCategory.TICKET_REPORT: "报修照片",
    AttachmentCategory.TICKET_BEFORE: "维修前照片",
    AttachmentCategory.TICKET_AFTER: "维修后照片",
}

SITE_PHOTO_CATEGORIES = (
    AttachmentCategory.PLUMBING_ELECTRICAL,
    AttachmentCategory.WALLS_FLOORS,
    AttachmentCategory.WINDOWS,
    AttachmentCategory.OTHER,
)


OPEN_ORDER_STATES = (
    OrderState.CREATED,
    OrderState.MEASURE_SCHEDULED,
    OrderState.MEASURED,
    OrderState.DESIGNED,
    OrderState.CONFIRMED,
    OrderState.IN_STOCK,
    OrderState.INSTALL_SCHEDULED,
    OrderState.INSTALLED,
)


class ApprovalState(StrEnum):
    """An order's price review (审核): a discount beyond the threshold or a contract below the floor
    waits for the approver before the order may go to production."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"

    @property
    def label(self) -> str:
        return {"pending": "待审核", "approved": "已审核通过", "rejected": "已驳回"}[self.value]


class PaymentMethod(StrEnum):
    CASH = "cash"
    WECHAT = "wechat"
    ALIPAY = "alipay"
    CARD = "card"
    TRANSFER = "transfer"

    @property
    def label(self) -> str:
        return {"cash": "现金", "wechat": "微信", "alipay": "支付宝", "card": "刷卡", "transfer": "转账"}[self.value]


class PaymentKind(StrEnum):
    DEPOSIT = "deposit"
    FULL = "full"
    BALANCE = "balance"

    @property
    def label(self) -> str:
        return {"deposit": "定金", "full": "全款", "balance": "尾款"}[self.value]


class EventKind(StrEnum):
    """What an order's timeline records. The stored value is the event's kind; workflow/timeline.py
    says how each reads."""

    CREATED = "created"
    MEASURE_DISPATCHED = "measure_dispatched"
    MEASURE_ACCEPTED = "measure_accepted"
    MEASURE_DECLINED = "measure_declined"
    MEASURE_RESCHEDULED = "measure_rescheduled"
    MEASURE_REASSIGNED = "measure_reassigned"
    MEASURE_TRANSFERRED = "measure_transferred"
    MEASURE_RETURNED = "measure_returned"  # the measurer left the company: back to the dispatcher
    PHOTO_ADDED = "photo_added"
    PHOTO_CATEGORIZED = "photo_categorized"
    DRAWING_ADDED = "drawing_added"
    ITEMS_ADJUSTED = "items_adjusted"
    MEASURED = "measured"
    REMEASURE = "remeasure"
    DESIGN_ADDED = "design_added"
    DESIGNED = "designed"
    CONFIRMED = "confirmed"
    PAYMENT = "payment"
    GOODS_IN = "goods_in"
    IN_STOCK = "in_stock"
    INSTALL_DISPATCHED = "install_dispatched"
    INSTALL_ACCEPTED = "install_accepted"
    INSTALL_DECLINED = "install_declined"
    INSTALL_RESCHEDULED = "install_rescheduled"
    INSTALL_REASSIGNED = "install_reassigned"
    INSTALL_TRANSFERRED = "install_transferred"
    INSTALL_RETURNED = "install_returned"
    INSTALL_PHOTO_ADDED = "install_photo_added"
    INSTALLED = "installed"
    SIGNED = "signed"
    VISITED = "visited"
    CANCELLED = "cancelled"
    # Putting things right
    CANCEL_UNDONE = "cancel_undone"
    PAYMENT_VOIDED = "payment_voided"
    PAYMENT_CORRECTED = "payment_corrected"
    UPLOAD_REMOVED = "upload_removed"
    CUSTOMER_EDITED = "customer_edited"
    COPIED = "copied"
    # The price review (审核)
    APPROVAL_REQUESTED = "approval_requested"
    APPROVAL_APPROVED = "approval_approved"
    APPROVAL_REJECTED = "approval_rejected"
    APPROVAL_CLEARED = "approval_cleared"
    # Money
    PRICES_CHANGED = "prices_changed"
    # Finance (财务)
    PAYMENT_CONFIRMED = "payment_confirmed"
    INVOICE_ISSUED = "invoice_issued"
    INVOICE_VOIDED = "invoice_voided"
    RELEASED = "released"  # to production: numbers given
    PIECE_STARTED = "piece_started"
    PIECE_FINISHED = "piece_finished"
    PIECE_SHIPPED = "piece_shipped"
    # The customer's own page (workflow/customer_requests.py, workflow/customer_page.py)
    RESCHEDULE_REQUESTED = "reschedule_requested"
    RESCHEDULE_REQUEST_HANDLED = "reschedule_req_handled"
    CUSTOMER_LINK_REVOKED = "customer_link_revoked"
    # Reaching the customer (客户联系)
    CONTACT_ADDED = "contact_added"
    CUSTOMER_MESSAGED = "customer_messaged"
    # Service tickets (售后工单: 维修 / 投诉 / 保养), workflow/ticket_lifecycle.py
    TICKET_OPENED = "ticket_opened"
    TICKET_DISPATCHED = "ticket_dispatched"
    TICKET_ACCEPTED = "ticket_accepted"
    TICKET_DECLINED = "ticket_declined"
    TICKET_RESCHEDULED = "ticket_rescheduled"
    TICKET_REASSIGNED = "ticket_reassigned"
    TICKET_PHOTO_ADDED = "ticket_photo_added"
    TICKET_DONE = "ticket_done"
    TICKET_CONFIRMED = "ticket_confirmed"
    TICKET_CLOSED = "ticket_closed"
    TICKET_CANCELLED = "ticket_cancelled"
    TICKET_RETURNED = "ticket_returned"


class TicketKind(StrEnum):
    """A service ticket's kind (售后工单): each has its own deadline (config [tickets])."""

    REPAIR = "repair"
    COMPLAINT = "complaint"
    MAINTENANCE = "maintenance"

    @property
    def label(self) -> str:
        return {"repair": "维修", "complaint": "投诉", "maintenance": "保养"}[self.value]


class TicketSource(StrEnum):
    """Where a ticket came from."""

    CUSTOMER = "customer"  # the customer's own page
    CHAT = "chat"  # staff in chat: 报修 <订单号>
    STAFF_H5 = "staff_h5"  # staff on the order page
    LOW_SCORE = "low_score"  # a low visit score
    SCHEDULE = "schedule"  # the maintenance cycle came round

    @property
    def label(self) -> str:
        return {
            "customer": "客户报修",
            "chat": "员工报修",
            "staff_h5": "员工报修",
            "low_score": "回访低分",
            "schedule": "定期保养",
        }[self.value]


class TicketState(StrEnum):
    OPEN = "open"  # waiting for after-sales to book it
    DISPATCHED = "dispatched"  # given to an installer, not yet accepted
    ACCEPTED = "accepted"
    DONE = "done"  # the installer finished; waiting for the customer's confirmation
    CONFIRMED = "confirmed"  # the customer confirmed (or signed)
    CLOSED = "closed"  # settled without a visit (a complaint resolved by phone)
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return TICKET_STATE_LABELS[self]


TICKET_STATE_LABELS = {
    TicketState.OPEN: "待派单",
    TicketState.DISPATCHED: "已派单",
    TicketState.ACCEPTED: "师傅已接单",
    TicketState.DONE: "已处理，待客户确认",
    TicketState.CONFIRMED: "客户已确认",
    TicketState.CLOSED: "已办结",
    TicketState.CANCELLED: "已取消",
}
OPEN_TICKET_STATES = (TicketState.OPEN, TicketState.DISPATCHED, TicketState.ACCEPTED)


class MessageState(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


class OutboxKind(StrEnum):
    SEND = "send"  # message/send
    UPDATE_CARD = "update_card"  # message/update_template_card


class AuditAction(StrEnum):
    """What the audit log records (workflow/audit.py)."""

    SIGN_IN = "sign_in"
    ORDER_VIEW = "order_view"
    PHONE_REVEAL = "phone_reveal"
    ORDER_EXPORT = "order_export"
    STATS_EXPORT = "stats_export"
    AUDIT_EXPORT = "audit_export"
    CUSTOMER_EXPORT = "customer_export"
    CUSTOMER_ERASE = "customer_erase"
    RECEIVABLES_EXPORT = "receivables_export"
    LEAD_VIEW = "lead_view"  # a showroom booking's page (预约), its phone shown in full or masked
    NEWS_POST = "news_post"  # a news item (公告) posted to an audience
    NEWS_WITHDRAW = "news_withdraw"
    # Admin's changes (webviews/admin.py): who changed a member's roles or unit, a unit, the catalogue, prices.
    STAFF_EDIT = "staff_edit"
    UNIT_EDIT = "unit_edit"
    PRODUCT_EDIT = "product_edit"
    PRICES_EDIT = "prices_edit"
    ALERT_RULE_EDIT = "alert_rule_edit"
    WAREHOUSE_EDIT = "warehouse_edit"  # a warehouse added, moved, closed or opened again (管理后台)
    DEALER_ORDER_EXPORT = "dealer_order_export"  # a dealer order list as CSV or Excel

    @property
    def label(self) -> str:
        return AUDIT_LABELS[self]


AUDIT_LABELS = {
    AuditAction.SIGN_IN: "登录",
    AuditAction.ORDER_VIEW: "查看订单",
    AuditAction.PHONE_REVEAL: "查看完整号码",
    AuditAction.ORDER_EXPORT: "导出订单",
    AuditAction.STATS_EXPORT: "导出统计",
    AuditAction.AUDIT_EXPORT: "导出审计日志",
    AuditAction.CUSTOMER_EXPORT: "导出客户数据",
    AuditAction.CUSTOMER_ERASE: "删除客户信息",
    AuditAction.RECEIVABLES_EXPORT: "导出未收清订单",
    AuditAction.LEAD_VIEW: "查看预约",
    AuditAction.NEWS_POST: "发布公告",
    AuditAction.NEWS_WITHDRAW: "撤回公告",
    AuditAction.STAFF_EDIT: "修改人员",
    AuditAction.UNIT_EDIT: "修改组织",
    AuditAction.PRODUCT_EDIT: "修改产品",
    AuditAction.PRICES_EDIT: "修改价目表",
    AuditAction.ALERT_RULE_EDIT: "修改预警规则",
    AuditAction.WAREHOUSE_EDIT: "修改仓库",
    AuditAction.DEALER_ORDER_EXPORT: "导出经销商订货单",
}


class DayPart(StrEnum):
    """When in the day a customer would like a visit (the jobs themselves are booked by the day)."""

    MORNING = "morning"
    AFTERNOON = "afternoon"
    ANY = "any"

    @property
    def label(self) -> str:
        return {"morning": "上午", "afternoon": "下午", "any": "全天均可"}[self.value]


class CustomerRequestState(StrEnum):
    OPEN = "open"
    HANDLED = "handled"

    @property
    def label(self) -> str:
        return {"open": "待处理", "handled": "已处理"}[self.value]


class StockKind(StrEnum):
    """How a product is kept: a stocked product has stock levels; a product without a kind (null) is
    made to measure for its order and has none."""

    STANDARD = "standard"
    ACCESSORY = "accessory"
    MARKETING = "marketing"

    @property
    def label(self) -> str:
        return {"standard": "标准品", "accessory": "配件", "marketing": "物料"}[self.value]


class StockMoveKind(StrEnum):
    """What a stock move did (models/stock.py StockMove says how its quantity reads)."""

    RECEIVED = "received"
    RESERVED = "reserved"
    RELEASED = "released"
    ISSUED = "issued"
    RETURNED = "returned"
    COUNTED = "counted"

    @property
    def label(self) -> str:
        return {
            "received": "入库",
            "reserved": "预留",
            "released": "取消预留",
            "issued": "出库",
            "returned": "退货入库",
            "counted": "盘点",
        }[self.value]

"""The typed configuration every layer reads (as `runtime().config`): one frozen dataclass per section
of config.toml. Loading it (TOML, RELAY_<SECTION>_<KEY> overrides, the secret checks) is start-up work
and lives with the wiring, in `relay.config`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

REAL_WECOM_API = "https://qyapi.weixin.qq.com/cgi-bin/"
REAL_WECOM_OAUTH = "https://open.weixin.qq.com/connect/oauth2/authorize"


@dataclass(frozen=True)
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    # The address staff's phones reach Relay at; card links and OAuth redirects are built from it.
    public_url: str = "http://127.0.0.1:8080"
    # Origins allowed to show H5 pages in a frame (space-separated). Empty: none, as in WeCom, which
    # opens them full-screen. The demo allows its chat console.
    frame_ancestors: str = ""
    # Run the background work (inbox, outbox, jobs) in the web process too. Set false where `relay worker`
    # processes run beside `relay serve`: the web process then only answers, and wakes the workers.
    background: bool = True
    # The load balancers in front of `relay serve` (addresses or networks, e.g. "10.0.0.0/24"): from them,
    # the client's address is read from X-Forwarded-For (per-address limits, the audit log). Empty: none.
    forwarded_allow_ips: str = ""
    # Where `relay worker` answers /healthz and /metrics (its own inbox and outbox counts); 0: nowhere.
    worker_port: int = 0


@dataclass(frozen=True)
class DatabaseConfig:
    url: str = "sqlite://relay.sqlite3"


@dataclass(frozen=True)
class RedisConfig:
    # Empty: token cache and chat state live in this process (one process only).
    url: str = ""


@dataclass(frozen=True)
class WecomConfig:
    corp_id: str = ""
    agent_id: int = 0
    secret: str = ""
    token: str = ""
    encoding_aes_key: str = ""
    api_base: str = REAL_WECOM_API
    oauth_url: str = REAL_WECOM_OAUTH
    # Outbound retry policy: bounded attempts, exponential backoff capped at max_backoff seconds.
    max_attempts: int = 12
    max_backoff: float = 300.0
    request_timeout: float = 10.0


@dataclass(frozen=True)
class StorageConfig:
    # "local": files under `path` (the demo, one machine). "s3": in an S3-compatible bucket (Tencent COS,
    # MinIO, AWS S3), which every `relay serve` and `relay worker` of an install shares; downloads then go
    # by presigned link, valid `presign_seconds`, straight from the bucket.
    backend: str = "local"
    path: str = "var/files"
    max_image_bytes: int = 10 * 1024 * 1024
    max_file_bytes: int = 20 * 1024 * 1024
    bucket: str = ""
    endpoint_url: str = ""  # e.g. https://cos.ap-shanghai.myqcloud.com; empty for AWS S3 itself
    region: str = ""
    access_key: str = ""
    secret_key: str = ""
    prefix: str = ""  # keys start with it (e.g. "relay/"): one bucket for several installs
    presign_seconds: int = 300
    # "virtual" (bucket.host/key: COS and AWS) or "path" (host/bucket/key: MinIO and most self-hosted stores).
    addressing_style: str = "virtual"


@dataclass(frozen=True)
class SecurityConfig:
    secret_key: str = ""  # signs H5 session cookies and links
    pii_key: str = ""  # encrypts customer phones and keys their blind index
    session_hours: int = 12
    sign_link_days: int = 7  # how long a customer's signing link stays valid
    customer_link_days: int = 365  # how long a link to the customer's own order page stays valid
    # Requests a minute, counted across every process: OAuth codes tried from one address (each costs
    # a WeCom call), customer signing pages from one address, and JSON API calls by one member.
    # Days a handled chat message or a sent one keeps its content (then who, when and what kind only),
    # and days a customer's signature keeps the signer's IP address and browser.
    message_retention_days: int = 7
    signer_details_days: int = 30
    oauth_per_minute: int = 30
    sign_per_minute: int = 60
    api_per_minute: int = 300
    book_per_minute: int = 10  # the public booking page (/h5/book/...), posts from one address


@dataclass(frozen=True)
class AlertsConfig:
    enabled: bool = True
    # An after-sales score at or below this alerts the managers over the order.
    low_score: int = 2
    # The other rules (预警), each with its threshold; 0 turns a rule off.
    not_dispatched_hours: int = 24  # created, no measurer assigned
    measure_overdue_days: int = 1  # measuring date passed, not measured
    design_overdue_days: int = 3  # measured, no design
    install_overdue_days: int = 1  # install date passed, not installed
    in_stock_idle_days: int = 3  # goods in, no install booked
    unsigned_days: int = 2  # installed, the customer has not signed
    piece_late_days: int = 1  # a production piece past its expected completion date, not finished
    not_in_days: int = 30  # confirmed, not every piece in the warehouse
    balance_overdue_days: int = 30  # installed, money still outstanding (to finance)


@dataclass(frozen=True)
class MoneyConfig:
    # A discount off the list price beyond this share (0.15 = 15 %), on a line or the whole order, or a
    # contract below the floor (元; 0: none), waits for the approver before the order goes to production.
    discount_threshold: float = 0.15
    contract_floor: float = 0.0
    # Who approves, in order (审核): the manager of the order's store, then of its region. A level
    # without a manager is skipped; an order no manager covers goes to the top.
    approvers: str = "store,region"
    # Production starts only once finance has confirmed a payment (the deposit) on the order.
    production_needs_confirmed_payment: bool = True
    # The company's name on receipts (收据).
    company_name: str = "接力家居"


@dataclass(frozen=True)
class ProductionConfig:
    # Days from the factory's last finished piece to the install: shipping and goods-in. The order's
    # expected install date is its latest piece's expected completion plus these.
    transit_days: int = 3


@dataclass(frozen=True)
class LeadsConfig:
    # Showroom bookings (预约): consultants are ranked by conversion rate only once each of those free has at
    # least this many decided leads (won or not won); before that, fewest today then round-robin.
    min_history: int = 10


@dataclass(frozen=True)
class TicketsConfig:
    # Service tickets (售后工单): days from opening to the deadline, per kind; past it, the managers over
    # the order are alerted once per ticket.
    repair_days: int = 3
    complaint_days: int = 2
    maintenance_days: int = 14
    # Photos a customer may send with a report on their page.
    max_photos: int = 6
    # Photos the installer must send after the work before 完成 (0: none needed).
    after_photos: int = 1


@dataclass(frozen=True)
class ScheduleConfig:
    # Suggestion: how many tasks a worker can take in one day before they count as full.
    daily_task_limit: int = 6
    # The day before an appointment, at this hour (local time), the worker gets a reminder.
    reminder_hour: int = 18
    # A task not accepted after this many hours is nudged, and after the second number escalated.
    accept_nudge_hours: float = 2.0
    accept_escalate_hours: float = 4.0
    # The daily numbers reach every manager at this local time (HH:MM).
    daily_push_time: str = "20:00"
    # Each field worker with visits to customers that day gets the morning card of them at this local time.
    morning_push_time: str = "07:30"
    # How often the alert rules are checked (minutes).
    alert_scan_minutes: int = 15
    # A cancelled order can be put back where it was for this many minutes (撤销取消).
    cancel_undo_minutes: int = 10
    # How long a process's claim on an inbound message, outbound message or job lasts unless renewed
    # (seconds). A live process renews it every third of that while the work runs (models/lease.py), so
    # after a crash the work waits at most this long before another process takes it over.
    inbox_lease_seconds: float = 10.0
    outbox_lease_seconds: float = 10.0
    job_lease_seconds: float = 10.0
    # A message whose handling failed (WeCom refused a photo's download, say) is tried again after this
    # many seconds, then after twice as long each time; after the fifth try the member is told (seconds).
    inbox_retry_seconds: float = 2.0
    # The safety net under the wake-ups (seconds): how often the inbox and outbox loops, and the job
    # runner, look for work nobody told them about (a wake-up lost with Redis, another process's retry
    # coming due; a retry a sender put off itself goes out when its wait is over).
    poll_seconds: float = 0.5
    job_poll_seconds: float = 1.0
    # Plan the recurring jobs (alert checks, the daily push) and run due jobs in this process's
    # background. Off only where time is driven by hand (the tests run the scheduler themselves).
    automatic: bool = True


@dataclass(frozen=True)
class ContactConfig:
    # WeCom customer contact (客户联系): 「联系我」 per order, the welcome message, milestone mass-sends.
    # A customer receives at most this many enterprise mass-send messages per natural month (92135 named
    # 4; the page now says as many as the month has days, adjustable by the company): Relay never asks
    # for more than this many per customer and month (Asia/Shanghai).
    mass_send_per_month: int = 4
    # Of those, how many only the milestones that need the customer to act (install booked, please sign)
    # may use: the others stop while this many are left.
    reserved_for_key_milestones: int = 1


@dataclass(frozen=True)
class SmsConfig:
    # Texts to customers through an SMS provider; provider "" sends none. Only "tencent" (Tencent Cloud
    # SMS, SendSms 2021-01-11, TC3-HMAC-SHA256) is built in.
    provider: str = ""
    secret_id: str = ""
    secret_key: str = ""
    sdk_app_id: str = ""
    sign_name: str = ""
    region: str = "ap-guangzhou"
    endpoint: str = "https://sms.tencentcloudapi.com"
    request_timeout: float = 10.0
    max_attempts: int = 5  # for errors that say nothing was sent (rate limits, a refused connection)
    retry_seconds: float = 30.0  # the first wait before trying such a text again (doubling after)
    # Relay's template keys (milestone_install_booked, lead_booked, ...) -> the provider's approved template ids.
    templates: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DirectoryConfig:
    # Staff and org units from WeCom's directory (workflow/directory.py): on its change events and a full
    # sync every `sync_minutes` (0: events only). Off: staff come only from the admin pages and CSV files.
    enabled: bool = False
    sync_minutes: int = 60
    # The department Relay's tree starts at (1: the whole company).
    root_department: int = 1
    # WeCom tag name -> Relay role, e.g. {"测量师傅" = "measurer"}: members with the tag hold the role; a
    # sync takes it away when the tag goes. Roles not named here are the admin's alone.
    tag_roles: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class BackupConfig:
    # Where backups go (`relay backup`, and the worker's nightly one): a directory, each backup a timestamped
    # folder in it, or a bucket, "s3://bucket/prefix", each backup a key prefix (reached with [storage]'s
    # endpoint, region and keys). Empty: the worker takes none (`relay backup --to DIR` still works).
    path: str = ""
    keep: int = 14  # the newest this many stay; older ones go once a new one is complete
    hour: int = 2  # the nightly backup's local hour (0-23)


@dataclass(frozen=True)
class ApiConfig:
    # The integration API (/api/v1) and its webhooks.
    idempotency_hours: float = 24.0  # how long an Idempotency-Key's answer is kept for replay
    page_limit: int = 200  # the largest `limit` a list takes
    webhook_timeout: float = 10.0  # seconds a receiver has to answer
    webhook_max_attempts: int = 12  # then the delivery is failed (replayable from the admin page)
    webhook_max_backoff: float = 3600.0  # seconds; the waits double from 1 s up to this
    webhook_kept_days: int = 30  # finished deliveries are listed this long, then deleted by the nightly job


@dataclass(frozen=True)
class Config:
    server: ServerConfig = field(default_factory=ServerConfig)
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    redis: RedisConfig = field(default_factory=RedisConfig)
    wecom: WecomConfig = field(default_factory=WecomConfig)
    storage: StorageConfig = field(default_factory=StorageConfig)
    security: SecurityConfig = field(default_factory=SecurityConfig)
    alerts: AlertsConfig = field(default_factory=AlertsConfig)
    money: MoneyConfig = field(default_factory=MoneyConfig)
    production: ProductionConfig = field(default_factory=ProductionConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    leads: LeadsConfig = field(default_factory=LeadsConfig)
    contact: ContactConfig = field(default_factory=ContactConfig)
    sms: SmsConfig = field(default_factory=SmsConfig)
    tickets: TicketsConfig = field(default_factory=TicketsConfig)
    directory: DirectoryConfig = field(default_factory=DirectoryConfig)
    backup: BackupConfig = field(default_factory=BackupConfig)
    api: ApiConfig = field(default_factory=ApiConfig)
    demo: bool = False

    def replace(self, **sections: Any) -> Config:
        """A copy with some keys changed: replace(wecom={"api_base": ...})."""
        changes = {name: dataclasses.replace(getattr(self, name), **values) for name, values in sections.items()}
        return dataclasses.replace(self, **changes)

"""Typed configuration: config.toml plus RELAY_<SECTION>_<KEY> environment overrides.

Loaded once into frozen dataclasses. No secret has a default outside demo mode:
`load_config` refuses to start when one is missing.
"""

from __future__ import annotations

import base64
import dataclasses
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints

REAL_WECOM_API = "https://qyapi.weixin.qq.com/cgi-bin/"
REAL_WECOM_OAUTH = "https://open.weixin.qq.com/connect/oauth2/authorize"


class ConfigError(Exception):
    """The configuration cannot be used; the message says which key and why."""


@dataclass(frozen=True)
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    # The address staff's phones reach Relay at; card links and OAuth redirects are built from it.
    public_url: str = "http://127.0.0.1:8080"


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
    path: str = "var/files"
    max_image_bytes: int = 10 * 1024 * 1024
    max_file_bytes: int = 20 * 1024 * 1024


@dataclass(frozen=True)
class SecurityConfig:
    secret_key: str = ""  # signs H5 session cookies and links
    pii_key: str = ""  # encrypts customer phones and keys their blind index
    session_hours: int = 12
    sign_link_days: int = 7  # how long a customer's signing link stays valid


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
    # How often the alert rules are checked (minutes).
    alert_scan_minutes: int = 15
    # Plan the recurring jobs (alert checks, the daily push) and run due jobs in this process's
    # background. Off only where time is driven by hand (the tests run the scheduler themselves).
    automatic: bool = True


@dataclass(frozen=True)
class Config:
    server: ServerConfig = field(default_factory=ServerConfig)
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    redis: RedisConfig = field(default_factory=RedisConfig)
    wecom: WecomConfig = field(default_factory=WecomConfig)
    storage: StorageConfig = field(default_factory=StorageConfig)
    security: SecurityConfig = field(default_factory=SecurityConfig)
    alerts: AlertsConfig = field(default_factory=AlertsConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    demo: bool = False

    def replace(self, **sections: Any) -> Config:
        """A copy with some keys changed: replace(wecom={"api_base": ...})."""
        changes = {name: dataclasses.replace(getattr(self, name), **values) for name, values in sections.items()}
        return dataclasses.replace(self, **changes)


REQUIRED_SECRETS = (
    ("wecom", "corp_id"),
    ("wecom", "secret"),
    ("wecom", "token"),
    ("wecom", "encoding_aes_key"),
    ("security", "secret_key"),
    ("security", "pii_key"),
)


def _coerce(value: Any, kind: type, where: str) -> Any:
    if kind is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off", ""):
            return False
        raise ConfigError(f"{where}: expected true/false, got {value!r}")
    try:
        return kind(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: expected {kind.__name__}, got {value!r}") from exc


def _section(cls: type, raw: Mapping[str, Any], name: str, env: Mapping[str, str]) -> Any:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"[{name}] must be a table of keys, not a {type(raw).__name__}")
    hints = get_type_hints(cls)
    unknown = set(raw) - set(hints)
    if unknown:
        raise ConfigError(f"[{name}] has unknown keys: {', '.join(sorted(unknown))}")
    values: dict[str, Any] = {}
    for key, kind in hints.items():
        env_name = f"RELAY_{name.upper()}_{key.upper()}"
        if env_name in env:
            values[key] = _coerce(env[env_name], kind, env_name)
        elif key in raw:
            values[key] = _coerce(raw[key], kind, f"[{name}] {key}")
    return cls(**values)


def _is_aes_key(encoding_aes_key: str) -> bool:
    # 43 base64 characters that decode to the 32-byte AES key (91144); anything else fails every callback.
    try:
        return len(base64.b64decode(encoding_aes_key + "=", validate=True)) == 32
    except ValueError:
        return False


def load_config(
    path: str | Path | None = None,
    *,
    env: Mapping[str, str] | None = None,
    demo: bool = False,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> Config:
    """Read `path` (if it exists), apply environment overrides, then `overrides`, and check secrets."""
    env = os.environ if env is None else env
    raw: dict[str, Any] = {}
    if path is not None and Path(path).exists():
        with open(path, "rb") as fh:
            raw = tomllib.load(fh)
    sections = {f.name: f.type for f in dataclasses.fields(Config) if f.name != "demo"}
    unknown = set(raw) - set(sections)
    if unknown:
        raise ConfigError(f"unknown config sections: {', '.join(sorted(unknown))}")
    hints = get_type_hints(Config)
    built = {name: _section(hints[name], raw.get(name, {}), name, env) for name in sections}
    config = Config(**built, demo=demo)
    if overrides:
        config = config.replace(**overrides)
    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", config.schedule.daily_push_time):
        raise ConfigError("schedule.daily_push_time must be HH:MM, e.g. 20:00")
    if not demo:
        missing = [f"{s}.{k}" for s, k in REQUIRED_SECRETS if not getattr(getattr(config, s), k)]
        if missing:
            raise ConfigError(
                "missing secrets (set them in config.toml or as RELAY_<SECTION>_<KEY>): " + ", ".join(missing)
            )
        if len(config.wecom.encoding_aes_key) != 43 or not _is_aes_key(config.wecom.encoding_aes_key):
            raise ConfigError("wecom.encoding_aes_key must be the 43-character EncodingAESKey from WeCom")
    return config

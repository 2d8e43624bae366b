"""Loading the configuration: config.toml plus RELAY_<SECTION>_<KEY> environment overrides.

Loaded once into the frozen dataclasses of `infra.config`. No secret has a default outside demo mode:
`load_config` refuses to start when one is missing.
"""

from __future__ import annotations

import base64
import dataclasses
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, get_type_hints

from infra.config import Config
from models.enums import Role


class ConfigError(Exception):
    """The configuration cannot be used; the message says which key and why."""


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
    for key, example in (("daily_push_time", "20:00"), ("morning_push_time", "07:30")):
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", getattr(config.schedule, key)):
            raise ConfigError(f"schedule.{key} must be HH:MM, e.g. {example}")
    unknown_roles = sorted(set(config.directory.tag_roles.values()) - set(Role._value2member_map_))
    if unknown_roles:
        raise ConfigError(f"directory.tag_roles names unknown roles: {', '.join(unknown_roles)}")
    _check_storage(config)
    if not 0 <= config.backup.hour <= 23:
        raise ConfigError("backup.hour must be an hour of the day, 0-23")
    if not demo:
        missing = [f"{s}.{k}" for s, k in REQUIRED_SECRETS if not getattr(getattr(config, s), k)]
        if missing:
            raise ConfigError(
                "missing secrets (set them in config.toml or as RELAY_<SECTION>_<KEY>): " + ", ".join(missing)
            )
        if len(config.wecom.encoding_aes_key) != 43 or not _is_aes_key(config.wecom.encoding_aes_key):
            raise ConfigError("wecom.encoding_aes_key must be the 43-character EncodingAESKey from WeCom")
        _check_keys(config)
    return config


def _check_storage(config: Config) -> None:
    storage = config.storage
    if storage.backend not in ("local", "s3"):
        raise ConfigError(f'storage.backend must be "local" or "s3", not {storage.backend!r}')
    if storage.backend == "s3" and not storage.bucket:
        raise ConfigError("storage.bucket is needed when storage.backend is s3")
    if storage.addressing_style not in ("virtual", "path"):
        raise ConfigError('storage.addressing_style must be "virtual" or "path"')
    if not 1 <= storage.presign_seconds <= 7 * 24 * 3600:
        raise ConfigError("storage.presign_seconds must be between 1 and 604800 (S3's longest, 7 days)")


# The demo's keys are published with the code: they protect nothing, so nothing else may use them.
DEMO_SECURITY = {"secret_key": "relay-demo-session-key", "pii_key": "relay-demo-pii-key"}
MIN_KEY_LENGTH = 32
KEY_HINT = 'generate one with: python -c "import secrets; print(secrets.token_urlsafe(32))"'


def _check_keys(config: Config) -> None:
    """Outside the demo, the keys that sign sessions and encrypt customers' phones must be real ones."""
    for name in ("secret_key", "pii_key"):
        value = getattr(config.security, name)
        if value in DEMO_SECURITY.values():
            raise ConfigError(f"security.{name} is the demo's published key; {KEY_HINT}")
        if len(value.strip()) < MIN_KEY_LENGTH:
            raise ConfigError(f"security.{name} is too short (at least {MIN_KEY_LENGTH} characters); {KEY_HINT}")
    if config.security.secret_key == config.security.pii_key:
        raise ConfigError("security.secret_key and security.pii_key must differ")

"""load_config: config.toml, RELAY_<SECTION>_<KEY> overrides, and the refusals that keep a bad config from starting."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

import pytest

from infra.config import REAL_WECOM_API, Config
from relay.config import ConfigError, load_config

ROOT = Path(__file__).resolve().parent.parent
AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"

FULL = f"""
[server]
host = "0.0.0.0"
port = 9090
public_url = "https://relay.example.com"

[database]
url = "postgres://relay@db:5432/relay"

[redis]
url = "redis://cache:6379/0"

[wecom]
corp_id = "ww0123456789abcdef"
agent_id = 1000005
secret = "app-secret"
token = "callback-token"
encoding_aes_key = "{AES_KEY}"
max_attempts = 8
max_backoff = 120.5

[storage]
path = "/srv/relay/files"

[security]
secret_key = "session-key-for-the-tests-0123456789"
pii_key = "pii-key-for-the-tests-0123456789abc"

[alerts]
enabled = false

[schedule]
daily_task_limit = 4
"""

SECRET_ENV = {
    "RELAY_WECOM_CORP_ID": "ww0123456789abcdef",
    "RELAY_WECOM_SECRET": "app-secret",
    "RELAY_WECOM_TOKEN": "callback-token",
    "RELAY_WECOM_ENCODING_AES_KEY": AES_KEY,
    "RELAY_SECURITY_SECRET_KEY": "session-key-for-the-tests-0123456789",
    "RELAY_SECURITY_PII_KEY": "pii-key-for-the-tests-0123456789abc",
}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_toml_file_is_read_into_typed_sections(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, FULL), env={})
    assert config.server.host == "0.0.0.0"
    assert config.server.port == 9090
    assert config.server.public_url == "https://relay.example.com"
    assert config.database.url == "postgres://relay@db:5432/relay"
    assert config.redis.url == "redis://cache:6379/0"
    assert config.wecom.agent_id == 1000005
    assert config.wecom.max_attempts == 8
    assert config.wecom.max_backoff == 120.5
    assert config.wecom.api_base == REAL_WECOM_API  # not given: the real WeCom
    assert config.storage.path == "/srv/relay/files"
    assert config.alerts.enabled is False
    assert config.schedule.daily_task_limit == 4
    assert config.demo is False


def test_config_is_frozen(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, FULL), env={})
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.server.port = 1  # type: ignore[misc]


def test_environment_overrides_the_file_with_types(tmp_path: Path) -> None:
    env = {
        "RELAY_SERVER_PORT": "8181",
        "RELAY_DATABASE_URL": "sqlite://override.sqlite3",
        "RELAY_WECOM_AGENT_ID": "1000009",
        "RELAY_WECOM_MAX_BACKOFF": "2.5",
        "RELAY_WECOM_SECRET": "from-the-environment",
        "RELAY_ALERTS_ENABLED": "yes",
        "RELAY_REDIS_URL": "",
    }
    config = load_config(write(tmp_path, FULL), env=env)
    assert config.server.port == 8181
    assert config.database.url == "sqlite://override.sqlite3"
    assert config.wecom.agent_id == 1000009
    assert config.wecom.max_backoff == 2.5
    assert config.wecom.secret == "from-the-environment"
    assert config.alerts.enabled is True
    assert config.redis.url == ""  # an empty variable is a value: in-process store
    assert config.server.host == "0.0.0.0"  # untouched keys keep the file's value


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1", True), ("true", True), ("ON", True), ("0", False), ("False", False), ("off", False), ("no", False)],
)
def test_boolean_words_from_the_environment(text: str, expected: bool) -> None:
    config = load_config(None, env={**SECRET_ENV, "RELAY_ALERTS_ENABLED": text})
    assert config.alerts.enabled is expected


def test_environment_alone_is_enough() -> None:
    config = load_config(None, env=SECRET_ENV)
    assert config.wecom.corp_id == "ww0123456789abcdef"
    assert config.server.port == 8080


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("RELAY_SERVER_PORT", "eighty"),
        ("RELAY_WECOM_AGENT_ID", "10.5"),
        ("RELAY_WECOM_MAX_BACKOFF", "soon"),
        ("RELAY_ALERTS_ENABLED", "maybe"),
    ],
)
def test_environment_value_of_the_wrong_type_is_refused(name: str, value: str) -> None:
    with pytest.raises(ConfigError) as refused:
        load_config(None, env={**SECRET_ENV, name: value})
    assert name in str(refused.value)
    assert repr(value) in str(refused.value)


def test_file_value_of_the_wrong_type_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\[server\] port"):
        load_config(write(tmp_path, '[server]\nport = "eighty"\n'), env=SECRET_ENV)
    with pytest.raises(ConfigError, match=r"\[alerts\] enabled"):
        load_config(write(tmp_path, '[alerts]\nenabled = "sometimes"\n'), env=SECRET_ENV)


def test_unknown_section_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown config sections: wechat"):
        load_config(write(tmp_path, FULL + '\n[wechat]\ncorp_id = "x"\n'), env={})


def test_unknown_key_is_refused(tmp_path: Path) -> None:
    text = FULL.replace("port = 9090", "port = 9090\nprot = 9091")
    with pytest.raises(ConfigError, match=r"\[server\] has unknown keys: prot"):
        load_config(write(tmp_path, text), env={})


@pytest.mark.parametrize("text", ['database = "postgres://relay@db/relay"\n', "server = 8080\n"])
def test_a_key_where_a_section_belongs_is_refused_clearly(tmp_path: Path, text: str) -> None:
    section = text.split(" ")[0]
    with pytest.raises(ConfigError, match=rf"\[{section}\] must be a table") as refused:
        load_config(write(tmp_path, text), env=SECRET_ENV)
    assert "postgres" not in str(refused.value)  # a misplaced value may be a secret: not echoed


def test_malformed_toml_does_not_start(tmp_path: Path) -> None:
    with pytest.raises((ConfigError, tomllib.TOMLDecodeError)):
        load_config(write(tmp_path, "[server\nport = 1\n"), env=SECRET_ENV)


def test_missing_secrets_are_refused_and_named() -> None:
    with pytest.raises(ConfigError) as refused:
        load_config(None, env={})
    message = str(refused.value)
    for name in (
        "wecom.corp_id",
        "wecom.secret",
        "wecom.token",
        "wecom.encoding_aes_key",
        "security.secret_key",
        "security.pii_key",
    ):
        assert name in message
    assert "RELAY_<SECTION>_<KEY>" in message


@pytest.mark.parametrize("missing", sorted(SECRET_ENV))
def test_each_secret_is_required(missing: str) -> None:
    env = {k: v for k, v in SECRET_ENV.items() if k != missing}
    with pytest.raises(ConfigError) as refused:
        load_config(None, env=env)
    section, key = missing.removeprefix("RELAY_").lower().split("_", 1)
    assert f"{section}.{key}" in str(refused.value)


def test_an_empty_secret_counts_as_missing() -> None:
    with pytest.raises(ConfigError, match="security.pii_key"):
        load_config(None, env={**SECRET_ENV, "RELAY_SECURITY_PII_KEY": ""})


def test_demo_mode_starts_without_secrets() -> None:
    config = load_config(None, env={}, demo=True)
    assert config.demo is True
    assert config.wecom.secret == ""


def test_overrides_are_applied_after_the_environment() -> None:
    config = load_config(None, env={**SECRET_ENV, "RELAY_SERVER_PORT": "1"}, overrides={"server": {"port": 2}})
    assert config.server.port == 2


@pytest.mark.parametrize(
    "key",
    [
        AES_KEY[:-1],  # 42 characters
        AES_KEY + "A",  # 44
        AES_KEY + "=",  # the padding WeCom leaves off, added by hand
        "",
    ],
)
def test_encoding_aes_key_of_the_wrong_length_is_refused(key: str) -> None:
    with pytest.raises(ConfigError, match="encoding_aes_key"):
        load_config(None, env={**SECRET_ENV, "RELAY_WECOM_ENCODING_AES_KEY": key})


def test_encoding_aes_key_that_is_not_base64_is_refused() -> None:
    # 43 characters, but not WeCom's alphabet: it would decode to a short key and every callback would fail.
    key = "!" * 3 + AES_KEY[3:]
    assert len(key) == 43
    with pytest.raises(ConfigError, match="encoding_aes_key"):
        load_config(None, env={**SECRET_ENV, "RELAY_WECOM_ENCODING_AES_KEY": key})


def test_every_section_has_a_default() -> None:
    # Config() with no file is the demo's starting point: every key has a value or an empty secret.
    config = Config()
    assert config.database.url.startswith("sqlite://")
    assert config.redis.url == ""


# -- config.example.toml: the file operators copy ---------------------------------------------------

EXAMPLE = ROOT / "config.example.toml"
needs_example = pytest.mark.skipif(not EXAMPLE.exists(), reason="config.example.toml is not written yet")


@needs_example
def test_example_config_loads_with_secrets_from_the_environment() -> None:
    # How operators run it: the file as shipped, secrets from the environment.
    config = load_config(EXAMPLE, env=SECRET_ENV)
    assert config.server.port > 0


@needs_example
def test_example_config_names_every_section() -> None:
    raw = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    sections = {f.name for f in dataclasses.fields(Config) if f.name != "demo"}
    assert sections <= set(raw)


@needs_example
def test_example_config_holds_no_real_secret() -> None:
    raw = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    for section, key in (("wecom", "secret"), ("security", "secret_key"), ("security", "pii_key")):
        value = str(raw.get(section, {}).get(key, ""))
        assert value == "" or "change" in value.lower() or value.startswith("<"), f"{section}.{key} = {value!r}"


@pytest.mark.parametrize(
    ("key", "value", "why"),
    [
        ("RELAY_SECURITY_SECRET_KEY", "k", "too short"),
        ("RELAY_SECURITY_PII_KEY", " " * 40, "too short"),
        ("RELAY_SECURITY_SECRET_KEY", "relay-demo-session-key", "the demo's published key"),
        ("RELAY_SECURITY_PII_KEY", "relay-demo-pii-key", "the demo's published key"),
        ("RELAY_SECURITY_PII_KEY", SECRET_ENV["RELAY_SECURITY_SECRET_KEY"], "must differ"),
    ],
)
def test_weak_keys_are_refused_outside_the_demo(key: str, value: str, why: str) -> None:
    with pytest.raises(ConfigError, match=why):
        load_config(None, env={**SECRET_ENV, key: value})


@pytest.mark.parametrize(
    ("env", "why"),
    [
        ({"RELAY_STORAGE_BACKEND": "ftp"}, 'storage.backend must be "local" or "s3"'),
        ({"RELAY_STORAGE_BACKEND": "s3"}, "storage.bucket is needed"),
        ({"RELAY_STORAGE_ADDRESSING_STYLE": "dns"}, "storage.addressing_style"),
        ({"RELAY_STORAGE_PRESIGN_SECONDS": "0"}, "storage.presign_seconds"),
    ],
)
def test_a_storage_that_cannot_work_is_refused(env: dict[str, str], why: str) -> None:
    with pytest.raises(ConfigError, match=why):
        load_config(None, env=env, demo=True)


def test_the_bucket_is_set_from_the_environment() -> None:
    env = {
        "RELAY_STORAGE_BACKEND": "s3",
        "RELAY_STORAGE_BUCKET": "relay-files-1250000000",
        "RELAY_STORAGE_ENDPOINT_URL": "https://cos.ap-shanghai.myqcloud.com",
        "RELAY_STORAGE_SECRET_KEY": "from-the-environment",
        "RELAY_STORAGE_PRESIGN_SECONDS": "600",
    }
    storage = load_config(None, env=env, demo=True).storage
    assert (storage.backend, storage.bucket, storage.secret_key, storage.presign_seconds) == (
        "s3",
        "relay-files-1250000000",
        "from-the-environment",
        600,
    )

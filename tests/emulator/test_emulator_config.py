"""The demo configuration loads and holds a usable key."""

from __future__ import annotations

from pathlib import Path

from wechatpy.enterprise.crypto import WeChatCrypto

from emulator import EmulatorUser, load_config

EXAMPLE = Path(__file__).resolve().parents[2] / "emulator" / "example.toml"


def test_example_config_loads() -> None:
    config = load_config(EXAMPLE)
    assert config.users[0] == EmulatorUser("zhangsan", "张三", [1], "销售 / 测量派单")
    assert config.callback_timeout == 5.0 and config.callback_retries == 3 and config.token_ttl == 7200
    WeChatCrypto(config.token, config.encoding_aes_key, config.corp_id)  # a 43-character key that decodes


def test_user_department_defaults_to_root() -> None:
    assert EmulatorUser("a", "甲").department == [1]

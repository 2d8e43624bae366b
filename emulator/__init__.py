"""A local WeCom (企业微信) that Relay talks to instead of the real servers, in demos and tests."""

from emulator.app import create_app
from emulator.callback import CallbackResult
from emulator.chat import CardButton, CardView, ChatEntry
from emulator.config import EmulatorConfig, EmulatorDepartment, EmulatorTag, EmulatorUser, load_config
from emulator.faults import FaultKind
from emulator.keys import EMULATOR_STATE
from emulator.state import CallbackRecord, ClickError, EmulatorState

__all__ = [
    "EMULATOR_STATE",
    "CallbackRecord",
    "CallbackResult",
    "CardButton",
    "CardView",
    "ChatEntry",
    "ClickError",
    "EmulatorConfig",
    "EmulatorDepartment",
    "EmulatorState",
    "EmulatorTag",
    "EmulatorUser",
    "FaultKind",
    "create_app",
    "load_config",
]

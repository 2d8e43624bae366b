"""The app key under which create_app keeps the state."""

from __future__ import annotations

from aiohttp import web

from emulator.state import EmulatorState

EMULATOR_STATE = web.AppKey("emulator_state", EmulatorState)


def state_of(request: web.Request) -> EmulatorState:
    return request.app[EMULATOR_STATE]

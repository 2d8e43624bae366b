"""Fixtures: the emulator on a test server, and a scripted stand-in for Relay's callback endpoint."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer

from emulator import EMULATOR_STATE, create_app
from tests.emulator.support import Emu, Receiver, make_config


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    rec = Receiver()
    server = TestServer(rec.app())
    await server.start_server()
    rec.url = str(server.make_url("/wecom/callback"))
    yield rec
    await server.close()


@pytest.fixture
async def emu(receiver: Receiver) -> AsyncIterator[Emu]:
    app = create_app(make_config(receiver.url))
    client = TestClient(TestServer(app))
    await client.start_server()
    yield Emu(client, app[EMULATOR_STATE])
    await client.close()

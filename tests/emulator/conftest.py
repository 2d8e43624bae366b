"""Fixtures: the emulator on a test server, and a scripted stand-in for Relay's callback endpoint."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

# The venv's editable install was made before emulator/__init__.py existed and maps `emulator`
# as a namespace package; the repository root first on sys.path makes it the real package.
ROOT = str(Path(__file__).resolve().parents[2])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from aiohttp.test_utils import TestClient, TestServer  # noqa: E402

from emulator import EMULATOR_STATE, create_app  # noqa: E402
from tests.emulator.support import Emu, Receiver, make_config  # noqa: E402


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

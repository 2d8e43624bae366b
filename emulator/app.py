"""create_app: the emulated WeCom as one aiohttp application."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from emulator import api, console, oauth
from emulator.api import Handler
from emulator.config import EmulatorConfig
from emulator.keys import EMULATOR_STATE, state_of
from emulator.state import EmulatorState

# Above the 20 MB file limit, so a too-large upload meets WeCom's 45001 and not aiohttp's 413.
CLIENT_MAX_SIZE = 32 * 1024 * 1024


@web.middleware
async def learn_base_url(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Without public_url configured, the first request tells where the emulator is reached."""
    state = state_of(request)
    if not state.base_url:
        state.base_url = str(request.url.origin())
    return await handler(request)


async def _close_state(app: web.Application) -> AsyncIterator[None]:
    yield
    await app[EMULATOR_STATE].close()


def create_app(config: EmulatorConfig) -> web.Application:
    app = web.Application(middlewares=[learn_base_url, api.cgi_middleware], client_max_size=CLIENT_MAX_SIZE)
    app[EMULATOR_STATE] = EmulatorState(config)
    app.cleanup_ctx.append(_close_state)
    app.cleanup_ctx.append(console.closing_ctx)
    app.on_shutdown.append(console.on_shutdown)
    app.add_routes(api.routes)
    app.add_routes(oauth.routes)
    app.add_routes(console.routes)
    app.router.add_static("/static/", console.STATIC_DIR, name="static")
    return app

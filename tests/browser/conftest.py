"""Real headless Chromium for the H5 pages and the emulator console.

One browser for the session; every test gets a fresh context (no cookies carried over) sized like a phone,
and `new_phone()` opens more: the customer's own touch-screen phone, with nothing of the staff's browser.
A failed test leaves a screenshot of its page in tests/browser/artifacts/.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from pathlib import Path
from typing import Protocol

import pytest
from playwright.async_api import Browser, BrowserContext, Page, ViewportSize, async_playwright, expect

ARTIFACTS = Path(__file__).parent / "artifacts"
SHOTS = os.environ.get("RELAY_TEST_SHOTS", "") == "1"
PHONE: ViewportSize = {"width": 390, "height": 844}
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Cards go through Relay's inbox and outbox and reach the console by polling: give auto-waiting room.
expect.set_options(timeout=15_000)


@pytest.fixture(scope="session")
async def browser(chromium_path: str) -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield browser
        await browser.close()


@pytest.fixture
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    ctx = await browser.new_context(viewport=PHONE, locale="zh-CN", timezone_id="Asia/Shanghai")
    ctx.set_default_timeout(15_000)
    yield ctx
    await ctx.close()


@pytest.fixture
async def page(context: BrowserContext, request: pytest.FixtureRequest) -> AsyncIterator[Page]:
    page = await context.new_page()
    yield page
    if failed(request) and not page.is_closed():
        await page.screenshot(path=artifact(request.node.name, "failed"), full_page=True)


Shot = Callable[[str], Awaitable[Path]]
ShotOf = Callable[[Page, str], Awaitable[Path]]


@pytest.fixture
def shot_of(request: pytest.FixtureRequest) -> ShotOf:
    """`await shot_of(page, "label")` saves the whole page to tests/browser/artifacts/<test>-<label>.png
    when RELAY_TEST_SHOTS=1 (to look at the pages a run went through); a failed test's page is saved always.
    Off by default: a full-page shot is Chromium's costliest step, and no assertion reads it."""

    async def take(page: Page, label: str) -> Path:
        path = artifact(request.node.name, label)
        if not SHOTS:
            return path
        await page.evaluate("window.scrollTo(0, 0)")  # a full-page shot of a scrolled page draws sticky bars mid-page
        await page.screenshot(path=path, full_page=True)
        return path

    return take


@pytest.fixture
def shot(page: Page, shot_of: ShotOf) -> Shot:
    """`await shot("label")`: `shot_of` the test's `page`."""

    async def take(label: str) -> Path:
        return await shot_of(page, label)

    return take


class NewPhone(Protocol):
    async def __call__(self, *, width: int = ..., height: int = ...) -> Page: ...


@pytest.fixture
async def new_phone(browser: Browser, request: pytest.FixtureRequest) -> AsyncIterator[NewPhone]:
    """`await new_phone()`: a page in its own touch-screen phone context, the way a customer's phone
    opens a forwarded link: no cookies, no WeCom, a high-density screen."""
    contexts: list[BrowserContext] = []

    async def open_phone(*, width: int = PHONE["width"], height: int = PHONE["height"]) -> Page:
        ctx = await browser.new_context(
            viewport={"width": width, "height": height},
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
        )
        ctx.set_default_timeout(15_000)
        contexts.append(ctx)
        return await ctx.new_page()

    yield open_phone
    for i, ctx in enumerate(contexts):
        if failed(request):
            for page in ctx.pages:
                await page.screenshot(path=artifact(request.node.name, f"failed-phone{i}"), full_page=True)
        await ctx.close()


def failed(request: pytest.FixtureRequest) -> bool:
    report = getattr(request.node, "rep_call", None)
    return report is not None and bool(report.failed)


def artifact(test_name: str, label: str) -> Path:
    """tests/browser/artifacts/<test>-<label>.png (the backend in the test id keeps runs apart)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / f"{re.sub(r'[^0-9A-Za-z_.-]+', '-', test_name).strip('-')}-{label}.png"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call":
        item.rep_call = report  # type: ignore[attr-defined]
    return report

"""`relay demo` from a clean data folder: the console comes up with seeded staff, orders and cards."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

import aiohttp
from aiohttp.test_utils import unused_port


async def wait_for(url: str, *, within: float = 180.0) -> None:
    """Until the URL answers 200: a demo starts in seconds, but a busy machine may take a minute."""
    deadline = time.monotonic() + within
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            try:
                async with http.get(url) as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError(f"{url} never answered")


async def test_demo_starts_with_seeded_chats(tmp_path: Path) -> None:
    port, emu_port = unused_port(), unused_port()
    relay = Path(sys.executable).parent / "relay"
    proc = await asyncio.create_subprocess_exec(
        str(relay),
        "demo",
        "--port",
        str(port),
        "--emulator-port",
        str(emu_port),
        "--data",
        str(tmp_path / "demo"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        await wait_for(f"http://127.0.0.1:{port}/healthz")
        await wait_for(f"http://127.0.0.1:{emu_port}/")
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{emu_port}/") as resp:
                assert "企业微信模拟器" in await resp.text()
            async with http.get(f"http://127.0.0.1:{emu_port}/emulator/api/users") as resp:
                users = {u["userid"] for u in (await resp.json())["users"]}
            assert {"zhangxiaoshou", "zhaopaidan", "sunceliang", "zhengsheji", "wangzong"} <= users
            titles: list[str] = []
            for _ in range(100):  # the seeded orders' cards are delivered by the outbox after start
                async with http.get(
                    f"http://127.0.0.1:{emu_port}/emulator/api/chat", params={"userid": "zhaopaidan"}
                ) as resp:
                    entries = (await resp.json())["entries"]
                titles = [
                    e["payload"]["template_card"]["main_title"]["title"]
                    for e in entries
                    if e["msgtype"] == "template_card"
                ]
                if titles.count("新订单待派测量") >= 9 and titles.count("已到货，待派安装") >= 2:
                    break
                await asyncio.sleep(0.1)
            # Nine seeded orders, two of them already past goods-in (a third has only part of its pieces in).
            assert titles.count("新订单待派测量") == 9
            assert titles.count("已到货，待派安装") == 2
            # The seeded data trips the alerts: an order not dispatched for 30 hours, one unsigned for 3 days.
            for _ in range(100):
                async with http.get(
                    f"http://127.0.0.1:{emu_port}/emulator/api/chat", params={"userid": "wangzong"}
                ) as resp:
                    entries = (await resp.json())["entries"]
                alerts = {
                    e["payload"]["template_card"]["main_title"]["title"]
                    for e in entries
                    if e["msgtype"] == "template_card"
                }
                if {"预警：超时未派测量", "预警：安装后未签字"} <= alerts:
                    break
                await asyncio.sleep(0.1)
            assert {"预警：超时未派测量", "预警：安装后未签字"} <= alerts
            # A dealer's order took the hinges below their safety level: purchasing has the card.
            stock_cards: list[str] = []
            for _ in range(100):
                async with http.get(
                    f"http://127.0.0.1:{emu_port}/emulator/api/chat", params={"userid": "caicaigou"}
                ) as resp:
                    entries = (await resp.json())["entries"]
                stock_cards = [
                    e["payload"]["template_card"]["horizontal_content_list"][0]["value"]
                    for e in entries
                    if e["msgtype"] == "template_card"
                    and e["payload"]["template_card"]["main_title"]["title"] == "库存低于安全库存"
                ]
                if stock_cards:
                    break
                await asyncio.sleep(0.1)
            assert stock_cards == ["配件 五金 HJ-01（淋浴房不锈钢合页）"]
        assert proc.stdout is not None
        banner = (await proc.stdout.read(4096)).decode()
        assert f"http://127.0.0.1:{emu_port}/" in banner
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except TimeoutError:
            proc.kill()
            await proc.wait()

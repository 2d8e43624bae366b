"""A burst of photo uploads to an S3-compatible bucket: aiobotocore (Relay's choice) against boto3 called
through asyncio.to_thread, the other way to use S3 from asyncio.

moto's S3 server runs as its own process; a relay in front of it, also its own process, adds `--latency`
milliseconds to each request (a bucket in the same region answers in a few ms; one across the internet, in
tens). While the burst runs, a probe measures what the rest of the process would feel: how long a trivial
`asyncio.to_thread` call waits (Relay reads files and decodes images in those threads) and how late the
event loop wakes a 10 ms timer.

    .venv/bin/python bench/storage_bench.py [--photos 64] [--latency 0 50]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import boto3
from aiobotocore.session import get_session
from aiohttp import ClientSession, web
from botocore.config import Config as BotoConfig

KEYS = {"aws_access_key_id": "bench", "aws_secret_access_key": "bench-secret", "region_name": "us-east-1"}
PHOTO = os.urandom(180_000)  # a site photo's size (1280×960 JPEG ≈ 180 KB)
CHECKSUMS = {"request_checksum_calculation": "when_required", "response_checksum_validation": "when_required"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def delaying_proxy(port: int, upstream: str, latency_ms: float) -> None:
    """Forward every request to `upstream` after `latency_ms` (run in a child process)."""

    async def forward(request: web.Request) -> web.Response:
        await asyncio.sleep(latency_ms / 1000)
        async with ClientSession(auto_decompress=False) as http:
            async with http.request(
                request.method, upstream + request.path_qs, headers=request.headers, data=await request.read()
            ) as resp:
                headers = {
                    k: v for k, v in resp.headers.items() if k.lower() not in ("transfer-encoding", "connection")
                }
                return web.Response(status=resp.status, body=await resp.read(), headers=headers)

    app = web.Application(client_max_size=64 << 20)
    app.router.add_route("*", "/{tail:.*}", forward)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


async def probe(done: asyncio.Event) -> tuple[float, float]:
    """The longest wait for a to_thread call and the longest lateness of a 10 ms timer, in ms."""
    thread_wait = timer_late = 0.0
    while not done.is_set():
        start = time.perf_counter()
        await asyncio.to_thread(lambda: None)
        thread_wait = max(thread_wait, time.perf_counter() - start)
        start = time.perf_counter()
        await asyncio.sleep(0.01)
        timer_late = max(timer_late, time.perf_counter() - start - 0.01)
    return thread_wait * 1000, timer_late * 1000


async def measured(burst: Callable[[], Awaitable[None]]) -> dict[str, float]:
    done = asyncio.Event()
    watching = asyncio.create_task(probe(done))
    start = time.perf_counter()
    await burst()
    wall = time.perf_counter() - start
    done.set()
    thread_wait, timer_late = await watching
    return {"wall_s": wall, "thread_wait_ms": thread_wait, "timer_late_ms": timer_late}


async def with_aiobotocore(endpoint: str, bucket: str, photos: int) -> dict[str, float]:
    config = BotoConfig(s3={"addressing_style": "path"}, **CHECKSUMS)
    async with get_session().create_client("s3", endpoint_url=endpoint, config=config, **KEYS) as s3:

        async def burst() -> None:
            await asyncio.gather(*(s3.put_object(Bucket=bucket, Key=f"aio/{i}", Body=PHOTO) for i in range(photos)))

        return await measured(burst)


async def with_boto3_threads(endpoint: str, bucket: str, photos: int) -> dict[str, float]:
    config = BotoConfig(s3={"addressing_style": "path"}, **CHECKSUMS)
    s3: Any = boto3.client("s3", endpoint_url=endpoint, config=config, **KEYS)

    async def burst() -> None:
        await asyncio.gather(
            *(asyncio.to_thread(s3.put_object, Bucket=bucket, Key=f"thread/{i}", Body=PHOTO) for i in range(photos))
        )

    return await measured(burst)


async def presign_cost(endpoint: str, bucket: str, count: int = 2000) -> float:
    """CPU per presigned link (each H5 file request from a bucket makes one), in µs."""
    async with get_session().create_client("s3", endpoint_url=endpoint, **KEYS) as s3:
        start = time.perf_counter()
        for i in range(count):
            await s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": f"aio/{i}"}, ExpiresIn=300)
        return (time.perf_counter() - start) / count * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--photos", type=int, default=64)
    parser.add_argument("--latency", type=float, nargs="+", default=[0.0, 50.0])
    parser.add_argument("--proxy", nargs=3, metavar=("PORT", "UPSTREAM", "LATENCY"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.proxy:
        delaying_proxy(int(args.proxy[0]), args.proxy[1], float(args.proxy[2]))
        return
    moto_port = free_port()
    moto = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-p", str(moto_port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    children = [moto]
    try:
        upstream = f"http://127.0.0.1:{moto_port}"
        for _ in range(100):
            try:
                boto3.client("s3", endpoint_url=upstream, **KEYS).create_bucket(Bucket="bench")
                break
            except Exception:
                time.sleep(0.1)
        print(f"{args.photos} photos of {len(PHOTO) // 1000} KB at once; os.cpu_count() = {os.cpu_count()}")
        print("| latency | client | burst (s) | longest to_thread wait (ms) | longest timer lateness (ms) |")
        print("|---|---|---|---|---|")
        for latency in args.latency:
            port = free_port()
            proxy = subprocess.Popen([sys.executable, __file__, "--proxy", str(port), upstream, str(latency)])
            children.append(proxy)
            time.sleep(1.5)
            endpoint = f"http://127.0.0.1:{port}"
            for name, run in (("aiobotocore", with_aiobotocore), ("boto3 + to_thread", with_boto3_threads)):
                figures = asyncio.run(run(endpoint, "bench", args.photos))
                print(
                    f"| {latency:.0f} ms | {name} | {figures['wall_s']:.2f} | {figures['thread_wait_ms']:.0f} "
                    f"| {figures['timer_late_ms']:.0f} |"
                )
        print(f"\npresigned link: {asyncio.run(presign_cost(upstream, 'bench')):.0f} µs of CPU each")
    finally:
        for child in children:
            child.terminate()
            child.wait()


if __name__ == "__main__":
    main()

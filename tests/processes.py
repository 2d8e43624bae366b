"""Relay's commands (`relay serve`, `relay worker`, `relay backup`, …) as processes of their own for the tests,
forked from an interpreter that has imported Relay already.

`python -m relay.cli …` spends 0.5 to 1.1 s of CPU importing Relay before it does anything, and the tests
start about sixty of them: backups and restores, serves killed and started again, two machines. Each test
process keeps one forkserver (multiprocessing's), which imports Relay once; a command forked from it costs
about 30 ms. The child is still a process of its own, as a deployment that preloads its app (gunicorn's
`preload_app`) runs one: its own memory, sockets, database connections, environment, working directory, exit
code and signals, and it runs `relay.cli.main` with the command's arguments. What it does not do is start an
interpreter and import Relay: the console script as a person runs it (`.venv/bin/relay`) is started as a plain
executable by tests/test_demo.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import signal
import sys
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# What the forkserver imports before it forks: the commands and what they import on first use.
PRELOAD = ["relay.cli", "relay.app", "relay.db", "workflow.backup", "matplotlib.figure"]
_FORKS = multiprocessing.get_context("forkserver")
_FORKS.set_forkserver_preload(PRELOAD)


def child_env(**extra: str) -> dict[str, str]:
    """The tests' environment without their own RELAY_* settings: a child's config is its file."""
    return {**{k: v for k, v in os.environ.items() if not k.startswith("RELAY_")}, **extra}


def _run(args: list[str], env: dict[str, str], log: str) -> None:
    """In the child: its output to the log, its environment and directory set, then the command."""
    out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(out, 1)
    os.dup2(out, 2)
    os.close(out)
    os.environ.clear()
    os.environ.update(env)
    os.chdir(ROOT)
    import tempfile

    tempfile.tempdir = None  # read TMPDIR again: the child's own, not the forkserver's
    sys.argv = ["relay", *args]
    from relay.cli import main

    sys.exit(main(args))


class RelayCommand:
    """`relay --config CONFIG ARGS…` in a process of its own, what it prints appended to `log`."""

    def __init__(self, config: Path, *args: str, log: Path, env: Mapping[str, str] | None = None) -> None:
        self.args = ["--config", str(config), *args]
        self.log = log
        self.env = dict(env) if env is not None else child_env()
        self._process: multiprocessing.process.BaseProcess | None = None

    async def start(self) -> None:
        self.log.touch()  # there to be read from now on, as a file the parent opened for the child's output would be
        # Daemonic: one a test leaves running ends with the test process.
        self._process = _FORKS.Process(target=_run, args=(self.args, self.env, str(self.log)), daemon=True)
        # Off the event loop: start() waits for the fork, and the first one for the forkserver's imports (about
        # a second), while the test's own servers (the emulator, a Relay in the test process) keep answering.
        await asyncio.to_thread(self._process.start)

    @property
    def pid(self) -> int:
        assert self._process is not None and self._process.pid is not None
        return self._process.pid

    @property
    def returncode(self) -> int | None:
        """The exit code once it has ended (minus the signal's number if a signal ended it), else None."""
        assert self._process is not None
        return self._process.exitcode

    def send_signal(self, sig: int) -> None:
        if self.returncode is None:
            with contextlib.suppress(ProcessLookupError):  # it has just ended
                os.kill(self.pid, sig)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    async def wait(self) -> int:
        """Its exit code, once it has ended: woken by the process's end, not by polling. One waiter at a time
        (the loop keeps one reader per file descriptor): the tests wait, then kill and wait again."""
        assert self._process is not None
        if self._process.exitcode is None:
            loop = asyncio.get_running_loop()
            ended = asyncio.Event()
            loop.add_reader(self._process.sentinel, ended.set)  # readable once the process has ended
            try:
                await ended.wait()
            finally:
                loop.remove_reader(self._process.sentinel)
            self._process.join()
        code = self._process.exitcode
        assert code is not None
        return code

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""


async def relay_run(config: Path, *args: str, log: Path) -> tuple[int, str]:
    """Run a command to its end: its exit code and what it printed."""
    start = log.stat().st_size if log.exists() else 0
    command = RelayCommand(config, *args, log=log)
    await command.start()
    code = await command.wait()
    return code, log.read_bytes()[start:].decode(errors="replace")

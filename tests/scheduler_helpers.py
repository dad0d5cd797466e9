"""Helpers for scheduler tests: the scheduler service in a process of its own."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

_STARTED: list[subprocess.Popen[bytes]] = []


def until(what: str, check: Callable[[], bool], timeout: float = 120.0) -> None:
    """Poll the database until `check` holds (the scheduler works in another process)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        time.sleep(0.25)


def kill_leftovers() -> None:
    """Kill what a failed test left running (call from an autouse fixture)."""
    while _STARTED:
        process = _STARTED.pop()
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


class SchedulerProcess:
    """`quotebot scheduler start` in its own process group, its output in a log file."""

    def __init__(self, config: Path, env: dict[str, str], log: Path) -> None:
        self.log = log
        self._out = log.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "quotebot",
                "-v",
                "scheduler",
                "start",
                "--engagements",
                str(config),
            ],
            env=env,
            start_new_session=True,
            stdout=self._out,
            stderr=subprocess.STDOUT,
        )
        _STARTED.append(self.process)
        self.started = datetime.now(UTC)

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)  # it and its browsers, like a crash
        self.process.wait()
        self._out.close()

    def terminate(self) -> int:
        self.process.send_signal(signal.SIGTERM)  # to the service only, as systemd or docker do
        code = self.process.wait(timeout=120)
        self._out.close()
        return code

"""Commands start at once: `--help` and the everyday listings import only what they use.

Each command is run as a person runs it, in a fresh interpreter under `python -X importtime`,
and the modules it imported are read from what the interpreter reports.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import click
import pytest

from quotebot._cli import COMMANDS, short_help

HEAVY = {
    "playwright",
    "pandas",
    "pyarrow",
    "numpy",
    "procrastinate",
    "uvicorn",
    "fastapi",
    "starlette",
    "web",
    "bots",
}
"""What no `--help` and no listing needs: the browser driver, the dataframes, the fleet's
task queue, the web server and app."""

AT_ONCE = HEAVY | {"pydantic", "pydantic_settings", "loguru", "sqlalchemy", "schemas", "store"}
"""What the group's `--help` and `quotebot audit --help` do without: they answer before
settings are read (a must: they take the time of importing click alone)."""


def imported(*args: str, home: Path) -> set[str]:
    """The top-level packages `quotebot ARGS` imported (it must succeed)."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "quotebot", *args],
        env={"QUOTEBOT_HOME": str(home), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    lines = [line for line in result.stderr.splitlines() if line.startswith("import time:")]
    assert len(lines) > 20, result.stderr[-2000:]  # the interpreter did report its imports
    return {line.rsplit("|", 1)[1].strip().split(".")[0] for line in lines}


@pytest.mark.parametrize("args", [["--help"], ["audit", "--help"]], ids=" ".join)
def test_the_group_and_audit_help_import_only_click(args: list[str], tmp_path: Path) -> None:
    modules = imported(*args, home=tmp_path)
    assert "click" in modules
    assert not modules & AT_ONCE, sorted(modules & AT_ONCE)


@pytest.mark.parametrize(
    "args",
    [
        *([name, "--help"] for name in COMMANDS),
        ["runs", "list", "--help"],
        ["users", "add", "--help"],
        ["rules", "diff", "--help"],
        ["schedule", "list", "--help"],
        ["runs", "list"],
        ["users", "list"],
    ],
    ids=" ".join,
)
def test_help_and_listings_import_no_heavy_module(args: list[str], tmp_path: Path) -> None:
    modules = imported(*args, home=tmp_path)
    assert not modules & HEAVY, sorted(modules & HEAVY)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_the_groups_help_says_what_each_command_says_of_itself(name: str) -> None:
    module, attr, _ = COMMANDS[name]
    command = getattr(importlib.import_module(module), attr)
    assert isinstance(command, click.Command)
    for limit in (30, 45, 60, 10_000):
        assert short_help(name, limit) == command.get_short_help_str(limit)

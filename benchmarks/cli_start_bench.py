"""Benchmark: how long a person waits for a command to answer, against importing click.

    .venv/bin/python benchmarks/cli_start_bench.py [--runs 5]

Each command runs in a fresh process, as from a terminal: `python -c "import click,
pydantic"` (the baseline: no command can start faster than its parser and its models'
library), `python -c pass` (the interpreter alone), then `quotebot --help`, `quotebot audit
--help`, `quotebot runs --help`, `quotebot runs list` and `quotebot users list` (on an
empty quotebot home of its own). Prints the median of `--runs` wall times each and its
ratio to the baseline. Target (printed, never asserted): the two `--help`s within 1.5x.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import click

TARGET = 1.5


def _quotebot() -> list[str]:
    """The console script `quotebot` beside this interpreter, as a person types it."""
    script = Path(sys.executable).parent / "quotebot"
    return [str(script)] if script.exists() else [sys.executable, "-m", "quotebot"]


def _wall_s(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


@click.command()
@click.option("--runs", default=5, show_default=True, help="Runs of each, median kept.")
def main(runs: int) -> None:
    quotebot = _quotebot()
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "QUOTEBOT_HOME": home}
        env.pop("QUOTEBOT_DATABASE_URL", None)
        subprocess.run([*quotebot, "runs", "list"], env=env, capture_output=True, check=True)
        cases = {
            "python -c pass": [sys.executable, "-c", "pass"],
            'python -c "import click, pydantic"': [sys.executable, "-c", "import click, pydantic"],
            "quotebot --help": [*quotebot, "--help"],
            "quotebot audit --help": [*quotebot, "audit", "--help"],
            "quotebot runs --help": [*quotebot, "runs", "--help"],
            "quotebot runs list": [*quotebot, "runs", "list"],
            "quotebot users list": [*quotebot, "users", "list"],
        }
        # Interleaved rounds, so that a burst of load on a shared machine hits every case.
        times: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(runs):
            for name, argv in cases.items():
                times[name].append(_wall_s(argv, env))
    medians = {name: statistics.median(values) for name, values in times.items()}
    baseline = medians['python -c "import click, pydantic"']
    click.echo(f"median of {runs} runs each, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    for name, seconds in medians.items():
        ratio = seconds / baseline
        target = (
            f"  (target <= {TARGET}x)" if name.endswith("--help") and "runs" not in name else ""
        )
        click.echo(f"  {name:<38} {seconds * 1000:7.0f} ms  {ratio:5.2f}x{target}")


if __name__ == "__main__":
    main()

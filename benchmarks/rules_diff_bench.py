"""Benchmark: `quotebot rules diff` on a client book, lines per second.

    .venv/bin/python benchmarks/rules_diff_bench.py --lines 1000000

Generates `audit_bench`'s book in the new shape (co-termed add-ons, do-not-renew lines),
then times reading the opportunities alone (the baseline: the diff cannot be faster) and
the whole diff (read, price by both rules files, totals) from the old rules to rules with
other price methods, price holds and `proration: day`.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import click
import yaml
from _new_shape import new_shape
from audit_bench import generate

from audit.readers import read_opportunities
from audit.rules_diff import diff_files
from schemas.rules import load_rules


@click.command()
@click.option("--lines", default=1_000_000, show_default=True)
def main(lines: int) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        new = new_shape(generate(folder, lines), folder / "new")
        changed_rules = yaml.safe_load(new[0].read_text())
        changed_rules["proration"] = "day"
        changed_rules["uplift"]["support"] = "0.06"
        (folder / "after.yaml").write_text(yaml.safe_dump(changed_rules, sort_keys=False))
        started = time.perf_counter()
        read_opportunities(new[1], load_rules(folder / "rules.yaml"))
        read = time.perf_counter() - started
        started = time.perf_counter()
        diff = diff_files(folder / "rules.yaml", folder / "after.yaml", new[1])
        seconds = time.perf_counter() - started
        click.echo(f"read opportunities alone: {lines:,} lines in {read:.2f} s")
        click.echo(
            f"rules diff:               {diff.lines:,} lines in {seconds:.2f} s "
            f"= {diff.lines / seconds:,.0f} lines/s ({seconds / read:.1f}x the read)"
        )
        click.echo(f"lines that change: {len(diff.changed):,}")
        click.echo(diff.totals.to_string(index=False))


if __name__ == "__main__":
    main()

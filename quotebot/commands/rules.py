"""`quotebot rules diff`: what a change of a client's pricing rules does to its book."""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.group("rules")
def rules_group() -> None:
    """A client's pricing rules."""


@rules_group.command("diff")
@click.argument("old", type=click.Path(path_type=Path))
@click.argument("new", type=click.Path(path_type=Path))
@click.option("--opportunities", required=True, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["csv", "html"]), default="csv")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Default: stdout.")
def diff_command(old: Path, new: Path, opportunities: Path, fmt: str, out: Path | None) -> None:
    """Every opportunity line priced by OLD and NEW rules: the lines that change, totals."""
    from audit.rules_diff import diff_files, to_csv, to_html
    from schemas.errors import InputError

    try:
        diff = diff_files(old, new, opportunities)
    except InputError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(2) from None
    text = to_csv(diff) if fmt == "csv" else to_html(diff, old.name, new.name)
    if out is None:
        sys.stdout.write(text)
    else:
        try:
            out.write_text(text, encoding="utf-8")
        except OSError as exc:
            click.echo(f"error: cannot write {out}: {exc}", err=True)
            raise SystemExit(2) from None
    click.echo(f"{diff.lines:,} lines, {len(diff.changed):,} change", err=True)
    for row in diff.totals.itertuples(index=False):
        click.echo(
            f"{row.currency}: {row.amount_before} -> {row.amount_after} ({row.change})", err=True
        )

"""`quotebot audit`: audit exported files against a client's rules and write findings.csv.

Exit 0: no error-level finding; 1: some; 2: an input file is bad (nothing written).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:  # the audit's modules are imported when it runs, not for `--help`
    from audit.batch import AuditResult

_PROGRESS_BYTES = 5_000_000  # show progress bars by default from this much input


def summary(result: AuditResult, seconds: float, out: Path) -> str:
    """What the audit team reads after a run."""
    from schemas.findings import RULES

    lines = [
        f"quotes audited: {result.quotes} ({result.lines} lines)",
        f"first-pass accuracy: {result.accuracy:.1%} "
        f"({result.passed} of {result.quotes} quotes without an error)",
        f"findings: {len(result.findings)}" + (" by rule:" if len(result.findings) else ""),
    ]
    for rule, count in result.by_rule.items():
        lines.append(f"  {rule:<22} {RULES[rule].severity:<8} {count:>9}")
    lines.append(f"time taken: {seconds:.2f} s  ->  {out}")
    return "\n".join(lines)


@click.command("audit")
@click.option(
    "--rules",
    "rules_path",
    required=True,
    type=click.Path(path_type=Path),
    help="The client's pricing rules (YAML).",
)
@click.option("--opportunities", required=True, type=click.Path(path_type=Path))
@click.option("--quotes", required=True, type=click.Path(path_type=Path))
@click.option("--bookings", type=click.Path(path_type=Path), default=None)
@click.option(
    "--out", required=True, type=click.Path(path_type=Path), help="findings.csv to write."
)
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress on stderr (default: when the input is over 5 MB).",
)
def audit_command(
    rules_path: Path,
    opportunities: Path,
    quotes: Path,
    bookings: Path | None,
    out: Path,
    progress: bool | None,
) -> None:
    """Check every quote (and booking) against the client's rules; write findings.csv."""
    from loguru import logger

    from audit.batch import audit_files
    from audit.findings_csv import write_findings
    from schemas.errors import InputError

    started = time.perf_counter()
    inputs = [p for p in (opportunities, quotes, bookings) if p is not None]
    if progress is None:
        progress = sum(p.stat().st_size for p in inputs if p.is_file()) >= _PROGRESS_BYTES
    log = logger.bind(rules=str(rules_path), quotes=str(quotes))
    try:
        result = audit_files(rules_path, opportunities, quotes, bookings, progress=progress)
    except InputError as exc:
        log.info("audit refused its input: {}", exc)
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(2) from None
    try:
        write_findings(result.findings, out)
    except OSError as exc:
        click.echo(f"error: cannot write {out}: {exc}", err=True)
        raise SystemExit(2) from None
    seconds = time.perf_counter() - started
    log.info("audited {} quotes in {:.2f} s: {}", result.quotes, seconds, result.by_rule)
    click.echo(summary(result, seconds, out))
    raise SystemExit(1 if result.has_errors else 0)

"""The batch audit: a client's whole book of quotes checked at once, vectorised.

Same rules, same findings (rows, values, messages) as `audit.checks`, computed with pandas
and numpy on integer minor units instead of one quote at a time in `Decimal`.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import TypeAlias

import pandas as pd
from tqdm import tqdm
from tqdm.std import TqdmDefaultWriteLock

from audit import _batch_checks
from audit._csvfile import Engine
from audit._emit import Findings
from audit._prices import LinePrices, line_prices
from audit._validate import first_rows
from audit._vector import tolerance_units as _tolerance_units
from audit.readers import (
    FileKind,
    TextColumns,
    file_columns,
    read_bookings,
    read_opportunities,
    read_quotes,
)
from schemas.errors import InputError
from schemas.findings import RULES, Finding
from schemas.rules import PricingRules, load_rules

_QUOTE_LEVEL_RULES = {name for name, rule in RULES.items() if rule.level != "booking"}


@dataclass(frozen=True)
class AuditResult:
    """What the audit found: findings.csv's rows and the summary the audit team reads."""

    findings: pd.DataFrame
    quotes: int
    lines: int
    passed: int
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def accuracy(self) -> float:
        """First-pass accuracy: the share of quotes without an error-level finding."""
        return self.passed / self.quotes if self.quotes else 1.0

    @property
    def by_rule(self) -> dict[str, int]:
        return {
            str(k): int(n) for k, n in self.findings["rule"].value_counts().sort_index().items()
        }

    @property
    def has_errors(self) -> bool:
        return bool((self.findings["severity"] == "error").any())


def audit_files(
    rules_path: str | Path,
    opportunities_path: str | Path,
    quotes_path: str | Path,
    bookings_path: str | Path | None = None,
    progress: bool = False,
    engine: Engine = "arrow",
) -> AuditResult:
    """Read and validate the files (`InputError` on the first bad one), then audit them.

    `engine`: the CSV reader (`audit._csvfile`); "pandas" is the benchmark's baseline."""
    started = time.perf_counter()
    timings: dict[str, float] = {}

    def lap(stage: str) -> None:
        timings[stage] = time.perf_counter() - started - sum(timings.values())

    opps_path, quotes_path = Path(opportunities_path), Path(quotes_path)
    books_path = Path(bookings_path) if bookings_path else None
    if _parallel(opps_path, quotes_path):
        # Parsing CSV text into Python strings holds the GIL: read the opportunities and
        # bookings in a forked process on the other core while this one reads the quotes.
        # The rules load first, once: loading them again in each process costs more CPU
        # than it saves time where the machine is busy.
        rules = load_rules(rules_path)
        fork = get_context("fork")
        with ProcessPoolExecutor(1, fork, initializer=_fresh_progress_lock) as pool:
            reading = pool.submit(_read_others, rules, opps_path, books_path, progress, engine)
            quotes_or_error = _attempt("quotes", quotes_path, rules, progress, engine)
            opps_or_error, bookings_or_error, prices = reading.result()
    else:
        files: list[tuple[FileKind, Path | None]] = [
            ("opportunities", opps_path),
            ("quotes", quotes_path),
            ("bookings", books_path),
        ]
        rules, (opps_or_error, quotes_or_error, bookings_or_error) = _read_with_rules(
            rules_path, files, progress, engine
        )
        prices = None
    # The same file is blamed either way: opportunities, then quotes, then bookings.
    opps, quotes, bookings = (
        _value(opps_or_error),
        _value(quotes_or_error),
        _value(bookings_or_error),
    )
    assert opps is not None and quotes is not None
    lap("read")
    with tqdm(total=1, desc="checking quotes", disable=not progress, leave=False) as bar:
        result = audit_frames(rules, opps, quotes, bookings, prices)
        bar.update()
    lap("audit")
    return AuditResult(
        result.findings,
        result.quotes,
        result.lines,
        result.passed,
        time.perf_counter() - started,
        timings,
    )


Read: TypeAlias = pd.DataFrame | InputError | None


def _single_threaded() -> bool:
    """Forking is safe from one thread only (the CLI; not a web server). tqdm's monitor is
    tolerated: the forked reader starts with a lock of its own (`_fresh_progress_lock`)."""
    others = [t for t in threading.enumerate() if t is not threading.main_thread()]
    main = threading.current_thread() is threading.main_thread()
    return main and all(t.name == "tqdm_monitor" for t in others)


def _fresh_progress_lock() -> None:
    tqdm.set_lock(TqdmDefaultWriteLock())


_READERS: dict[str, Callable[..., pd.DataFrame]] = {
    "opportunities": read_opportunities,
    "quotes": read_quotes,
    "bookings": read_bookings,
}


def _read_with_rules(
    rules_path: str | Path,
    files: list[tuple[FileKind, Path | None]],
    progress: bool,
    engine: Engine,
) -> tuple[PricingRules, list[Read]]:
    """The rules (`RulesError` first if they are bad), and each file read or its error.

    The first file's CSV is read on a thread while the rules load: Arrow reads without
    Python's lock, and a client's price book takes as long to load as a big file to read."""
    kind, path = files[0]
    with ThreadPoolExecutor(1, thread_name_prefix="audit-read") as threads:
        ahead = threads.submit(_columns, kind, path, progress, engine)
        rules = load_rules(rules_path)
        first = ahead.result()
    reads: list[Read] = [first if isinstance(first, InputError) else None]
    if not isinstance(first, InputError):
        reads[0] = _attempt(kind, path, rules, progress, engine, first)
    reads += [_attempt(k, p, rules, progress, engine) for k, p in files[1:]]
    return rules, reads


def _columns(
    kind: FileKind, path: Path | None, progress: bool, engine: Engine
) -> TextColumns | InputError | None:
    try:
        return file_columns(kind, path, progress=progress, engine=engine) if path else None
    except InputError as exc:
        return exc


def _attempt(
    kind: FileKind,
    path: Path | None,
    rules: PricingRules,
    progress: bool,
    engine: Engine,
    columns: TextColumns | None = None,
) -> Read:
    """The file read, or the `InputError` it raised (None when there is no file)."""
    if path is None:
        return None
    try:
        return _READERS[kind](path, rules, progress=progress, engine=engine, columns=columns)
    except InputError as exc:
        return exc


def _read_others(
    rules: PricingRules,
    opps_path: Path,
    bookings_path: Path | None,
    progress: bool,
    engine: Engine,
) -> tuple[Read, Read, LinePrices | None]:
    """In the forked process: both files, and the opportunity lines' expected prices
    (while the other process still reads the quotes)."""
    opps = _attempt("opportunities", opps_path, rules, progress, engine)
    bookings = _attempt("bookings", bookings_path, rules, progress, engine)
    prices = line_prices(rules, opps) if isinstance(opps, pd.DataFrame) else None
    return opps, bookings, prices


def _value(read: Read) -> pd.DataFrame | None:
    if isinstance(read, InputError):
        raise read
    return read


PARALLEL_BYTES = 8_000_000
"""Inputs from this size read the two files in two processes (forking costs ~0.1 s)."""


def _parallel(*paths: Path) -> bool:
    if "fork" not in multiprocessing.get_all_start_methods() or not _single_threaded():
        return False
    sizes = [path.stat().st_size for path in paths if path.is_file()]
    return len(sizes) == len(paths) and min(sizes) >= PARALLEL_BYTES


def audit_frames(
    rules: PricingRules,
    opps: pd.DataFrame,
    quotes: pd.DataFrame,
    bookings: pd.DataFrame | None,
    prices: LinePrices | None = None,
) -> AuditResult:
    """Audit frames as `audit.readers` returns them (`prices`: `line_prices(rules, opps)`,
    where it was worked out already)."""
    if prices is None:
        prices = line_prices(rules, opps)
    out = Findings()
    # `code`: quote and opportunity numbers from the readers, in order of first appearance.
    qcode, ocode = quotes["code"].to_numpy(), opps["code"].to_numpy()
    head = quotes.iloc[first_rows(qcode)].reset_index(drop=True)  # one row per quote
    quote_ids = head["quote_id"].to_numpy()
    opp_head = opps.iloc[first_rows(ocode)].reset_index(drop=True)
    opp_ids = opp_head["opportunity_id"].to_numpy()
    qopp = pd.Index(opp_ids, dtype=object).get_indexer(head["opportunity_id"])
    tol = _tolerance_units(rules.tolerance)
    _batch_checks.quote_level(rules, out, head, opp_head, qopp, quotes, qcode, tol)
    _batch_checks.lines(rules, out, quotes, qcode, qopp, opps, ocode, prices, tol)
    if bookings is not None:
        _batch_checks.bookings(out, bookings, head, pd.Index(quote_ids, dtype=object), tol)
    found = out.frame()
    failing = found.loc[(found["severity"] == "error") & found["rule"].isin(_QUOTE_LEVEL_RULES)]
    failed = failing["quote_id"].nunique()
    return AuditResult(found, len(head), len(quotes), len(head) - failed)


def as_findings(frame: pd.DataFrame) -> list[Finding]:
    """The rows of a findings frame as `Finding` records (for the review queue and tests)."""
    return [
        Finding(**{**row, "line_no": None if pd.isna(row["line_no"]) else int(row["line_no"])})
        for row in frame.to_dict(orient="records")
    ]

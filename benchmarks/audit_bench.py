"""Benchmark: the batch audit against the per-quote reference, lines per second.

    .venv/bin/python benchmarks/audit_bench.py --lines 1000000 --sample 20000 \
        [--keep DIR] [--repeat 3]

Generates a book of renewal quotes (5 lines each; 3% of lines with a wrong unit price,
inactive skus, late quotes) and the same book with the new columns, then measures first, on
each, files to findings.csv (`quotebot audit`'s work) against pyarrow reading the same three
files, the median of `--repeat` runs each (target: at most 3x), and that findings.csv is byte
for byte what the writer before (pandas' `to_csv`) wrote; then, in lines per second:

- files to findings: `audit.batch.audit_files` on all lines (read, validate, audit) against
  `audit.reference.audit_files_reference` (csv + pydantic + `check_quote`) on a sample;
- in memory: `audit.batch.audit_frames` on the validated frames against
  `audit.reference.audit_models` (`check_quote` per quote) on the sample's models;

and checks that both paths find the same findings on the sample; then the same book with
the new columns (co-termed add-ons, do-not-renew lines, quote line dates, accounts on other
price methods, price holds: `_new_shape.py`), files to findings, against the old shape and
against the same audit reading with pandas' CSV reader (the reader before Arrow), the
fastest of `--repeat` interleaved runs of each.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

import click
import numpy as np
import pandas as pd
import pyarrow.csv as pcsv
import yaml
from _new_shape import new_shape

from audit._csvfile import Engine
from audit.batch import AuditResult, as_findings, audit_files, audit_frames
from audit.findings_csv import write_findings
from audit.readers import read_bookings, read_opportunities, read_quotes
from audit.reference import audit_files_reference, audit_models
from audit.reference import read_bookings as reference_bookings
from audit.reference import read_opportunities as reference_opportunities
from audit.reference import read_quotes as reference_quotes
from audit.vectorised import add_months, date_text, div_half_up, line_prices, money_text
from schemas.rules import PricingRules, load_rules

LINES_PER_QUOTE = 5
SEGMENTS = ["enterprise", "commercial", "smb"]
CURRENCIES = ["USD", "EUR", "JPY"]
PLACES = np.array([2, 2, 0])


def rules_document(skus: int) -> dict[str, object]:
    families = ["support", "license", "service"]
    book = [
        {
            "sku": f"SKU-{i:04d}",
            "family": families[i % 3],
            "currency": currency,
            "list_price": str(100 + 37 * i) + (".00" if places else "00"),
            "active": i % 97 != 5,
        }
        for i in range(skus)
        for currency, places in zip(CURRENCIES, PLACES, strict=True)
    ]
    return {
        "client": "bench",
        "currency_places": {"USD": 2, "EUR": 2, "JPY": 0},
        "price_book": book,
        "uplift": {"support": "0.05", "license": "0.035", "default": "0.03"},
        "cap_at_list": True,
        "volume_tiers": [
            {"min_qty": 1, "discount": "0"},
            {"min_qty": 10, "discount": "0.05"},
            {"min_qty": 50, "discount": "0.10"},
        ],
        "term_discounts": [
            {"min_months": 1, "discount": "0"},
            {"min_months": 24, "discount": "0.03"},
            {"min_months": 36, "discount": "0.05"},
        ],
        "max_discount": {"enterprise": "0.20", "commercial": "0.12", "smb": "0.08"},
        "lead_days": 120,
        "validity_days": 30,
        "tolerance": "0.00",
    }


def generate(folder: Path, lines: int, seed: int = 7) -> tuple[Path, Path, Path, Path]:
    """Write rules.yaml, opportunities.csv, quotes.csv and bookings.csv with `lines` lines."""
    rng = np.random.default_rng(seed)
    document = rules_document(skus=400)
    rules = PricingRules.model_validate(document)
    n_opps = lines // LINES_PER_QUOTE
    opp = np.repeat(np.arange(n_opps), LINES_PER_QUOTE)
    line_no = np.tile(np.arange(1, LINES_PER_QUOTE + 1), n_opps)
    sku_no = np.repeat(rng.integers(0, 400 - LINES_PER_QUOTE, n_opps), LINES_PER_QUOTE) + line_no
    cur = np.repeat(rng.integers(0, 3, n_opps), LINES_PER_QUOTE)
    places = PLACES[cur]
    months = np.repeat(rng.choice([12, 24, 36, 13, 60], n_opps), LINES_PER_QUOTE)
    end = np.repeat(rng.integers(20_000, 20_800, n_opps), LINES_PER_QUOTE)
    quantity = rng.integers(1, 120, len(opp))
    has_prior = rng.random(len(opp)) < 0.8
    prior = rng.integers(50, 2_000, len(opp)) * 10**places + rng.integers(0, 100, len(opp))
    prior = np.where(places > 0, prior, prior // 100)
    opps = pd.DataFrame(
        {
            "opportunity_id": np.char.add("OPP-", opp.astype(str)).astype(object),
            "account_id": np.char.add("ACC-", (opp // 3).astype(str)).astype(object),
            "account_name": np.char.add("Account ", (opp // 3).astype(str)).astype(object),
            "segment": np.array(SEGMENTS, dtype=object)[np.repeat(rng.integers(0, 3, n_opps), 5)],
            "currency": np.array(CURRENCIES, dtype=object)[cur],
            "places": places,
            "contract_end": end,
            "months": months,
            "renewal_term_months": months,
            "line_no": line_no,
            "sku": np.char.add("SKU-", np.char.zfill(sku_no.astype(str), 4)),
            "quantity": quantity,
            "prior": prior,
            "has_prior": has_prior,
        }
    )
    opps["line_end"] = end
    opps["renew"] = True
    opps["account_id"] = opps["account_id"].astype("category")
    opps["sku_code"] = pd.factorize(opps["sku"])[0]
    opps["currency_code"] = pd.factorize(opps["currency"])[0]
    unit = line_prices(rules, opps).unit_price
    planted = rng.random(len(opp)) < 0.03  # a wrong unit price on about 3% of lines
    unit = np.where(planted, unit + 10**places, unit)
    amount = div_half_up(unit * quantity * months, 12)
    total = pd.Series(amount).groupby(opp).transform("sum").to_numpy()
    quote_date = end - np.repeat(rng.choice([150, 130, 100], n_opps), LINES_PER_QUOTE)
    start = end + 1
    quotes = pd.DataFrame(
        {
            "quote_id": np.char.add("Q-", np.char.zfill(opp.astype(str), 8)),
            "opportunity_id": opps["opportunity_id"],
            "quote_date": date_text(quote_date),
            "valid_until": date_text(quote_date + 30),
            "currency": opps["currency"],
            "term_start": date_text(start),
            "term_end": date_text(add_months(start, months) - 1),
            "line_no": line_no,
            "sku": opps["sku"],
            "quantity": quantity,
            "unit_price": money_text(unit, places),
            "line_amount": money_text(amount, places),
            "quote_total": money_text(total, places),
        }
    )
    opps["contract_end"] = date_text(end)
    opps["prior_unit_price"] = np.where(has_prior, money_text(prior, places), "")
    heads = quotes.iloc[::LINES_PER_QUOTE]
    bookings = pd.DataFrame(
        {
            "quote_id": heads["quote_id"],
            "po_number": np.char.add("PO-", heads["quote_id"]),
            "po_date": heads["valid_until"],
            "po_amount": heads["quote_total"],
            "po_currency": heads["currency"],
        }
    )
    paths = (
        folder / "rules.yaml",
        folder / "opportunities.csv",
        folder / "quotes.csv",
        folder / "bookings.csv",
    )
    paths[0].write_text(yaml.safe_dump(document, sort_keys=False))
    columns = [
        "opportunity_id",
        "account_id",
        "account_name",
        "segment",
        "currency",
        "contract_end",
        "renewal_term_months",
        "line_no",
        "sku",
        "quantity",
        "prior_unit_price",
    ]
    opps[columns].to_csv(paths[1], index=False)
    quotes.to_csv(paths[2], index=False)
    bookings.to_csv(paths[3], index=False)
    return paths


def sample(
    paths: tuple[Path, Path, Path, Path], folder: Path, lines: int
) -> tuple[Path, Path, Path, Path]:
    """The first `lines` quote lines, with their opportunities and bookings."""
    quotes = pd.read_csv(paths[2], dtype=str, keep_default_na=False, nrows=lines)
    opps = pd.read_csv(paths[1], dtype=str, keep_default_na=False)
    bookings = pd.read_csv(paths[3], dtype=str, keep_default_na=False)
    folder.mkdir(exist_ok=True)
    out = (paths[0], folder / "opportunities.csv", folder / "quotes.csv", folder / "bookings.csv")
    opps[opps["opportunity_id"].isin(quotes["opportunity_id"])].to_csv(out[1], index=False)
    quotes.to_csv(out[2], index=False)
    bookings[bookings["quote_id"].isin(quotes["quote_id"])].to_csv(out[3], index=False)
    return out


class Rate(NamedTuple):
    """Lines audited per second of wall time, and per second of CPU time (this process and
    the reader it forks): the CPU figure stays meaningful on a machine shared with others."""

    lines: int
    seconds: float
    cpu: float

    @property
    def per_second(self) -> float:
        return self.lines / self.seconds

    @property
    def per_cpu_second(self) -> float:
        return self.lines / self.cpu

    def __str__(self) -> str:
        return (
            f"{self.lines:>9,} lines in {self.seconds:6.2f} s = {self.per_second:>11,.0f} "
            f"lines/s (CPU {self.cpu:5.2f} s = {self.per_cpu_second:>11,.0f} lines/s)"
        )

    def ratio(self, other: Rate) -> str:
        wall = self.per_second / other.per_second
        cpu = self.per_cpu_second / other.per_cpu_second
        return f"{wall:,.1f}x per line (by CPU time {cpu:,.1f}x)"


class Clock:
    """Wall and CPU time of a block, children included."""

    def __enter__(self) -> Clock:
        self.started, self.cpu_started = time.perf_counter(), self._cpu()
        return self

    def __exit__(self, *_: object) -> None:
        self.seconds = time.perf_counter() - self.started
        self.cpu = self._cpu() - self.cpu_started

    @staticmethod
    def _cpu() -> float:
        t = os.times()
        return t.user + t.system + t.children_user + t.children_system

    def rate(self, lines: int) -> Rate:
        return Rate(lines, self.seconds, self.cpu)


READERS = (read_opportunities, read_quotes, read_bookings)
Timed = tuple[AuditResult, Rate]
ENGINES: tuple[Engine, ...] = ("arrow", "pandas")


def findings_csv(result: AuditResult) -> str:
    """findings.csv's text (the frames' text columns differ in pandas storage, not content)."""
    return result.findings.to_csv(index=False)


def compare_readers(paths: tuple[Path, ...], repeat: int) -> tuple[Timed, Timed]:
    """Files to findings with the Arrow reader and with today's (pandas'), runs interleaved,
    the fastest of `repeat` each: on a shared machine the fastest is the least disturbed.

    Today's reader runs as it does without pyarrow installed: pandas then keeps text in
    Python objects, while with pyarrow its `str` columns are Arrow-backed and every cell
    read crosses into Arrow and back (slower, and not today's cost)."""
    best: dict[str, Timed] = {}
    for _ in range(repeat):
        for engine in ENGINES:
            storage = "pyarrow" if engine == "arrow" else "python"
            with pd.option_context("mode.string_storage", storage), Clock() as clock:
                result = audit_files(paths[0], paths[1], paths[2], paths[3], engine=engine)
            rate = clock.rate(result.lines)
            click.echo(f"  {engine:6} reader, one run: {rate}")
            if engine not in best or rate.seconds < best[engine][1].seconds:
                best[engine] = (result, rate)
    return best["arrow"], best["pandas"]


def files_against_reading(paths: tuple[Path, ...], out: Path, repeat: int) -> bool:
    """Files to findings.csv (`quotebot audit`'s work: read, check, write) against pyarrow
    only reading the same three CSV files (multi-threaded, types guessed): the median of
    `repeat` interleaved runs each. Prints both and their ratio (target: at most 3x); True
    when findings.csv is byte for byte what pandas' `to_csv`, the writer before, wrote."""
    read_s, audit_s = [], []
    for _ in range(repeat):
        started = time.perf_counter()
        for path in paths[1:]:
            pcsv.read_csv(path)
        read_s.append(time.perf_counter() - started)
        started = time.perf_counter()
        result = audit_files(*paths)
        write_findings(result.findings, out)
        audit_s.append(time.perf_counter() - started)
    read, audit = statistics.median(read_s), statistics.median(audit_s)
    click.echo(f"  pyarrow reads the three files: {read:6.2f} s (median of {repeat})")
    click.echo(
        f"  files to findings.csv:         {audit:6.2f} s (median of {repeat}: "
        f"{result.lines:,} lines, {result.quotes:,} quotes, {len(result.findings):,} findings)"
    )
    click.echo(f"  ratio: {audit / read:.2f}x the time of reading (target: at most 3x)")
    before = result.findings.to_csv(index=False, lineterminator="\n").encode("utf-8")
    same = out.read_bytes() == before
    click.echo(f"  findings.csv byte for byte as pandas' to_csv wrote it: {same}")
    return same


@click.command()
@click.option("--lines", default=1_000_000, show_default=True, help="Quote lines to generate.")
@click.option(
    "--sample",
    "sample_lines",
    default=20_000,
    show_default=True,
    help="Quote lines for the per-quote reference.",
)
@click.option(
    "--keep",
    type=click.Path(path_type=Path),
    default=None,
    help="Keep the generated files here (to time the CLI on them).",
)
@click.option("--reuse", is_flag=True, help="Audit the files already in --keep, if any.")
@click.option(
    "--repeat",
    default=3,
    show_default=True,
    help="Runs of each reader on the new-columns book (the fastest is reported).",
)
def main(lines: int, sample_lines: int, keep: Path | None, reuse: bool, repeat: int) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        folder = keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        paths = (
            folder / "rules.yaml",
            folder / "opportunities.csv",
            folder / "quotes.csv",
            folder / "bookings.csv",
        )
        if reuse and all(path.exists() for path in paths):
            click.echo(f"reusing the files in {folder}")
        else:
            paths = generate(folder, lines)
            click.echo(f"generated {lines:,} quote lines in {time.perf_counter() - started:.1f} s")
        new = new_shape(paths, folder / "new")
        click.echo("files to findings against reading them, the book of the old shape:")
        same_old = files_against_reading(paths, Path(scratch) / "findings-old.csv", repeat)
        click.echo("the same, the book with the new columns:")
        same_new = files_against_reading(new, Path(scratch) / "findings-new.csv", repeat)

        with Clock() as clock:
            result = audit_files(*paths)
        batch = clock.rate(result.lines)
        stages = ", ".join(f"{k} {v:.2f} s" for k, v in result.timings.items())
        rules = load_rules(paths[0])
        frames = [read(path, rules) for read, path in zip(READERS, paths[1:], strict=True)]
        with Clock() as clock:
            audit_frames(rules, *frames)
        batch_core = clock.rate(result.lines)

        small = sample(paths, Path(scratch) / "sample", sample_lines)
        with Clock() as clock:
            reference = audit_files_reference(*small)
        per_quote = clock.rate(sample_lines)
        models = (
            reference_opportunities(small[1]),
            reference_quotes(small[2]),
            reference_bookings(small[3]),
        )
        with Clock() as clock:
            audit_models(rules, *models)
        per_quote_core = clock.rate(sample_lines)

        click.echo(f"files to findings, batch:     {batch}  ({stages})")
        click.echo(f"files to findings, per quote: {per_quote}  (sample)")
        click.echo(f"  ratio: batch is {batch.ratio(per_quote)}")
        click.echo(f"in memory, batch:             {batch_core}")
        click.echo(f"in memory, per quote:         {per_quote_core}  (sample)")
        click.echo(f"  ratio: batch is {batch_core.ratio(per_quote_core)}")
        click.echo(f"findings: {len(result.findings):,} ({result.by_rule})")
        agree = as_findings(audit_files(*small).findings) == reference
        click.echo(f"batch and per-quote findings on the sample agree: {agree}")

        # The same book with the new columns (line_end, renew, line_start/line_end) and
        # rules keys (accounts, contracted_prices), audited in the same run.
        (result_new, batch_new), (result_pandas, batch_pandas) = compare_readers(new, repeat)
        stages = ", ".join(f"{k} {v:.2f} s" for k, v in result_new.timings.items())
        click.echo(f"files to findings, new columns: {batch_new}  ({stages})")
        click.echo(f"  ratio: new columns to old shape: {batch_new.ratio(batch)}")
        stages = ", ".join(f"{k} {v:.2f} s" for k, v in result_pandas.timings.items())
        click.echo(f"  with the pandas reader:       {batch_pandas}  ({stages})")
        click.echo(f"  ratio: Arrow reader to pandas reader: {batch_new.ratio(batch_pandas)}")
        same_readers = findings_csv(result_pandas) == findings_csv(result_new)
        click.echo(f"Arrow and pandas readers give the same findings.csv: {same_readers}")
        click.echo(f"findings, new columns: {len(result_new.findings):,} ({result_new.by_rule})")
        small_new = sample(new, Path(scratch) / "sample-new", sample_lines)
        agree_new = as_findings(audit_files(*small_new).findings) == audit_files_reference(
            *small_new
        )
        click.echo(f"batch and per-quote findings on the new-columns sample agree: {agree_new}")
        if not (agree and agree_new and same_readers and same_old and same_new):
            raise SystemExit(1)


if __name__ == "__main__":
    main()

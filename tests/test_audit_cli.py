"""`quotebot audit` end to end: findings.csv, the summary, exit codes, and bad input files
refused with file, line and column, and nothing written."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from test_audit_helpers import (
    RULES,
    opportunity_line,
    quote_line,
    write_bookings,
    write_csv,
    write_opportunities,
    write_quotes,
    write_rules,
)

from quotebot import cli
from schemas.findings import FINDINGS_COLUMNS


def run(tmp: Path, *extra: str) -> Result:
    args = [
        "audit",
        "--rules",
        str(tmp / "rules.yaml"),
        "--opportunities",
        str(tmp / "o.csv"),
        "--quotes",
        str(tmp / "q.csv"),
        "--out",
        str(tmp / "findings.csv"),
        *extra,
    ]
    return CliRunner().invoke(cli, args)


def files(
    tmp: Path,
    quotes: list[dict[str, Any]] | None = None,
    opportunities: list[dict[str, Any]] | None = None,
    rules: dict[str, Any] | None = None,
) -> None:
    write_rules(tmp / "rules.yaml", rules)
    write_opportunities(tmp / "o.csv", opportunities or [opportunity_line()])
    write_quotes(tmp / "q.csv", quotes or [quote_line()])


def test_clean_book_exits_0_with_a_header_only_findings_file(tmp_path: Path) -> None:
    files(tmp_path)
    result = run(tmp_path)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "findings.csv").read_text() == ",".join(FINDINGS_COLUMNS) + "\n"
    assert "quotes audited: 1 (1 lines)" in result.stdout
    assert "first-pass accuracy: 100.0%" in result.stdout
    assert "time taken:" in result.stdout


def test_warnings_only_exit_0_errors_exit_1(tmp_path: Path) -> None:
    files(tmp_path, [quote_line(valid_until="2026-03-02")])
    assert run(tmp_path).exit_code == 0
    files(tmp_path, [quote_line(), quote_line(quote_id="Q-2", unit_price="1.00")])
    result = run(tmp_path)
    assert result.exit_code == 1
    assert "first-pass accuracy: 50.0% (1 of 2 quotes without an error)" in result.stdout
    assert "duplicate_quote        error            1" in result.stdout
    with (tmp_path / "findings.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == list(FINDINGS_COLUMNS)
    assert [(r["quote_id"], r["rule"], r["line_no"], r["expected"], r["actual"]) for r in rows] == [
        ("Q-2", "duplicate_quote", "", "Q-1", ""),
        ("Q-2", "discount_over_cap", "1", "840.00", "1.00"),
        ("Q-2", "line_amount_mismatch", "1", "10.00", "9975.00"),
        ("Q-2", "unit_price_mismatch", "1", "997.50", "1.00"),
    ]


def test_bookings_are_audited_when_given(tmp_path: Path) -> None:
    files(tmp_path)
    po = {
        "quote_id": "Q-1",
        "po_number": "PO-1",
        "po_date": "2026-03-01",
        "po_amount": "9975.00",
        "po_currency": "USD",
    }
    write_bookings(tmp_path / "b.csv", [po, {**po, "quote_id": "Q-7"}])
    result = run(tmp_path, "--bookings", str(tmp_path / "b.csv"))
    assert result.exit_code == 1
    assert "unknown_quote" in (tmp_path / "findings.csv").read_text()


def test_progress_is_shown_on_stderr_when_asked(tmp_path: Path) -> None:
    files(tmp_path)
    result = run(tmp_path, "--progress")
    assert result.exit_code == 0
    assert "reading q.csv" in result.stderr


HOLD = {"account_id": "A-1", "sku": "NET-SUP-100", "currency": "USD", "unit_price": "9"}
BAD_INPUTS = [
    pytest.param(
        "q.csv",
        lambda rows: [{k: v for k, v in r.items() if k != "unit_price"} for r in rows],
        "q.csv:1: column unit_price: missing column",
        id="missing-column",
    ),
    pytest.param(
        "q.csv",
        lambda rows: [rows[0], {**rows[1], "quote_date": "2026-02-30"}],
        "q.csv:3: column quote_date: '2026-02-30' is not a date (YYYY-MM-DD)",
        id="bad-date",
    ),
    pytest.param(
        "q.csv",
        lambda rows: [rows[0], {**rows[1], "unit_price": "1,000.00"}],
        "q.csv:3: column unit_price: '1,000.00' is not an amount in USD",
        id="bad-decimal",
    ),
    pytest.param(
        "o.csv",
        lambda rows: [{**rows[0], "line_end": ""}, {**rows[1], "line_end": "2026-06-29"}],
        "o.csv:3: column line_end: 2026-06-29 is not from the contract end 2026-06-30 to "
        "before the renewal's term end",
        id="line-end-before-contract-end",
    ),
    pytest.param(
        "o.csv",
        lambda rows: [{**rows[0], "line_end": ""}, {**rows[1], "line_end": "2027-06-30"}],
        "o.csv:3: column line_end: 2027-06-30 is not from the contract end",
        id="line-end-on-term-end",
    ),
    pytest.param(
        "o.csv",
        lambda rows: [{**rows[0], "renew": "nope"}, rows[1]],
        "o.csv:2: column renew: 'nope' is not yes or no",
        id="renew-not-yes-or-no",
    ),
    pytest.param(
        "q.csv",
        lambda rows: [{**rows[0], "line_start": ""}, {**rows[1], "line_start": "2026-07-32"}],
        "q.csv:3: column line_start: '2026-07-32' is not a date (YYYY-MM-DD)",
        id="bad-line-start",
    ),
    pytest.param(
        "q.csv",
        lambda rows: [rows[0], {**rows[1], "quote_total": "1.00"}],
        "q.csv:3: column quote_total: '1.00' differs from line 2 of the same quote Q-1",
        id="total-differs-within-quote",
    ),
    pytest.param(
        "q.csv",
        lambda rows: [rows[0], {**rows[1], "sku": "NET-SUP-100"}],
        "q.csv:3: column sku: sku NET-SUP-100 appears twice in quote Q-1 (first on line 2)",
        id="duplicate-sku-in-quote",
    ),
    pytest.param(
        "o.csv",
        lambda rows: [rows[0], {**rows[1], "sku": "NET-SUP-100"}],
        "o.csv:3: column sku: sku NET-SUP-100 appears twice in opportunity OPP-1 (first on line 2)",
        id="duplicate-sku-in-opportunity",
    ),
    pytest.param(
        "o.csv",
        lambda rows: [rows[0], {**rows[1], "renewal_term_months": "24"}],
        "o.csv:3: column renewal_term_months: '24' differs from line 2 of the same "
        "opportunity OPP-1 ('12')",
        id="term-differs-within-opportunity",
    ),
    pytest.param(
        "q.csv",
        lambda rows: [rows[0], {**rows[1], "quantity": "ten"}],
        "q.csv:3: column quantity: 'ten' is not a whole number from 0",
        id="not-a-number",
    ),
    pytest.param(
        "o.csv",
        lambda rows: [rows[0], {**rows[1], "quantity": "0"}],
        "o.csv:3: column quantity: '0' is not a whole number from 1",
        id="zero-quantity",
    ),
    pytest.param(
        "o.csv",
        lambda rows: [{**rows[0], "segment": "public"}, rows[1]],
        "o.csv:2: column segment: 'public' is not a segment of max_discount",
        id="segment",
    ),
    pytest.param(
        "o.csv",
        lambda rows: [rows[0], {**rows[1], "currency": "usd"}],
        "o.csv:3: column currency: 'usd' is not a currency code",
        id="currency",
    ),
]


@pytest.mark.parametrize(("name", "spoil", "message"), BAD_INPUTS)
def test_bad_csv_exits_2_naming_file_line_and_column(
    tmp_path: Path, name: str, spoil: Any, message: str
) -> None:
    opps = [opportunity_line(), opportunity_line(line_no=2, sku="NET-LIC-200", quantity=1)]
    second = quote_line(
        line_no=2,
        sku="NET-LIC-200",
        quantity=1,
        unit_price="500.00",
        line_amount="500.00",
        quote_total="10475.00",
    )
    quotes = [quote_line(quote_total="10475.00"), second]
    files(tmp_path, quotes, opps)
    assert run(tmp_path).exit_code == 0  # the unspoiled files are fine
    (tmp_path / "findings.csv").unlink()
    rows = spoil(opps if name == "o.csv" else quotes)
    write_csv(tmp_path / name, list(rows[0]), rows)
    result = run(tmp_path)
    assert result.exit_code == 2
    assert f"{tmp_path / message}" in result.stderr
    assert not (tmp_path / "findings.csv").exists()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"lead_dayz": 120}, "key lead_dayz: unknown key"),
        ({"renewal_price_method": "flat"}, "key renewal_price_method: Input should be"),
        ({"proration": "week"}, "key proration: Input should be"),
        ({"accounts": {"A-1": {"price_method": "x"}}}, "key accounts.A-1.price_method"),
        (
            {"contracted_prices": [{**HOLD, "from": "2026-02-01", "until": "2026-01-31"}]},
            "key contracted_prices.0.until: 2026-01-31 is before its from 2026-02-01",
        ),
        (
            {
                "contracted_prices": [
                    {**HOLD, "from": "2026-01-01", "until": "2026-12-31"},
                    {**HOLD, "from": "2026-12-31", "until": "2027-12-31"},
                ]
            },
            "key contracted_prices.1.from: A-1 NET-SUP-100 USD overlaps contracted_prices.0",
        ),
        ({"uplift": {"support": "0.05"}}, "key uplift.default: missing"),
        (
            {
                "volume_tiers": [
                    {"min_qty": 10, "discount": "0.05"},
                    {"min_qty": 1, "discount": "0"},
                ]
            },
            "key volume_tiers.1.min_qty: tiers must be sorted and not overlap (1 after 10)",
        ),
        (
            {
                "term_discounts": [
                    {"min_months": 12, "discount": "0"},
                    {"min_months": 12, "discount": "0.1"},
                ]
            },
            "key term_discounts.1.min_months: tiers must be sorted and not overlap",
        ),
        (
            {"max_discount": {"enterprise": "1.5"}},
            "key max_discount.enterprise: Input should be less",
        ),
    ],
)
def test_bad_rules_exit_2_naming_the_key(
    tmp_path: Path, changes: dict[str, Any], message: str
) -> None:
    files(tmp_path)
    (tmp_path / "findings.csv").write_text("previous run\n")
    write_rules(tmp_path / "rules.yaml", changes)
    result = run(tmp_path)
    assert result.exit_code == 2
    assert f"{tmp_path / 'rules.yaml'}:" in result.stderr and message in result.stderr
    assert (tmp_path / "findings.csv").read_text() == "previous run\n"  # untouched


def test_segment_of_an_opportunity_missing_from_max_discount(tmp_path: Path) -> None:
    files(
        tmp_path,
        rules={
            "max_discount": {k: v for k, v in RULES["max_discount"].items() if k != "enterprise"}
        },
    )
    result = run(tmp_path)
    assert result.exit_code == 2
    assert "o.csv:2: column segment: 'enterprise' is not a segment of max_discount" in result.stderr


def test_missing_file_exits_2(tmp_path: Path) -> None:
    files(tmp_path)
    (tmp_path / "q.csv").unlink()
    result = run(tmp_path)
    assert result.exit_code == 2 and "q.csv: cannot read the file" in result.stderr


def test_ragged_row_exits_2_with_its_line(tmp_path: Path) -> None:
    files(tmp_path)
    with (tmp_path / "q.csv").open("a") as handle:
        handle.write(
            "Q-2,OPP-1,2026-02-01,2026-03-03,USD,2026-07-01,2027-06-30,1,X,1,1,1,1,extra\n"
        )
    result = run(tmp_path)
    assert result.exit_code == 2 and "q.csv:3: not a well-formed CSV row" in result.stderr


def test_not_utf8_exits_2_with_its_line(tmp_path: Path) -> None:
    files(tmp_path)
    with (tmp_path / "q.csv").open("ab") as handle:
        handle.write(b"Q-\xff,OPP-1\n")
    result = run(tmp_path)
    assert result.exit_code == 2 and "q.csv:3: not UTF-8 text" in result.stderr


def test_a_byte_order_mark_and_quoted_commas_are_fine(tmp_path: Path) -> None:
    files(tmp_path, opportunities=[opportunity_line(account_name="Initech, Inc.")])
    text = (tmp_path / "o.csv").read_text()
    assert '"Initech, Inc."' in text
    (tmp_path / "o.csv").write_text("\ufeff" + text, encoding="utf-8")
    assert run(tmp_path).exit_code == 0


# The command in a fresh interpreter with the size above which it reads its two files in two
# processes: a forked reader needs a process with one thread, which a test worker that has
# already driven a browser is not.
_SPLIT_RUN = """
import sys
import audit.batch
from quotebot import cli
audit.batch.PARALLEL_BYTES = int(sys.argv[1])
tmp = sys.argv[2]
split = audit.batch._parallel(audit.batch.Path(tmp, "o.csv"), audit.batch.Path(tmp, "q.csv"))
print("split" if split else "one process", file=sys.stderr)
cli.main(["audit", "--rules", tmp + "/rules.yaml", "--opportunities", tmp + "/o.csv",
          "--quotes", tmp + "/q.csv", "--out", tmp + "/findings.csv"])
"""


def run_split(tmp: Path, parallel_bytes: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _SPLIT_RUN, str(parallel_bytes), str(tmp)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_large_inputs_are_read_in_two_processes_with_the_same_results(tmp_path: Path) -> None:
    files(tmp_path, [quote_line(), quote_line(quote_id="Q-2", unit_price="1.00")])
    serial = run(tmp_path)
    expected = (tmp_path / "findings.csv").read_text()
    parallel = run_split(tmp_path, 0)
    assert parallel.stderr.startswith("split\n"), parallel.stderr
    assert parallel.returncode == serial.exit_code == 1
    assert (tmp_path / "findings.csv").read_text() == expected
    write_opportunities(tmp_path / "o.csv", [opportunity_line(contract_end="2026-13-01")])
    write_quotes(tmp_path / "q.csv", [quote_line(quote_date="yesterday")])
    refused = run_split(tmp_path, 0)  # the error crosses the process boundary intact
    assert refused.stderr.startswith("split\n"), refused.stderr
    assert refused.returncode == 2
    # With two bad files, the opportunities are blamed, as when read one after the other.
    assert "o.csv:2: column contract_end: '2026-13-01' is not a date" in refused.stderr
    alone = run_split(tmp_path, 10**12)
    assert alone.stderr.startswith("one process\n"), alone.stderr
    assert alone.stderr.partition("\n")[2] == refused.stderr.partition("\n")[2]


def test_extra_columns_are_ignored_and_never_converted(tmp_path: Path) -> None:
    files(tmp_path)
    rows = [{**quote_line(), "note": "1.5"}, {**quote_line(quote_id="Q-0"), "note": "n/a"}]
    write_csv(tmp_path / "q.csv", list(rows[0]), rows)
    result = run(tmp_path)
    assert result.exit_code == 1  # Q-1 duplicates Q-0, and nothing else
    assert "duplicate_quote" in result.stdout and "line_amount" not in result.stdout


def test_a_wrong_currency_po_with_cents_is_audited_not_refused(tmp_path: Path) -> None:
    """A JPY PO of 930340.34: AUDIT_SPEC's finding, never a reason to refuse the book."""
    files(tmp_path)
    po = {
        "quote_id": "Q-1",
        "po_number": "PO-1",
        "po_date": "2026-03-01",
        "po_amount": "930340.34",
        "po_currency": "JPY",
    }
    write_bookings(tmp_path / "b.csv", [po])
    result = run(tmp_path, "--bookings", str(tmp_path / "b.csv"))
    assert result.exit_code == 1, result.output
    with (tmp_path / "findings.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["rule"], r["expected"], r["actual"]) for r in rows] == [
        ("po_amount_mismatch", "9975.00", "930340.34"),
        ("po_currency_mismatch", "USD", "JPY"),
    ]


def test_a_line_amount_with_a_decimal_too_many_is_a_finding(tmp_path: Path) -> None:
    files(tmp_path, [quote_line(line_amount="9975.001", quote_total="9975.001")])
    result = run(tmp_path)
    assert result.exit_code == 1, result.output
    with (tmp_path / "findings.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["rule"], r["expected"], r["actual"]) for r in rows] == [
        ("line_amount_mismatch", "9975.00", "9975.001"),
    ]

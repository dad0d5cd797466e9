"""Writes the old-shape books (no line dates, no renew flags, no new rules keys) and the
findings that the audit gave on them before line co-terming existed.

Run once with the earlier release's code on the path, e.g.
`PYTHONPATH=<old>:<old>/benchmarks:<old>/tests <old venv>/bin/python make_golden.py`;
tests/test_old_shape_golden.py then checks today's audit gives the same bytes.
"""

from __future__ import annotations

import csv
import random
import sys
from pathlib import Path

from audit_bench import generate

from audit.batch import audit_files
from audit.findings_csv import write_findings
from schemas.rules import load_rules

HERE = Path(__file__).parent


def _perturb(folder: Path, seed: int) -> None:
    """Plant every kind of fault a real export has into the benchmark's clean-ish book."""
    rng = random.Random(seed)
    quotes_path, bookings_path = folder / "quotes.csv", folder / "bookings.csv"
    with quotes_path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    columns = list(rows[0])
    out = []
    quote_fault: dict[str, float] = {}
    for row in rows:
        per_quote = quote_fault.setdefault(row["quote_id"], rng.random())
        if per_quote < 0.03:
            row["currency"] = "EUR" if row["currency"] == "USD" else "USD"
        elif per_quote < 0.05:
            row["term_end"] = "2031-01-31"
        roll = rng.random()
        if roll < 0.02:
            continue  # missing_line
        if roll < 0.04:
            row["line_amount"] = str(int(float(row["line_amount"])) + 1) + (
                ".00" if "." in row["line_amount"] else ""
            )
        elif roll < 0.05:
            row["quantity"] = str(int(row["quantity"]) + 1)
        elif roll < 0.06 and row["line_no"] == "3":
            row["sku"] = "SKU-9999"
        out.append(row)
    # Whole-quote faults: a duplicate quote and an unknown opportunity.
    first = [r for r in out if r["quote_id"] == out[0]["quote_id"]]
    out += [{**r, "quote_id": "Q-99999998"} for r in first]
    out += [{**r, "quote_id": "Q-99999999", "opportunity_id": "OPP-NONE"} for r in first]
    with quotes_path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(out)
    with bookings_path.open(newline="") as handle:
        books = list(csv.DictReader(handle))
    for i, book in enumerate(books):
        if i % 17 == 3:
            book["po_amount"] = book["po_amount"][:-1] + "7"
        if i % 23 == 5:
            book["po_currency"] = {"USD": "EUR", "EUR": "USD", "JPY": "JPY"}[book["po_currency"]]
    books.append({**books[0], "quote_id": "Q-NOPE", "po_number": "PO-NOPE"})
    with bookings_path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(books[0]))
        writer.writeheader()
        writer.writerows(books)


def _sandbox_book(folder: Path) -> None:
    """The sandbox portal's exports after a perfect bot quoted every renewal (as the truth
    test does): its rules, opportunities and quotes, with every planted anomaly."""
    import io
    import shutil
    import tempfile
    from datetime import date

    from test_sandbox_core_truth import _schema

    from audit.pricing import UnpriceableError, price
    from sandbox.generate import generate as generate_portal
    from sandbox.portal import Portal

    today = date(2026, 1, 15)
    with tempfile.TemporaryDirectory() as scratch:
        paths = generate_portal(Path(scratch), 7, 80, today)
        shutil.copy(paths.rules, folder / "rules.yaml")
        with Portal(paths.db, today=today) as portal:
            for summary in portal.list_opportunities(per_page=200).items:
                opp = portal.get_opportunity(summary.opportunity_id)
                model = _schema(opp)
                try:
                    expected = price(model, load_rules(folder / "rules.yaml"), today)
                except UnpriceableError:
                    continue
                quote = portal.save_quote(
                    opp.opportunity_id,
                    external_ref=f"WI-{opp.opportunity_id}",
                    term_start=expected.term_start,
                    term_end=expected.term_end,
                    lines=[(ln.sku, ln.quantity, ln.unit_price) for ln in expected.lines],
                )
                portal.submit_quote(quote.quote_number)
            rows = list(csv.DictReader(io.StringIO(portal.opportunities_csv())))
            with (folder / "opportunities.csv").open("w", newline="") as out:
                writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
                writer.writeheader()
                writer.writerows(row for row in rows if row["contract_end"])
            (folder / "quotes.csv").write_text(portal.quotes_csv())


def main() -> None:
    sandbox = HERE / "sandbox"
    sandbox.mkdir(exist_ok=True)
    _sandbox_book(sandbox)
    files = [sandbox / n for n in ("rules.yaml", "opportunities.csv", "quotes.csv")]
    write_findings(audit_files(*files).findings, sandbox / "findings.csv")
    for name, lines, seed in (("bench", 2000, 7), ("faults", 3000, 11)):
        folder = HERE / name
        folder.mkdir(exist_ok=True)
        generate(folder, lines, seed)
        if name == "faults":
            _perturb(folder, seed)
        result = audit_files(
            *(folder / n for n in ("rules.yaml", "opportunities.csv", "quotes.csv", "bookings.csv"))
        )
        write_findings(result.findings, folder / "findings.csv")
        print(name, len(result.findings), result.by_rule, file=sys.stderr)  # noqa: T201


if __name__ == "__main__":
    main()

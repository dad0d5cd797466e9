"""Books of the old shape keep exactly the findings the audit gave before co-terming, price
methods and price holds existed: the benchmark's book, one with every kind of fault, and the
sandbox portal's exports after a perfect bot (no line dates, renew flags or new rules keys)."""

from __future__ import annotations

from pathlib import Path

import pytest

from audit.batch import as_findings, audit_files
from audit.findings_csv import write_findings
from audit.reference import audit_files_reference

BOOKS = Path(__file__).parent / "data" / "old_shape"


@pytest.mark.parametrize("name", ["bench", "faults", "sandbox"])
def test_old_shape_book_gives_the_same_findings_byte_for_byte(name: str, tmp_path: Path) -> None:
    folder = BOOKS / name
    names = ("rules.yaml", "opportunities.csv", "quotes.csv", "bookings.csv")
    files = [folder / f for f in names if (folder / f).exists()]
    result = audit_files(*files)
    write_findings(result.findings, tmp_path / "findings.csv")
    golden = (folder / "findings.csv").read_bytes()
    assert (tmp_path / "findings.csv").read_bytes() == golden
    assert as_findings(result.findings) == audit_files_reference(*files)

"""The Arrow reader reads what the pandas reader read, and refuses what it refused in the
same words; files Arrow cannot read are read by pandas, so their errors stay as they were."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from test_audit_helpers import opportunity_line, quote_line, write_csv, write_rules

from audit._csvfile import _read_arrow
from audit._parse import parse_exact
from audit.readers import (
    OPPORTUNITY_COLUMNS,
    OPPORTUNITY_OPTIONAL,
    QUOTE_COLUMNS,
    QUOTE_OPTIONAL,
    read_opportunities,
    read_quotes,
)
from schemas.errors import InputError
from schemas.rules import load_rules

SECOND = {"line_no": 2, "sku": "NET-LIC-200", "quantity": 1, "prior_unit_price": ""}


def _opportunities(path: Path, **second: Any) -> str:
    name = 'Société "Générale", Paris\nLa Défense'  # quoted: a comma, quotes, a newline
    rows = [
        opportunity_line(account_name=name, line_end=""),
        opportunity_line(account_name=name, line_end="2026-07-31", renew="no", **SECOND),
    ]
    rows[1].update(second)
    write_csv(path, [*OPPORTUNITY_COLUMNS, *OPPORTUNITY_OPTIONAL], rows)
    return path.read_text(encoding="utf-8")


Edit = Callable[[str], str]
_LINES: list[tuple[str, Edit, dict[str, Any], bool]] = [
    # (case, edit of the file's text, values of the second line, read by Arrow)
    ("as written", lambda text: text, {}, True),
    ("byte order mark and CRLF", lambda text: "\ufeff" + text.replace("\n", "\r\n"), {}, True),
    ("no newline at the end", lambda text: text.rstrip("\n"), {}, True),
    ("a price with a decimal too many", lambda text: text, {"prior_unit_price": "1.005"}, True),
    ("leading zeros", lambda text: text, {"quantity": "007"}, True),
    ("a quantity pandas reads as 5", lambda text: text, {"quantity": "5.0"}, False),
    ("a quantity with a sign", lambda text: text, {"quantity": "+5"}, False),
    ("a blank line", lambda text: text + "\n", {}, False),
    ("a short row", lambda text: text + "OPP-2,A-2\n", {}, False),
    ("a row too long", lambda text: text.replace(",no\n", ",no,x\n"), {}, False),
    ("bad bytes", lambda text: text.replace("Paris", "Par\udcffis"), {}, False),
    ("a quantity not a number", lambda text: text, {"quantity": "ten"}, False),
    ("full-width digits", lambda text: text, {"quantity": "１２"}, False),
    ("a price too long", lambda text: text, {"prior_unit_price": "1" * 30}, True),
    ("a price not ASCII", lambda text: text, {"prior_unit_price": "1é"}, True),
    ("a renew flag", lambda text: text, {"renew": "maybe"}, True),
    ("a line end after the term", lambda text: text, {"line_end": "2027-07-01"}, True),
]


def _read(path: Path, engine: str) -> pd.DataFrame | str:
    rules = load_rules(path.parent / "rules.yaml")
    try:
        return read_opportunities(path, rules, engine=engine)  # type: ignore[arg-type]
    except InputError as exc:
        return str(exc)


@pytest.mark.parametrize(
    ("edit", "second", "by_arrow"), [c[1:] for c in _LINES], ids=[c[0] for c in _LINES]
)
def test_both_readers_agree_on_opportunities(
    tmp_path: Path, edit: Edit, second: dict[str, Any], by_arrow: bool
) -> None:
    write_rules(tmp_path / "rules.yaml")
    path = tmp_path / "o.csv"
    text = edit(_opportunities(path, **second))
    path.write_bytes(text.encode("utf-8", errors="surrogateescape"))
    arrow, pandas = _read(path, "arrow"), _read(path, "pandas")
    if isinstance(pandas, str):
        assert arrow == pandas  # the same file, line, column and words
    else:
        assert isinstance(arrow, pd.DataFrame), arrow
        pd.testing.assert_frame_equal(arrow, pandas)
        assert arrow.attrs == pandas.attrs
    # Which files the fast path reads itself, and which it hands to pandas.
    columns = [*OPPORTUNITY_COLUMNS, *OPPORTUNITY_OPTIONAL]  # the header as written
    fast = _read_arrow(path, columns, columns, progress=False, integers=("quantity",))
    assert (fast is not None) == by_arrow


def test_both_readers_agree_on_quotes_with_line_dates(tmp_path: Path) -> None:
    rules = load_rules(write_rules(tmp_path / "rules.yaml"))
    dated = {"line_start": "2026-08-01", "line_end": "2027-06-30"}
    rows = [
        {**quote_line(), "line_start": "", "line_end": ""},
        {**quote_line(line_no=2, sku="NET-LIC-200", unit_price="0.5", line_amount="1"), **dated},
    ]
    write_csv(tmp_path / "q.csv", [*QUOTE_COLUMNS, *QUOTE_OPTIONAL], rows)
    arrow = read_quotes(tmp_path / "q.csv", rules)
    pd.testing.assert_frame_equal(arrow, read_quotes(tmp_path / "q.csv", rules, engine="pandas"))
    assert arrow["line_start"].tolist() == [20635, 20666]  # 2026-07-01 (the term), 08-01
    assert arrow["unit_price"].tolist() == [99750, 50]  # cents, exactly as written


@pytest.mark.parametrize("repeated", [True, False])
def test_amounts_scanned_from_arrow_buffers_parse_as_from_python_strings(repeated: bool) -> None:
    rng = np.random.default_rng(14)
    alphabet = np.array(list("0123456789.-é x"), dtype=object)
    cells = ["".join(rng.choice(alphabet, rng.integers(0, 27))) for _ in range(3_000)]
    cells += ["12.345", "-0.5", "930340.34", "9" * 18, "9" * 19, "1" * 23, "1" * 24, ".5", "5."]
    text = np.array(cells, dtype=object)
    places = rng.integers(0, 3, len(cells))
    arrow = pa.array(["-", *cells], pa.string()).slice(1)  # buffers starting at an offset
    for by_arrow, by_python in zip(
        parse_exact(arrow, places, repeated=repeated),
        parse_exact(text, places, repeated=repeated),
        strict=True,
    ):
        np.testing.assert_array_equal(by_arrow, by_python)
    # Exact, with no float: a JPY PO with cents is read, its extra decimals kept.
    units, bad, _, extra = parse_exact(pa.array(["12.345", "930340.34"]), np.array([2, 0]))
    assert extra == 2 and not bad.any() and units.tolist() == [123450, 93034034]

"""findings.csv written with Arrow is, byte for byte, what pandas' `to_csv` wrote before."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from audit.findings_csv import write_findings
from schemas.findings import FINDINGS_COLUMNS

AWKWARD = [
    "plain",
    "",
    "a, comma",
    'a "quote"',
    '"',
    "two\nlines",
    "carriage\rreturn",
    "  spaces kept  ",
    "ünïcödé €1,234.50",
    "'single'",
]


def findings(cells: list[str], storage: str) -> pd.DataFrame:
    n = len(cells)
    with pd.option_context("mode.string_storage", storage):
        frame = pd.DataFrame(
            {
                name: pd.Series(cells if i % 2 else list(reversed(cells)), dtype="str")
                for i, name in enumerate(FINDINGS_COLUMNS)
                if name != "line_no"
            }
        )
    frame["line_no"] = pd.array([None if k % 3 == 0 else k for k in range(n)], dtype="Int64")
    return frame.loc[:, list(FINDINGS_COLUMNS)]


@pytest.mark.parametrize("storage", ["pyarrow", "python"])
@pytest.mark.parametrize("rows", [0, 1, len(AWKWARD)])
def test_the_findings_file_is_what_pandas_wrote(tmp_path: Path, storage: str, rows: int) -> None:
    frame = findings(AWKWARD[:rows], storage)
    out = tmp_path / "findings.csv"
    write_findings(frame, out)
    assert out.read_bytes() == frame.to_csv(index=False, lineterminator="\n").encode("utf-8")
    assert [p.name for p in tmp_path.iterdir()] == ["findings.csv"]  # no temporary left


def test_an_object_column_is_written_as_text(tmp_path: Path) -> None:
    frame = findings(AWKWARD, "python").astype({"message": object})
    write_findings(frame, tmp_path / "findings.csv")
    expected = frame.to_csv(index=False, lineterminator="\n").encode("utf-8")
    assert (tmp_path / "findings.csv").read_bytes() == expected


def test_a_column_of_several_arrow_chunks_is_written_whole(tmp_path: Path) -> None:
    halves = [findings(AWKWARD[:4], "pyarrow"), findings(AWKWARD[4:], "pyarrow")]
    frame = pd.concat(halves, ignore_index=True)  # Arrow-backed columns of two chunks each
    write_findings(frame, tmp_path / "findings.csv")
    expected = frame.to_csv(index=False, lineterminator="\n").encode("utf-8")
    assert (tmp_path / "findings.csv").read_bytes() == expected

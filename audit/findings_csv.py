"""`findings.csv` as the audit team receives it: written whole or not at all.

Rendered with Arrow's string kernels, byte for byte what pandas' `to_csv` (Python's `csv`
module, lines ending in "\\n") wrote before: a cell is quoted, its quotes doubled, only
where it holds a comma, a quote or a "\\n"; an empty `line_no` is an empty cell.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

_NEEDS_QUOTES = r'[,"\n]'  # as csv.writer with lineterminator="\n" decides


def _cells(column: pd.Series) -> pa.Array:
    """One column as CSV cells: text, quoted where it must be."""
    if column.dtype == "Int64":  # line_no: NA where the finding is not about a line
        text = pc.cast(pa.array(column, type=pa.int64(), from_pandas=True), pa.string())
    else:
        # pandas' `str` columns are Arrow's already (object ones are converted once).
        text = pa.array(column, type=pa.string(), from_pandas=True)
    if isinstance(text, pa.ChunkedArray):  # a column pandas put together from several
        text = text.combine_chunks()
    text = pc.fill_null(text, "")
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(text, '"', '""'), '"', "")
    return pc.if_else(pc.match_substring_regex(text, _NEEDS_QUOTES), quoted, text)


def findings_text(findings: pd.DataFrame) -> list[bytes | pa.Buffer]:
    """findings.csv's bytes, in pieces to write one after the other: the header, then one
    line per finding (one buffer, the lines back to back as Arrow holds them)."""
    header = (",".join(str(name) for name in findings.columns) + "\n").encode("utf-8")
    if not len(findings):
        return [header]
    cells = [_cells(findings[name]) for name in findings.columns]
    lines = pc.binary_join_element_wise(pc.binary_join_element_wise(*cells, ","), "\n", "")
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)
    start, end = offsets[lines.offset], offsets[lines.offset + len(lines)]
    return [header, lines.buffers()[2][start:end]]


def write_findings(findings: pd.DataFrame, out: Path) -> None:
    """findings.csv, all at once: written beside `out`, then renamed over it."""
    handle = tempfile.NamedTemporaryFile(
        "wb", dir=out.parent, prefix=f".{out.name}.", suffix=".tmp", delete=False
    )
    try:
        with handle:
            for piece in findings_text(findings):
                handle.write(piece)
        os.replace(handle.name, out)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise

"""`findings.csv` as the audit team receives it: written whole or not at all."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd


def write_findings(findings: pd.DataFrame, out: Path) -> None:
    """findings.csv, all at once: written beside `out`, then renamed over it."""
    handle = tempfile.NamedTemporaryFile(
        "w", dir=out.parent, prefix=f".{out.name}.", suffix=".tmp", delete=False, encoding="utf-8"
    )
    try:
        with handle:
            findings.to_csv(handle, index=False, lineterminator="\n")  # NA line_no: empty
        os.replace(handle.name, out)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise

"""Reading one CSV file of AUDIT_SPEC as text columns, with errors naming file and line."""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from tqdm import tqdm

from schemas.errors import InputError

Text = npt.NDArray[np.object_]
_CHUNK_ROWS = 250_000
_PARSER_LINE = re.compile(r"line (\d+)")


def header(path: Path, required: Sequence[str]) -> list[str]:
    """The header row; `InputError` if the file is unreadable, empty or lacks a column."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            names = next(csv.reader(handle), None)
    except UnicodeDecodeError:
        raise InputError(path, _first_undecodable_line(path), "", "not UTF-8 text") from None
    except OSError as exc:
        raise InputError(path, 0, "", f"cannot read the file: {exc}") from None
    if not names:
        raise InputError(path, 1, "", "the file is empty (no header row)")
    for column in required:
        if column not in names:
            raise InputError(
                path, 1, column, f"missing column (the header has: {', '.join(names)})"
            )
    return names


def read_text_columns(
    path: Path,
    columns: Sequence[str],
    *,
    progress: bool,
    integers: Sequence[str] = (),
    optional: Sequence[str] = (),
) -> dict[str, npt.NDArray[Any]]:
    """The named columns as arrays of `str` (empty cells as ""), other columns ignored;
    of the `optional` columns, those the header has.

    `integers` are parsed to int64 by the CSV parser itself when every cell is a whole
    number (no Python object per cell); if one is not, they are read as text like the rest
    so that the validators can name the bad cell.
    """
    names = header(path, columns)
    columns = [*columns, *(name for name in optional if name in names)]
    try:
        return _read(path, columns, progress=progress, integers=integers)
    except ValueError as exc:
        if not integers or isinstance(exc, InputError | pd.errors.ParserError):
            raise
    return _read(path, columns, progress=progress, integers=())


def _read(
    path: Path, columns: Sequence[str], *, progress: bool, integers: Sequence[str]
) -> dict[str, npt.NDArray[Any]]:
    header(path, columns)
    chunks: list[pd.DataFrame] = []
    try:
        reader = pd.read_csv(
            path,
            # Text unless said otherwise, extra columns too: nothing is guessed or converted.
            dtype=_dtypes(integers),
            keep_default_na=False,
            na_filter=False,
            index_col=False,  # a row with a field too many is an error, not an index
            skip_blank_lines=False,
            encoding="utf-8-sig",  # a BOM (Excel exports) is not part of the header
            engine="c",
            chunksize=_CHUNK_ROWS,
        )
        bar = tqdm(
            total=_estimate_rows(path),
            unit=" lines",
            desc=f"reading {path.name}",
            disable=not progress,
            leave=False,
        )
        with reader, bar:
            for chunk in reader:
                chunks.append(chunk)
                bar.update(len(chunk))
    except pd.errors.ParserError as exc:
        match = _PARSER_LINE.search(str(exc))
        line = int(match.group(1)) if match else 0
        raise InputError(path, line, "", f"not a well-formed CSV row ({exc})") from None
    except UnicodeDecodeError:
        raise InputError(path, _first_undecodable_line(path), "", "not UTF-8 text") from None
    # Every column is read, so that a row with too many fields is refused; only ours are kept.
    return {
        name: np.concatenate([chunk[name].to_numpy() for chunk in chunks])
        if chunks
        else np.zeros(0, dtype=object)
        for name in columns
    }


def _dtypes(integers: Sequence[str]) -> defaultdict[str, Any]:
    types: defaultdict[str, Any] = defaultdict(lambda: object)
    types.update({name: np.int64 for name in integers})
    return types


def _estimate_rows(path: Path) -> int:
    """Roughly how many rows: file size over the mean line length of the first 64 KiB."""
    with path.open("rb") as handle:
        sample = handle.read(1 << 16)
    lines_per_byte = sample.count(b"\n") / max(len(sample), 1)
    return max(1, int(path.stat().st_size * lines_per_byte) - 1)


def _first_undecodable_line(path: Path) -> int:
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                return number
    return 0

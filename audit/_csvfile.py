"""Reading one CSV file of AUDIT_SPEC as text columns, with errors naming file and line."""

from __future__ import annotations

import csv
import mmap
import re
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pcsv
from tqdm import tqdm

from audit._text import Column
from schemas.errors import InputError

_CHUNK_ROWS = 250_000
_BLOCK_BYTES = 16 << 20
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


Engine = Literal["arrow", "pandas"]


def read_text_columns(
    path: Path,
    columns: Sequence[str],
    *,
    progress: bool,
    integers: Sequence[str] = (),
    optional: Sequence[str] = (),
    engine: Engine = "arrow",
) -> dict[str, Column]:
    """The named columns as text (empty cells as ""), other columns ignored; of the
    `optional` columns, those the header has.

    `integers` come as int64 arrays when every cell is a whole number; if one is not, as
    text like the rest, so that the validators can name the bad cell.

    Arrow reads the file (`engine="arrow"`) unless it refuses it; then pandas' reader, the
    one before Arrow (`engine="pandas"`, also the benchmark's baseline), reads it again, so
    that a malformed file is refused with the same line and words as ever.
    """
    names = header(path, columns)
    columns = [*columns, *(name for name in optional if name in names)]
    if engine == "arrow":
        cols = _read_arrow(path, names, columns, progress=progress, integers=integers)
        if cols is not None:
            return cols
    try:
        return _read(path, columns, progress=progress, integers=integers)
    except ValueError as exc:
        if not integers or isinstance(exc, InputError | pd.errors.ParserError):
            raise
    return _read(path, columns, progress=progress, integers=())


def _read_arrow(
    path: Path,
    names: Sequence[str],
    columns: Sequence[str],
    *,
    progress: bool,
    integers: Sequence[str],
) -> dict[str, Column] | None:
    """The columns as Arrow text arrays (integers as int64), or None where Arrow refuses
    the file (a row with too many or too few fields, a blank line, bytes not UTF-8) or an
    integer column holds anything but digits."""
    read = pcsv.ReadOptions(column_names=list(names), skip_rows=1, block_size=_BLOCK_BYTES)
    # A blank line is a row (of one empty field), as the pandas reader counts lines. A value
    # can hold a line break only between quotes: a file without any is split into blocks
    # at any line break (a third less work than tracking quotes across the blocks).
    parse = pcsv.ParseOptions(newlines_in_values=_has_quotes(path), ignore_empty_lines=False)
    # Every column is text, extra ones too: nothing is guessed, and all of it must be UTF-8.
    # Whole numbers are parsed by Arrow; a cell it refuses sends the file to pandas' reader.
    types = dict.fromkeys(names, pa.string())
    types.update(dict.fromkeys(integers, pa.int64()))
    convert = pcsv.ConvertOptions(column_types=types, strings_can_be_null=False)
    try:
        if progress:  # block by block, to show how far it got
            table = _read_arrow_blocks(path, read, parse, convert)
        else:  # the blocks parsed on every core at once
            table = pcsv.read_csv(path, read, parse, convert)
    except pa.ArrowInvalid:
        return None
    cols: dict[str, Column] = {}
    for name in columns:
        column = table.column(name)
        if name in integers:
            if column.null_count:  # an empty cell (or "NA"): pandas says what is wrong
                return None
            cols[name] = column.to_numpy()
        else:
            cols[name] = column.combine_chunks()
    return cols


def _has_quotes(path: Path) -> bool:
    """Whether the file holds a double quote anywhere (memchr over the bytes: fast)."""
    with path.open("rb") as handle:
        if not path.stat().st_size:
            return False
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
            return data.find(b'"') >= 0


def _read_arrow_blocks(
    path: Path, read: pcsv.ReadOptions, parse: pcsv.ParseOptions, convert: pcsv.ConvertOptions
) -> pa.Table:
    batches = []
    with pcsv.open_csv(path, read, parse, convert) as reader, _progress(path, True) as bar:
        for batch in reader:
            batches.append(batch)
            bar.update(batch.num_rows)
    return pa.Table.from_batches(batches, schema=reader.schema)


def _read(
    path: Path, columns: Sequence[str], *, progress: bool, integers: Sequence[str]
) -> dict[str, Column]:
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
        bar = _progress(path, progress)
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


def _progress(path: Path, shown: bool) -> tqdm[Any]:
    return tqdm(
        total=_estimate_rows(path),
        unit=" lines",
        desc=f"reading {path.name}",
        disable=not shown,
        leave=False,
    )


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

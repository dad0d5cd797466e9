"""Vectorised parsing of CSV text columns: exact decimals to integer minor units, no float.

Each parser takes an object array of `str` and returns the values and a mask of the rows
that are not valid, so the reader can name the first bad line.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from audit._text import Text, factorize

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

_WIDTH = 24  # longer numbers are refused: 18 digits is all an int64 holds exactly
_MAX_DIGITS = 18
_POW10 = np.array([10**k for k in range(_MAX_DIGITS + 1)], dtype=np.int64)
_DOT, _MINUS, _ZERO = ord("."), ord("-"), ord("0")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
EPOCH = date(1970, 1, 1)


def _byte_columns(values: Text) -> tuple[npt.NDArray[np.uint8], IntArray]:
    """The cells' bytes as a (position, row) matrix, zero-padded, and each cell's length.

    Cells longer than `_WIDTH` are cut there (and refused: see `_scan`); a non-ASCII
    character is never a digit, so its cell is refused either way.
    """
    if isinstance(values, pa.Array):
        return _arrow_byte_columns(values)
    try:
        raw = values.astype(f"S{_WIDTH}")
    except UnicodeEncodeError:
        ascii_only = np.fromiter((v.isascii() for v in values), bool, len(values))
        raw = np.where(ascii_only, values, "?").astype(f"S{_WIDTH}")
    m = raw.view(np.uint8).reshape(len(values), _WIDTH)
    length = np.count_nonzero(m, axis=1)
    width = max(int(length.max(initial=0)), 1)
    return np.ascontiguousarray(m[:, :width].T), length


def _arrow_byte_columns(values: pa.Array) -> tuple[npt.NDArray[np.uint8], IntArray]:
    """As `_byte_columns`, straight from the Arrow buffers: no Python string per cell."""
    offset_type = np.int64 if pa.types.is_large_string(values.type) else np.int32
    _, offsets_buffer, data_buffer = values.buffers()
    n = len(values)
    skip = values.offset * np.dtype(offset_type).itemsize
    offsets = np.frombuffer(offsets_buffer, offset_type, count=n + 1, offset=skip)
    offsets = offsets.astype(np.int64)
    data = np.frombuffer(data_buffer, dtype=np.uint8) if data_buffer is not None else None
    start, length = offsets[:-1], np.minimum(np.diff(offsets), _WIDTH)
    width = max(int(length.max(initial=0)), 1)
    cols = np.zeros((width, n), dtype=np.uint8)
    if data is not None and len(data):
        last = len(data) - 1
        for j in range(width):
            inside = j < length
            cols[j] = np.where(inside, data[np.minimum(start + j, last)], 0)
    return cols, length


def parse_decimal(
    values: Text,
    places: IntArray | int,
    *,
    signed: bool = True,
    repeated: bool = True,
) -> tuple[IntArray, BoolArray, BoolArray]:
    """`-?digits[.digits]` to integers scaled by `10**places` (per row or one for all).

    Returns `(units, bad, empty)`: `bad` marks text that is not such a number, has more
    decimals than `places` allows, or is too large; `empty` marks empty cells. Each distinct
    text is scanned once when `repeated` (few distinct values), else every cell is scanned.
    """
    units, bad, empty, _ = _parse(values, places, signed=signed, repeated=repeated, excess=False)
    return units, bad, empty


def parse_exact(
    values: Text, places: IntArray | int, *, repeated: bool = True
) -> tuple[IntArray, BoolArray, BoolArray, int]:
    """Like `parse_decimal`, but more decimals than `places` are read, not refused.

    Returns `(units, bad, empty, extra)`: units are scaled by `10**(places + extra)`, where
    `extra` is the most decimals any cell has beyond its `places` (0 for a clean file).
    """
    return _parse(values, places, signed=True, repeated=repeated, excess=True)


def _parse(
    values: Text,
    places: IntArray | int,
    *,
    signed: bool,
    repeated: bool,
    excess: bool,
) -> tuple[IntArray, BoolArray, BoolArray, int]:
    uniques: Text
    if repeated:
        codes, uniques = factorize(values)
    else:
        codes, uniques = np.arange(len(values)), values
    digits, fraction, malformed, empty = _scan(uniques, signed=signed)
    places = np.broadcast_to(np.asarray(places, dtype=np.int64), (len(values),))
    fraction, digits, malformed = fraction[codes], digits[codes], malformed[codes]
    extra = 0
    if excess:
        over = np.where(malformed, 0, fraction - places)
        extra = max(int(over.max(initial=0)), 0)
        places = places + extra
    bad = malformed | (fraction > places)
    bad |= _magnitude(digits) - fraction + places > _MAX_DIGITS
    units = np.where(bad, 0, digits * _POW10[np.clip(places - fraction, 0, _MAX_DIGITS)])
    return units, bad & ~empty[codes], empty[codes], extra


def _magnitude(numbers: IntArray) -> IntArray:
    """How many digits the integer part of each number has when written (0 counts as 1)."""
    return np.searchsorted(_POW10, np.abs(numbers), side="right").astype(np.int64)


def _scan(values: Text, *, signed: bool) -> tuple[IntArray, IntArray, BoolArray, BoolArray]:
    """`(all digits as one signed integer, decimals written, malformed, empty)` per text."""
    if isinstance(values, pa.Array):
        return _scan_arrow(values, signed=signed)
    n = len(values)
    cols, length = _byte_columns(values)  # one row per character position: fast
    width = len(cols)
    is_digit = (cols >= _ZERO) & (cols <= _ZERO + 9)
    is_dot = cols == _DOT
    neg = cols[0] == _MINUS
    dots = np.count_nonzero(is_dot, axis=0)
    dot_at = np.where(dots > 0, np.argmax(is_dot, axis=0), length)
    fraction = np.where(dots > 0, length - dot_at - 1, 0)
    n_digits = np.count_nonzero(is_digit, axis=0)
    bad = n_digits + neg + dots != length
    bad |= (dots > 1) | (dot_at - neg < 1) | ((dots == 1) & (fraction < 1))
    bad |= (n_digits > _MAX_DIGITS) | (length >= _WIDTH)
    if not signed:
        bad |= neg
    digits = np.zeros(n, dtype=np.int64)
    for j in range(width):
        digits = np.where(is_digit[j], digits * 10 + (cols[j] - _ZERO), digits)
    digits = np.where(neg, -digits, digits)
    return np.where(bad, 0, digits), fraction.astype(np.int64), bad, length == 0


_NUMBER = r"^-?[0-9]+(\.[0-9]+)?$"


def _scan_arrow(
    values: pa.Array, *, signed: bool
) -> tuple[IntArray, IntArray, BoolArray, BoolArray]:
    """As `_scan`, with Arrow's kernels on Arrow text: no Python object, no byte matrix."""
    length = _numpy(pc.binary_length(values))
    dot = _numpy(pc.find_substring(values, "."))
    neg = _numpy(pc.starts_with(values, "-"))
    shaped = _numpy(pc.match_substring_regex(values, _NUMBER))
    n_digits = length - neg - (dot >= 0)
    bad = ~shaped | (n_digits > _MAX_DIGITS) | (length >= _WIDTH)
    if not signed:
        bad |= neg
    fraction = np.where(dot >= 0, length - dot - 1, 0)
    # The digits as one integer: the dot dropped, then Arrow's own (exact) integer parsing.
    plain = pc.replace_substring(pc.if_else(pa.array(bad), "0", values), ".", "")
    digits = _numpy(pc.cast(plain, pa.int64()))
    return digits, fraction, bad, length == 0


def _numpy(values: pa.Array) -> npt.NDArray[Any]:
    return np.asarray(values.to_numpy(zero_copy_only=False))


def parse_dates(values: Text) -> tuple[IntArray, BoolArray]:
    """`YYYY-MM-DD` to days since 1970-01-01; each distinct text is parsed once."""
    codes, uniques = factorize(values)
    days = np.empty(len(uniques), dtype=np.int64)
    ok = np.empty(len(uniques), dtype=bool)
    for i, text in enumerate(uniques):
        try:
            if not _DATE.fullmatch(text):
                raise ValueError(text)
            days[i], ok[i] = (date.fromisoformat(text) - EPOCH).days, True
        except ValueError:
            days[i], ok[i] = 0, False
    return days[codes], ~ok[codes]


def to_date(days: int) -> date:
    return date.fromordinal(EPOCH.toordinal() + int(days))

"""The one error type for bad input files, so every reader reports file, line and column."""

from __future__ import annotations

from pathlib import Path


class InputError(ValueError):
    """Raised by the CSV readers and the rules loader when a file cannot be used as it is.

    `line` is the 1-based line in the file (1 is the header; 0 when the file as a whole is
    wrong) and `column` the CSV column or rules key; the audit team fixes the file there.
    """

    def __init__(self, file: str | Path, line: int, column: str, message: str) -> None:
        self.file = str(file)
        self.line = line
        self.column = column
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        what = f" column {self.column}:" if self.column else ""
        return f"{where}:{what} {self.message}"

    def __reduce__(self) -> tuple[type, tuple[str, int, str, str]]:
        # Rebuilt from its fields when it crosses a process boundary (parallel reading).
        return (InputError, (self.file, self.line, self.column, self.message))


class RulesError(InputError):
    """Raised by `load_rules` for a rules file that is unreadable or breaks the schema."""

    def __init__(self, file: str | Path, key: str, message: str, line: int = 0) -> None:
        self.key = key
        super().__init__(file, line, key, message)

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        what = f" key {self.key}:" if self.key else ""
        return f"{where}:{what} {self.message}"

    def __reduce__(self) -> tuple[type, tuple[str, str, str, int]]:  # type: ignore[override]
        return (RulesError, (self.file, self.key, self.message, self.line))


def first_line(exc: BaseException) -> str:
    """What a person reads of an error in a one-line place (a run's error, a log line):
    its message's first line, or its type when it has no message."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__

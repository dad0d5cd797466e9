"""The secrets file: `NAME=value` lines kept outside the repository (mode 0600)."""

from __future__ import annotations

from pathlib import Path


class SecretsFileError(ValueError):
    """Raised when the secrets file cannot be read or a line is not `NAME=value`; the message
    names the file and line, never the line's text (it may hold a secret)."""


def read_secrets_file(path: Path | None) -> dict[str, str]:
    """`NAME=value` lines (blank lines and `#` comments skipped); {} without a file."""
    if path is None:
        return {}
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SecretsFileError(f"{path}: cannot read: {exc.strerror}") from None
    values = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, equals, value = line.partition("=")
        if not equals or not name.strip():
            raise SecretsFileError(f"{path}:{number}: not NAME=value")
        values[name.strip()] = value.strip()
    return values

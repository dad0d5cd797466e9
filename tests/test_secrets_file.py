"""One reader of the secrets file for the bots and the alerts: a bad line is named by file
and line, never by its text (it may hold a secret)."""

from __future__ import annotations

from pathlib import Path

import pytest

from alerts import AlertConfigError
from bots import EngagementRefused
from bots._session import read_secrets_file as bots_reader
from common.secrets_file import read_secrets_file

SECRET = "hunter2-very-secret"


def test_names_and_values_are_read_comments_and_blank_lines_skipped(tmp_path: Path) -> None:
    path = tmp_path / "secrets"
    path.write_text(f"# portal\n\nACME_PASSWORD = {SECRET}\nHOOK=whsec_abc=\n", encoding="utf-8")
    assert read_secrets_file(path) == {"ACME_PASSWORD": SECRET, "HOOK": "whsec_abc="}
    assert read_secrets_file(None) == {}


def test_a_bad_line_is_named_by_file_and_line_for_bots_and_alerts(tmp_path: Path) -> None:
    from alerts._config import _secrets_file as alerts_reader

    path = tmp_path / "secrets"
    path.write_text(f"OK=1\n{SECRET}\n", encoding="utf-8")
    with pytest.raises(EngagementRefused) as refused:
        bots_reader(path)
    with pytest.raises(AlertConfigError) as config:
        alerts_reader(path)
    assert f"{path}:2: not NAME=value" in str(refused.value)
    assert str(config.value) == f"secrets_file: {path}:2: not NAME=value"
    assert SECRET not in str(refused.value) + str(config.value)

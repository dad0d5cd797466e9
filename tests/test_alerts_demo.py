"""The demo says where its alerts would go, in one line, with no secret in its output."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from alert_helpers import SECRET, SMTP_PASSWORD, Receiver, alert_env, secrets_lines


@pytest.mark.slow
def test_the_demo_says_where_alerts_would_go(tmp_path: Path) -> None:
    endpoint = Receiver()  # never started: the demo only says where notices would go
    secrets = tmp_path / "secrets.env"
    secrets.write_text(secrets_lines(), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUOTEBOT_")}
    env |= alert_env(2525, tmp_path / "ca.pem", endpoint) | {"QUOTEBOT_SECRETS_FILE": str(secrets)}
    home = tmp_path / "demo"
    args = ["demo", "--opportunities", "10", "--workers", "1", "--home", str(home)]
    result = subprocess.run(
        [sys.executable, "-m", "quotebot", "-v", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = [line for line in result.stdout.splitlines() if line.startswith("alerts")]
    assert lines == [
        "alerts would go to: e-mail to ops@example.com via 127.0.0.1:2525; "
        f"webhook http://127.0.0.1:{endpoint.port}/hooks/quotebot"
    ]
    for text in (result.stdout, result.stderr):
        assert SMTP_PASSWORD not in text and SECRET not in text and "token=abc" not in text

"""`quotebot demo`, as a newcomer runs it (20 renewals a portal, to keep the suite fast)."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from store import open_store


def test_the_demo_quotes_books_audits_and_reports_through_the_scheduler(tmp_path: Path) -> None:
    home = tmp_path / "demo"
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUOTEBOT_")}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "quotebot",
            "demo",
            "--opportunities",
            "20",
            "--workers",
            "1",
            "--home",
            str(home),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )

    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    entered = re.search(r"quotes entered and verified: (\d+) entered, (\d+) verified", out)
    assert entered is not None, out
    assert int(entered.group(1)) > 0 and int(entered.group(2)) > 0
    assert re.search(r"first-pass accuracy: \d+\.\d%", out), out
    assert re.search(r"flagged for the quote audit team: \d+ quotes", out), out
    assert re.search(r"read -> entered: p50 \d+\.\d s, p90 \d+\.\d s", out), out
    assert f"manager report     {home / 'report.html'}" in out
    assert "quotebot report" in (home / "report.html").read_text().lower()
    for flavour in ("acme", "globex"):
        with (home / "audit" / flavour / "findings.csv").open() as findings:
            assert next(csv.reader(findings))[:2] == ["quote_id", "opportunity_id"]
    # Quoting and booking ran as the scheduler's jobs, whose schedules stay for later.
    with open_store(f"sqlite:///{home / 'quotebot.sqlite'}") as store:
        runs = store.runs()
        assert sorted((r.engagement, r.kind.value) for r in runs) == [
            ("acme", "booking"),
            ("acme", "quote"),
            ("globex", "booking"),
            ("globex", "quote"),
        ]
        assert {r.status.value for r in runs} == {"succeeded"}
    listed = subprocess.run(
        [sys.executable, "-m", "quotebot", "schedule", "list"],
        env={**env, "QUOTEBOT_HOME": str(home)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert len(listed.splitlines()) == 4
    assert "QUOTEBOT_DEMO_ACME_PASSWORD" in (home / "engagements.yaml").read_text()
    password = json.loads((home / "portals" / "acme" / "credentials.json").read_text())["password"]
    assert password not in (home / "engagements.yaml").read_text()

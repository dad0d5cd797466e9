"""`quotebot demo`, as a newcomer runs it (10 renewals a portal, to keep the suite fast)."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from store import open_store
from web.report import hours


@pytest.mark.slow
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
            "10",
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
    assert re.search(r"first-pass accuracy: \d+\.\d %", out), out
    assert re.search(r"flagged for the quote audit team: \d+ quotes", out), out
    assert re.search(r"read -> entered: p50 \d+ (s|min), p90 \d+ (s|min)", out), out
    _the_report_says_what_the_demo_printed(home, env, out)
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
    assert len(listed.splitlines()) == 1 + 4  # a header row, then the four schedules
    assert "QUOTEBOT_DEMO_ACME_PASSWORD" in (home / "engagements.yaml").read_text()
    password = json.loads((home / "portals" / "acme" / "credentials.json").read_text())["password"]
    assert password not in (home / "engagements.yaml").read_text()
    # Its logs are under --home, with the bots' records; nothing went to ./var/logs.
    records = [
        json.loads(line)["record"]
        for line in (home / "logs" / "quotebot.jsonl").read_text().splitlines()
    ]
    assert {r["extra"].get("engagement") for r in records} >= {"acme", "globex"}
    assert not (tmp_path / "var").exists()


def _the_report_says_what_the_demo_printed(home: Path, env: dict[str, str], out: str) -> None:
    """`quotebot report --format csv` on the demo's home, read independently of the demo's
    text, gives every figure the demo printed."""
    today = datetime.now(UTC).date()
    csv_path = home / "figures.csv"
    subprocess.run(
        [
            *(sys.executable, "-m", "quotebot", "report", "--format", "csv"),
            *("--since", str(today - timedelta(days=29)), "--until", str(today)),
            *("--out", str(csv_path)),
        ],
        env={**env, "QUOTEBOT_HOME": str(home)},
        check=True,
        capture_output=True,
    )
    figures: dict[tuple[str, str, str, str], str] = {}
    with csv_path.open() as file:
        for row in csv.DictReader(file):
            key = (row["Table"], row["Engagement"], row["From → to"], row["Figure"])
            figures[key] = row["Value"]

    def count(table: str, engagement: str, metric: str) -> int:
        return int(float(figures[(table, engagement, "", metric)]))

    per, states = "Per engagement", "Work items now"

    for name in ("acme", "globex"):
        printed = re.search(
            rf"{name} +renewals due (\d+): quotes entered (\d+), verified (\d+) \((\d+) on first "
            r"read-back\), flagged (\d+), to review (\d+), failed (\d+); booked (\d+)",
            out,
        )
        assert printed is not None, out
        assert [int(g) for g in printed.groups()] == [
            count(states, name, "Renewals"),
            count(per, name, "Entered"),
            count(per, name, "Verified"),
            count(per, name, "Right on first read-back"),
            count(states, name, "flagged"),
            count(states, name, "bad data, to review"),
            count(states, name, "failed (system)"),
            count(per, name, "Booked"),
        ]
    rate = float(figures[(per, "all", "", "First-pass accuracy (%)")])
    assert f"first-pass accuracy: {rate:.1f} %" in out
    for span, words in (
        ("opportunity read → quote entered", "read -> entered"),
        ("quote entered → verified", "entered -> verified"),
    ):
        p50 = hours(float(figures[("Cycle times", "all", span, "Median (half took less) (hours)")]))
        p90 = hours(float(figures[("Cycle times", "all", span, "9 in 10 took less than (hours)")]))
        assert f"{words}: p50 {p50}, p90 {p90}" in out

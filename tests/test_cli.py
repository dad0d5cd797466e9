"""The `quotebot` commands operations staff use: help texts, schedules, runs, retries."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

import scheduler
from quotebot import cli
from sandbox.generate import generate
from schemas.settings import Settings
from schemas.work import FailureKind, RunStatus
from store import open_store

REPO = Path(__file__).resolve().parents[1]
COMMANDS = [
    ["schedule"],
    ["schedule", "list"],
    ["schedule", "add"],
    ["schedule", "pause"],
    ["schedule", "resume"],
    ["schedule", "remove"],
    ["schedule", "run-now"],
    ["scheduler"],
    ["scheduler", "start"],
    ["run"],
    ["runs"],
    ["runs", "list"],
    ["runs", "show"],
    ["items"],
    ["items", "retry"],
    ["check-selectors"],
    ["audit"],
    ["sandbox"],
    ["demo"],
]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("QUOTEBOT_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("QUOTEBOT_DATABASE_URL", raising=False)
    return tmp_path / "home"


def quotebot(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("command", COMMANDS, ids=[" ".join(c) for c in COMMANDS])
def test_every_command_explains_itself(command: list[str]) -> None:
    text = quotebot(*command, "--help")
    summary = text.split("\n\n")[1].strip()
    assert len(summary) > 20 and not summary.startswith("None"), text


def test_schedules_are_added_paused_resumed_run_now_and_removed(tmp_path: Path, home: Path) -> None:
    generate(tmp_path / "portal", 7, 5, date(2026, 1, 15), client="acme")
    engagement = {
        "name": "acme",
        "flavour": "acme",
        "url": "http://127.0.0.1:9",
        "username_env": "ACME_USER",
        "password_env": "ACME_PASSWORD",
        "selectors": str(REPO / "selectors" / "acme.yaml"),
        "rules": "portal/rules.yaml",
        "schedules": {"quote": "0 6 * * 1-5", "booking": "30 14 * * 1-5"},
        "timezone": "America/New_York",
    }
    path = tmp_path / "engagements.yaml"
    path.write_text(yaml.safe_dump({"engagements": [engagement]}))

    assert "scheduled acme booking" in quotebot(
        "schedule", "add", "acme", "--engagements", str(path)
    )
    listed = quotebot("schedule", "list").splitlines()
    # A header row, then the schedules in words with their time zone: no trigger repr.
    assert listed[0].split() == ["ENGAGEMENT", "RUNS", "NEXT", "RUN", "(UTC)", "WHEN"]
    assert listed[1].startswith("acme") and "quoting" in listed[1]
    assert listed[1].endswith("06:00, Monday to Friday, America/New_York"), listed[1]
    assert listed[2].endswith("14:30, Monday to Friday, America/New_York"), listed[2]
    assert not any("cron[" in line or "hour=" in line for line in listed)
    assert "acme booking: paused, no run until resumed" in quotebot(
        "schedule", "pause", "acme", "--kind", "booking"
    )
    # Again, after an edit: the paused schedule says it is paused, not a next run.
    added = quotebot("schedule", "add", "acme", "--engagements", str(path))
    assert "scheduled acme booking: paused, no run until resumed" in added, added
    still = [line.split()[:3] for line in quotebot("schedule", "list").splitlines()]
    assert ["acme", "booking", "paused"] in still, "a pause survives `schedule add`"
    assert "paused" not in quotebot("schedule", "resume", "acme")
    assert "run asked for now" in quotebot("schedule", "run-now", "acme", "--kind", "booking")
    assert "removed acme quote" in quotebot("schedule", "remove", "acme", "--kind", "quote")
    rows = quotebot("schedule", "list").splitlines()[1:]
    assert [line.split()[1] for line in rows] == ["booking"]
    missing = CliRunner().invoke(cli, ["schedule", "pause", "acme", "--kind", "quote"])
    assert missing.exit_code == 1 and "no quote schedule for 'acme'" in missing.output
    for command in (["schedule", "add", "acmee"], ["worker", "--engagement", "acmee"]):
        unknown = CliRunner().invoke(cli, [*command, "--engagements", str(path)])
        assert unknown.exit_code == 1, unknown.output
        assert f"{path}: no engagement 'acmee' (known: acme)" in unknown.output

    # What operations do on the web pages reaches the job store the same way.
    store = scheduler.process_store(Settings())
    [control] = [c for c in store.schedule_controls() if c.kind == "booking"]
    assert control.changed_by.startswith("cli:") and control.run_requested_at is not None
    with scheduler.job_editor(Settings()) as editor:
        controls = scheduler.Controls(editor, store, grace_s=900)
        controls.apply()  # the command line's own controls agree with the job store
        assert editor.get_job("booking:acme").next_run_time is not None
        store.control_schedule("acme", "booking", "ops", paused=True)
        controls.apply()
        assert editor.get_job("booking:acme").next_run_time is None
        store.control_schedule("acme", "booking", "ops", paused=False, run_now=True)
        controls.apply()
        due = editor.get_job("booking:acme").next_run_time
        assert due is not None and due <= datetime.now(UTC)


def test_runs_are_listed_and_shown_and_a_failed_item_is_retried(home: Path) -> None:
    home.mkdir(parents=True)
    with open_store(f"sqlite:///{home / 'quotebot.sqlite'}") as store:
        store.ensure_engagement("acme", "acme", "http://127.0.0.1:9/")
        run = store.start_run("acme", "quote")
        item = store.ensure_item(
            "acme", "OPP-1", contract_end=date(2026, 5, 1), account_name="Initech", data={}
        )
        store.fail(
            item.id,
            FailureKind.SYSTEM,
            "portal answered 503 three times",
            code="http_503",
            run_id=run.id,
        )
        store.finish_run(run.id, RunStatus.SUCCEEDED, {"failed": 1, "to_review": 2, "no_po_yet": 3})

    header, row = quotebot("runs", "list").splitlines()
    assert header.split()[:5] == ["RUN", "ENGAGEMENT", "KIND", "ENDED", "STARTED"], header
    # Items failed: the run finished, with failures; never plainly "succeeded".
    assert "acme             quoting  finished, with failures" in row, row
    shown = quotebot("runs", "show", str(run.id))
    # The words of the web pages (schemas.work.OUTCOMES), not the counts' keys.
    assert "counts: failed 1, no PO yet 3, bad data, to review 2" in shown, shown
    assert "failed (system): portal answered 503 three times [http_503]" in shown, shown
    assert "is new again" in quotebot("items", "retry", str(item.id))
    again = CliRunner().invoke(cli, ["items", "retry", str(item.id)])
    assert again.exit_code == 1 and "only failed items can be retried" in again.output
    with open_store(f"sqlite:///{home / 'quotebot.sqlite'}") as store:
        retried = store.item(item.id)
        assert retried.state == "new" and retried.attempts == 0
        assert store.events(item.id)[-1].reason == "retried by operations"


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("", "quotebot demo --fleet needs QUOTEBOT_DATABASE_URL"),
        ("::nonsense", "QUOTEBOT_DATABASE_URL is not a database URL"),
        ("sqlite:///elsewhere.sqlite", "the fleet needs PostgreSQL"),
        (
            "postgresql+psycopg://ops:s3cret-pw@127.0.0.1:1/fleet",
            "cannot reach PostgreSQL at postgresql+psycopg://ops:***@127.0.0.1:1/fleet",
        ),
    ],
)
def test_the_fleet_demo_refuses_a_database_it_cannot_use_and_never_shows_its_password(
    home: Path, monkeypatch: pytest.MonkeyPatch, url: str, said: str
) -> None:
    monkeypatch.setenv("QUOTEBOT_DATABASE_URL", url)
    result = CliRunner().invoke(cli, ["demo", "--fleet", "--home", str(home)])
    assert result.exit_code == 1, result.output
    assert said in result.output and "s3cret-pw" not in result.output


def test_a_portal_busy_at_login_is_one_line_without_v_and_a_traceback_with_it(
    tmp_path: Path,
) -> None:
    """The portal answers 503 to everything: `quotebot run` says so in one line; -v adds
    where it failed (the JSON log has the traceback either way)."""
    import os
    import subprocess
    import sys

    from bot_helpers import engagement_for, portal_env, write_engagements
    from sandbox_helpers import running_portal

    from sandbox.config import FaultConfig

    busy = FaultConfig(error_rate=1.0)
    with running_portal(tmp_path / "portal", "acme", opportunities=5, faults=busy) as portal:
        engagement = engagement_for(portal)
        path = write_engagements(tmp_path / "engagements.yaml", [engagement])
        env = {
            **os.environ,
            **portal_env(engagement),
            "QUOTEBOT_HOME": str(tmp_path / "home"),
            "QUOTEBOT_RETRY__ATTEMPTS": "2",
            "QUOTEBOT_RETRY__FIRST_WAIT_S": "0.1",
        }
        args = ["run", "acme", "--engagements", str(path), "--kind", "quote", "--no-progress"]
        said = {}
        for verbose in ([], ["-v"]):
            done = subprocess.run(
                [sys.executable, "-m", "quotebot", *verbose, *args],
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert done.returncode == 1, done.stderr
            said[bool(verbose)] = done.stderr.splitlines()
    assert len(said[False]) == 1, said[False]
    assert "run failed: the login page is unavailable" in said[False][0]
    assert any(line.startswith("Traceback") for line in said[True]), said[True]
    log = (tmp_path / "home" / "logs" / "quotebot.jsonl").read_text()
    assert "Traceback" in log or '"traceback"' in log or "PortalBusy" in log


def test_serve_prints_its_address(home: Path) -> None:
    import os
    import socket
    import subprocess
    import sys
    import time

    import httpx

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        unused_port = probe.getsockname()[1]

    env = {**os.environ, "QUOTEBOT_HOME": str(home), "QUOTEBOT_DEMO": "1"}
    server = subprocess.Popen(
        [sys.executable, "-m", "quotebot", "serve", "--port", str(unused_port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        first = server.stdout.readline()
        assert first.startswith(f"quotebot's pages: http://127.0.0.1:{unused_port}/"), first
        answer = None
        for _ in range(100):
            try:
                answer = httpx.get(f"http://127.0.0.1:{unused_port}/login", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert answer is not None and answer.status_code == 200 and "Sign in" in answer.text
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_a_bad_data_item_is_retried_only_with_a_note(home: Path) -> None:
    home.mkdir(parents=True)
    with open_store(f"sqlite:///{home / 'quotebot.sqlite'}") as store:
        store.ensure_engagement("acme", "acme", "http://127.0.0.1:9/")
        item = store.ensure_item(
            "acme", "OPP-2", contract_end=date(2026, 5, 1), account_name="Initech", data={}
        )
        store.fail(item.id, FailureKind.BUSINESS, "no price for X", code="unknown_sku")
    refused = CliRunner().invoke(cli, ["items", "retry", str(item.id)])
    assert refused.exit_code == 1
    assert "failed on its data (Product not in the price book)" in refused.output
    assert "--note" in refused.output
    assert "is new again" in quotebot("items", "retry", str(item.id), "--note", "SKU added")
    with open_store(f"sqlite:///{home / 'quotebot.sqlite'}") as store:
        assert store.events(item.id)[-1].reason == "SKU added"


def test_report_says_a_day_the_calendar_has_not_is_not_a_day(tmp_path: Path) -> None:
    out = tmp_path / "report.csv"
    env = {"QUOTEBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite'}"}
    result = CliRunner().invoke(
        cli, ["report", "--since", "2026-02-30", "--out", str(out)], env=env
    )
    assert result.exit_code == 2
    assert "2026-02-30 is not a day of the calendar" in result.output, result.output
    assert "format" not in result.output and not out.exists()

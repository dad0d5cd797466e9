"""The morning canary: a schedule entry of kind `check` runs the read-only selector check,
and the scheduler's alert rules raise the drift before any run; the map fixed, the next
check clears it. A real scheduler process, a real sandbox portal in Chromium, real SMTP and
HTTP receivers on 127.0.0.1."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alert_helpers import alert_settings, process_env, receiver, smtp_server
from bot_helpers import engagement_for, map_with, portal_env, write_engagements
from sandbox_helpers import running_portal
from scheduler_helpers import SchedulerProcess, kill_leftovers, until
from test_alerts_cli import quotebot

from alerts import Alerting
from scheduler import job_editor
from schemas.engagement import Schedules
from schemas.settings import Settings
from store import open_store


@pytest.fixture(autouse=True)
def _no_leftovers() -> object:
    yield
    kill_leftovers()


@pytest.mark.slow
def test_a_check_schedule_raises_drift_before_any_run_and_clears_it(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    with (
        running_portal(tmp_path / "portal", "acme", opportunities=3) as portal,
        smtp_server(tmp_path) as (box, smtp_port, cert),
        receiver() as endpoint,
    ):
        broken = map_with(
            tmp_path / "map", "acme", "opportunities.table", "[data-testid=renewal-grid]"
        )
        every_5s = Schedules(check="*/5 * * * * *")
        engagement = engagement_for(portal, selectors=broken, schedules=every_5s)
        config = write_engagements(tmp_path / "engagements.yaml", [engagement])
        env = process_env(home, portal_env(engagement), smtp_port, cert, endpoint)
        added = quotebot(["schedule", "add", "acme", "--engagements", str(config)], env)
        assert added.returncode == 0, added.stderr
        listed = quotebot(["schedule", "list"], env)
        assert "acme" in listed.stdout and "check" in listed.stdout, listed.stdout

        scheduler = SchedulerProcess(config, env, tmp_path / "scheduler.log")
        try:
            until("the drift webhook", lambda: len(endpoint.calls) >= 1, timeout=180)
            first = json.loads(endpoint.calls[0].body)["data"]
            assert first["cause"] == "portal pages changed" and first["status"] == "new"
            assert "'opportunities.table' matches nothing" in first["summary"]
            with open_store(Settings(home=home).effective_database_url) as store:
                tickets = store.drift_tickets(status="open")
            assert ("acme", "opportunities.table") in {(t.engagement, t.key) for t in tickets}
            pages = {f"/repairs/{t.id}" for t in tickets}
            assert any(first["link"].endswith(p) for p in pages), "the alert shows the repair"
            write_engagements(
                config,
                [engagement.model_copy(update={"selectors": engagement_for(portal).selectors})],
            )
            until("the resolved webhook", lambda: len(endpoint.calls) >= 2, timeout=180)
        finally:
            scheduler.terminate()
        assert json.loads(endpoint.calls[1].body)["data"]["status"] == "resolved"
        assert len(endpoint.calls) == 2 and len(box.messages) == 2
        with open_store(Settings(home=home).effective_database_url) as store:
            assert store.runs() == [], "no run was needed to hear of it"


def test_a_fire_time_missed_while_no_scheduler_ran_is_heard_and_clears_when_one_starts(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    with (
        running_portal(tmp_path / "portal", "acme", opportunities=3) as portal,
        smtp_server(tmp_path) as (box, smtp_port, cert),
        receiver() as endpoint,
    ):
        engagement = engagement_for(portal, schedules=Schedules(quote="0 6 * * 1-5"))
        config = write_engagements(tmp_path / "engagements.yaml", [engagement])
        env = process_env(home, portal_env(engagement), smtp_port, cert, endpoint)
        added = quotebot(["schedule", "add", "acme", "--engagements", str(config)], env)
        assert added.returncode == 0, added.stderr
        # What a scheduler that died an hour ago leaves: a next run time long past.
        settings = Settings(home=home)
        with job_editor(settings) as editor:
            editor.modify_job(
                "quote:acme",
                jobstore="default",
                next_run_time=datetime.now(UTC) - timedelta(hours=1),
            )
        alerting_settings = alert_settings(home, smtp_port, cert, endpoint)
        with open_store(settings.effective_database_url) as store:
            Alerting(store, alerting_settings).evaluate()
            Alerting(store, alerting_settings).evaluate()
        assert [json.loads(c.body)["data"]["cause"] for c in endpoint.calls] == ["schedule missed"]
        plain = box.messages[0].get_body(("plain",))
        assert plain is not None
        assert "has not started: no scheduler is running it" in plain.get_content()

        scheduler = SchedulerProcess(config, env, tmp_path / "scheduler.log")
        try:
            until("the resolved webhook", lambda: len(endpoint.calls) >= 2, timeout=120)
        finally:
            scheduler.terminate()
        assert json.loads(endpoint.calls[1].body)["type"] == "alert.resolved"
        assert len(endpoint.calls) == 2 and len(box.messages) == 2

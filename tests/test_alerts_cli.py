"""`quotebot alerts test` sends one message on every channel and says what each answered;
a bad setting is one line naming it, at `test` and when the scheduler starts; `quotebot
alerts list` says what is wrong in sentences and what was sent where. Real processes,
real SMTP and HTTP receivers on 127.0.0.1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from alert_helpers import SMTP_PASSWORD, alert_env, alert_settings, receiver, smtp_server
from bot_helpers import engagement_for, portal_env, write_engagements
from sandbox_helpers import running_portal

from alerts import Alerting
from schemas.work import RunKind, RunStatus
from store import open_store


def quotebot(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "quotebot", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_alerts_test_list_and_bad_settings(tmp_path: Path) -> None:
    with smtp_server(tmp_path) as (box, smtp_port, cert), receiver() as endpoint:
        settings = alert_settings(tmp_path / "home", smtp_port, cert, endpoint)
        env = {
            **os.environ,
            **alert_env(smtp_port, cert, endpoint),
            "QUOTEBOT_HOME": str(settings.home),
            "QUOTEBOT_SECRETS_FILE": str(settings.secrets_file),
        }
        tested = quotebot(["alerts", "test"], env)
        assert tested.returncode == 0, tested.stderr
        lines = tested.stdout.splitlines()
        assert lines[0] == (
            "e-mail to ops@example.com: ok: the mail server 127.0.0.1 accepted it for "
            "ops@example.com"
        )
        assert lines[1] == (
            f"webhook http://127.0.0.1:{endpoint.port}/hooks/quotebot: ok: "
            f"http://127.0.0.1:{endpoint.port}/hooks/quotebot answered 204 No Content"
        )
        assert len(box.messages) == 1 and len(endpoint.calls) == 1 and endpoint.calls[0].valid
        assert json.loads(endpoint.calls[0].body)["type"] == "alert.test"

        endpoint.answer = 410
        gone = quotebot(["alerts", "test"], env)
        assert (
            gone.returncode == 1
            and "FAILED: " in gone.stdout
            and "answered 410 Gone" in gone.stdout
        )

        with open_store(settings.effective_database_url) as store:
            store.ensure_engagement("acme", "acme", "http://127.0.0.1")
            run = store.start_run("acme", RunKind.QUOTE)
            store.finish_run(run.id, RunStatus.FAILED, {}, error="login refused: wrong password")
            endpoint.answer = 204
            Alerting(store, settings).evaluate()
        listed = quotebot(["alerts", "list"], env)
        assert listed.returncode == 0, listed.stderr
        out = listed.stdout
        assert out.startswith("acme: run stopped (open; first seen ")
        assert "of acme stopped on " in out and "login refused: wrong password." in out
        assert "  new: e-mail to ops@example.com, sent " in out
        assert f"  new: webhook to http://127.0.0.1:{endpoint.port}/hooks/quotebot, sent " in out
        assert "token=" not in out

        bad = {
            "QUOTEBOT_ALERTS__ENGAGEMENT_RECIPIENTS": (
                '{"acme": ["ops at example.com"]}',
                "QUOTEBOT_ALERTS__ENGAGEMENT_RECIPIENTS: 'ops at example.com' is not an e-mail",
            ),
            "QUOTEBOT_ALERTS__WEBHOOK_URLS": (
                '["mailto:ops@example.com"]',
                "QUOTEBOT_ALERTS__WEBHOOK_URLS: address 1 is not an http:// or https:// address",
            ),
            "QUOTEBOT_ALERTS__SMTP_PORT": ("1", "alerts.smtp_host: 127.0.0.1:1 cannot be reached"),
            "QUOTEBOT_WEBHOOK_SECRET": (
                "whsec_c2hvcnQ=",
                "alerts.webhook_secret: QUOTEBOT_WEBHOOK_SECRET is too short",
            ),
        }
        with running_portal(tmp_path / "portal", "acme", opportunities=2) as portal:
            engagement = engagement_for(portal)
            config = write_engagements(tmp_path / "engagements.yaml", [engagement])
        start = ["scheduler", "start", "--engagements", str(config)]
        for name, (value, error) in bad.items():
            for args in (["alerts", "test"], start):
                result = quotebot(args, {**env, **portal_env(engagement), name: value})
                assert result.returncode != 0
                assert error in result.stderr, (args, result.stderr)
                assert "Traceback" not in result.stderr
                assert SMTP_PASSWORD not in result.stderr + result.stdout

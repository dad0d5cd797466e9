"""Delivery loses nothing: with the webhook receiver down, the notices wait in the store's
outbox and are tried again with backoff; the scheduler killed and started again meanwhile,
every notice arrives once the receiver is back, with the `webhook-id` it had from the
start. Real scheduler processes, real SMTP and HTTP receivers on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

import pytest
from alert_helpers import Receiver, process_env, smtp_server
from bot_helpers import engagement_for, portal_env, write_engagements
from sandbox_helpers import running_portal
from scheduler_helpers import SchedulerProcess, kill_leftovers, until

from schemas.alerts import Channel, DeliveryStatus
from schemas.settings import Settings
from schemas.work import RunKind, RunStatus
from store import open_store


@pytest.fixture(autouse=True)
def _no_leftovers() -> object:
    yield
    kill_leftovers()


def test_notices_wait_out_a_receiver_down_and_a_restart_with_their_webhook_ids(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    endpoint = Receiver()  # not listening yet: its port refuses connections
    with (
        running_portal(tmp_path / "acme", "acme", opportunities=3) as portal,
        smtp_server(tmp_path) as (box, smtp_port, cert),
    ):
        engagement = engagement_for(portal)
        config = write_engagements(tmp_path / "engagements.yaml", [engagement])
        env = process_env(home, portal_env(engagement), smtp_port, cert, endpoint)
        store = open_store(Settings(home=home).effective_database_url)
        store.ensure_engagement("acme", "acme", portal.base_url)
        store.ensure_engagement("globex", "acme", portal.base_url)
        for name in ("acme", "globex"):
            run = store.start_run(name, RunKind.QUOTE)
            store.finish_run(run.id, RunStatus.FAILED, {}, error="login refused: wrong password")

        def webhooks() -> list:  # type: ignore[type-arg]
            return [d for d in store.deliveries() if d.channel is Channel.WEBHOOK]

        first = SchedulerProcess(config, env, tmp_path / "scheduler1.log")
        until(
            "each webhook failed twice",
            lambda: len(webhooks()) == 2 and all(d.attempts >= 2 for d in webhooks()),
            timeout=120,
        )
        ids = {d.message_id for d in webhooks()}
        assert all("could not be reached" in (d.last_error or "") for d in webhooks())
        first.kill()  # quotebot stops (a crash) while the receiver is still down

        second = SchedulerProcess(config, env, tmp_path / "scheduler2.log")
        endpoint.start()
        try:
            until("both webhooks arrived", lambda: len(endpoint.calls) >= 2, timeout=120)
            until(
                "the outbox is empty",
                lambda: all(d.status is DeliveryStatus.SENT for d in store.deliveries()),
            )
        finally:
            second.terminate()
            endpoint.stop()
        assert {c.headers["webhook-id"] for c in endpoint.calls} == ids
        assert len(endpoint.calls) == 2 and all(c.valid for c in endpoint.calls)
        assert len(box.messages) == 2, "the e-mails went at once, and once"
        store.close()

"""Once per cause: each cause found in the store opens one alert, which sends one e-mail and
one webhook, again only after `repeat_after`, and one "resolved" when it clears; a portal
that is down holds back its engagement's per-run alerts. Real SMTP and HTTP receivers on
127.0.0.1; the store's state is written through its own API, as the bots and the fleet's
workers write it, with a store clock the test moves forward.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alert_helpers import (
    SMTP_PASSWORD,
    Mailbox,
    Receiver,
    alert_settings,
    receiver,
    smtp_server,
    verify,
)

from alerts import Alerting
from schemas.fleet import InHand
from schemas.settings import Settings
from schemas.work import ItemState, RunKind, RunStatus
from store import Store, open_store


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def settings_for(tmp_path: Path, smtp_port: int, cert: Path, endpoint: Receiver) -> Settings:
    settings: Settings = alert_settings(
        tmp_path, smtp_port, cert, endpoint, portal_down_after_s=300
    )
    return settings


def failed_run(store: Store, engagement: str, error: str, counts: dict[str, int] | None = None):  # type: ignore[no-untyped-def]
    run = store.start_run(engagement, RunKind.QUOTE)
    return store.finish_run(run.id, RunStatus.FAILED, counts or {}, error=error)


def clean_run(store: Store, engagement: str, counts: dict[str, int] | None = None) -> None:
    run = store.start_run(engagement, RunKind.QUOTE)
    store.finish_run(run.id, RunStatus.SUCCEEDED, counts or {"verified": 4})


def items(store: Store, engagement: str, n: int) -> list[int]:
    return [
        store.ensure_item(
            engagement, f"OPP-{i}", contract_end=None, account_name=f"Account {i}", data={}
        ).id
        for i in range(n)
    ]


def system_errors(
    store: Store, clock: Clock, engagement: str, ids: list[int], minutes: int
) -> None:
    """Every item of `ids` meets a 503 once a minute for `minutes` minutes."""
    for _ in range(minutes):
        for _ in ids:
            claimed = store.claim(engagement, [ItemState.NEW], "w1")
            assert claimed is not None and claimed.id in ids
            store.retry_later(
                claimed.id,
                code="portal_busy",
                reason="the portal answered 503",
                delay=timedelta(0),
                worker="w1",
            )
        clock.advance(minutes=1)


def tally(box: Mailbox, endpoint: Receiver) -> tuple[Counter[str], Counter[str]]:
    """E-mails and webhook calls by (cause - engagement (status))."""
    mails = Counter(s.removeprefix("[quotebot] ") for s in box.subjects())
    hooks: Counter[str] = Counter()
    for call in endpoint.calls:
        data = json.loads(call.body)["data"]
        hooks[f"{data['cause']} - {data['engagement'] or 'the fleet'} ({data['status']})"] += 1
    return mails, hooks


def test_each_cause_once_repeated_after_repeat_after_resolved_once(tmp_path: Path) -> None:
    clock = Clock()
    with smtp_server(tmp_path) as (box, smtp_port, cert), receiver() as endpoint:
        settings = settings_for(tmp_path, smtp_port, cert, endpoint)
        store = open_store(settings.effective_database_url, clock=clock)
        for name in ("acme", "globex", "hooli", "umbrella", "initech"):
            store.ensure_engagement(name, "acme", f"http://127.0.0.1/{name}")
        failed_run(store, "acme", "login refused: the portal did not accept the password")
        failed_run(
            store,
            "globex",
            "selector drift in the acme portal: 'quote.save' matches "
            "nothing on http://127.0.0.1/globex/quotes/new",
        )
        clean_run(store, "hooli", {"verified": 6, "failed": 4})
        umbrella = items(store, "umbrella", 3)
        down_run = store.start_run("umbrella", RunKind.QUOTE)
        system_errors(store, clock, "umbrella", umbrella, minutes=6)
        # Its items failed: held back by the portal down.
        store.finish_run(down_run.id, RunStatus.SUCCEEDED, {"failed": 3})
        store.register_worker("host-b:4242", "host-b", 4242, ["initech"], 1)
        initech = items(store, "initech", 1)
        held = InHand(
            slot="s1",
            engagement="initech",
            kind=RunKind.QUOTE,
            run_id=1,
            item_id=initech[0],
            opportunity_id="OPP-0",
            since=clock.now,
        )
        store.worker_in_hand("host-b:4242", [held])
        clock.advance(seconds=settings.fleet_timings.stalled_after_s + 5)

        alerting = Alerting(store, settings)
        first = alerting.evaluate()
        causes = {
            "run stopped - acme",
            "portal pages changed - globex",
            "items failing - hooli",
            "portal down - umbrella",
            "worker dead - initech",
        }
        mails, hooks = tally(box, endpoint)
        assert mails == hooks == Counter({f"{c} (new)": 1 for c in causes}), first
        assert "items failing - umbrella (new)" not in mails, "held back while the portal is down"
        acme = next(m for m in box.messages if "run stopped - acme" in str(m["Subject"]))
        plain, html = acme.get_body(("plain",)), acme.get_body(("html",))
        assert plain is not None and html is not None
        assert "What it is about: http://127.0.0.1:8000/runs/1" in plain.get_content()
        assert 'href="http://127.0.0.1:8000/runs/1"' in html.get_content()

        for _ in range(3):  # an hour later, and later still: nothing repeats yet
            clock.advance(hours=1)
            alerting.evaluate()
        assert tally(box, endpoint) == (mails, hooks)

        clock.advance(hours=1, minutes=1)  # past repeat_after (4 h) since the first notice
        alerting.evaluate()
        alerting.evaluate()
        mails, hooks = tally(box, endpoint)
        assert mails == hooks
        assert mails == Counter(
            {f"{c} ({s})": 1 for c in causes for s in ("new", "still going on")}
        )

        clean_run(store, "acme")  # the next login worked
        clean_run(store, "globex")  # the map fixed
        clean_run(store, "hooli")
        clean_run(store, "umbrella")
        store.register_worker("host-b:4242", "host-b", 4242, ["initech"], 1)  # back
        claimed = store.claim("umbrella", [ItemState.NEW], "w1")
        assert claimed is not None
        store.transition(claimed.id, ItemState.PRICED, worker="w1")  # the portal answers
        alerting.evaluate()
        alerting.evaluate()
        mails, hooks = tally(box, endpoint)
        assert mails == hooks
        assert mails == Counter(
            {f"{c} ({s})": 1 for c in causes for s in ("new", "still going on", "resolved")}
        )
        assert all(a.state.value == "resolved" for a in store.alerts())
        assert len(store.alerts()) == 6, "umbrella's held alert opened and closed unheard"

        # No secret in any notice (the SMTP login was used: the server wanted it).
        assert box.logins
        for message in box.messages:
            assert SMTP_PASSWORD not in message.as_string()
        for call in endpoint.calls:
            assert b"whsec_" not in call.body and SMTP_PASSWORD.encode() not in call.body
        store.close()


def test_the_reference_library_accepts_every_webhook_and_refuses_an_altered_or_late_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    with smtp_server(tmp_path) as (_, smtp_port, cert), receiver() as endpoint:
        settings = settings_for(tmp_path, smtp_port, cert, endpoint)
        with open_store(settings.effective_database_url, clock=clock) as store:
            for name in ("acme", "globex"):
                store.ensure_engagement(name, "acme", "http://127.0.0.1")
                failed_run(store, name, "login refused: the portal did not accept the password")
            Alerting(store, settings).evaluate()
    assert len(endpoint.calls) == 2 and all(c.valid for c in endpoint.calls)

    call = endpoint.calls[0]
    altered = call.body.replace(b"acme", b"acne")
    assert altered != call.body and not verify(call.headers, altered)
    swapped = {**call.headers, "webhook-id": endpoint.calls[1].headers["webhook-id"]}
    assert not verify(swapped, call.body)

    # The same call replayed ten minutes later: the library's tolerance is five.
    import standardwebhooks.webhooks as reference

    class Later(datetime):
        @classmethod
        def now(cls, tz=None):  # type: ignore[no-untyped-def,override]
            return datetime.now(tz) + timedelta(minutes=10)

    monkeypatch.setattr(reference, "datetime", Later)
    assert not verify(call.headers, call.body)
    monkeypatch.undo()
    assert verify(call.headers, call.body)


def test_a_410_stops_that_endpoint_and_nothing_more_goes_there(tmp_path: Path) -> None:
    clock = Clock()
    with smtp_server(tmp_path) as (box, smtp_port, cert), receiver() as endpoint:
        settings = settings_for(tmp_path, smtp_port, cert, endpoint)
        endpoint.answer = 410
        with open_store(settings.effective_database_url, clock=clock) as store:
            store.ensure_engagement("acme", "acme", "http://127.0.0.1")
            failed_run(store, "acme", "login refused: the portal did not accept the password")
            alerting = Alerting(store, settings)
            alerting.evaluate()
            assert len(endpoint.calls) == 1
            endpoint.answer = 204
            clean_run(store, "acme")
            clock.advance(minutes=5)
            alerting.evaluate()
            alerting.evaluate()
            assert len(endpoint.calls) == 1, "nothing more to a 410 endpoint"
            assert len(box.messages) == 2, "e-mail goes on: new, then resolved"
            assert list(store.stopped_endpoints()) == [endpoint.url]

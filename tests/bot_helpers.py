"""Helpers for bot tests: an engagement pointed at a running sandbox portal."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from sandbox_helpers import RunningPortal

from schemas.engagement import Engagement, QuoteWindow
from schemas.work import FailureKind, ItemState, WorkItem
from store import Store

REPO = Path(__file__).resolve().parents[1]
SELECTORS = REPO / "selectors"


def engagement_for(
    portal: RunningPortal, *, name: str | None = None, **overrides: Any
) -> Engagement:
    """An engagement on `portal`; its credentials go into the environment, as in production."""
    flavour = portal.config.flavour
    prefix = f"QB_TEST_{flavour.upper()}"
    os.environ[f"{prefix}_USER"] = portal.credentials.username
    os.environ[f"{prefix}_PASSWORD"] = portal.credentials.password
    os.environ[f"{prefix}_TOTP"] = portal.credentials.totp_secret
    fields: dict[str, Any] = {
        "name": name or flavour,
        "flavour": flavour,
        "url": portal.base_url,
        "username_env": f"{prefix}_USER",
        "password_env": f"{prefix}_PASSWORD",
        "totp_env": f"{prefix}_TOTP" if portal.config.totp else None,
        "selectors": SELECTORS / f"{flavour}.yaml",
        "rules": portal.config.rules_path,
        "window": QuoteWindow(days_from=0, days_to=400),
        "workers": 2,
    }
    fields.update(overrides)
    return Engagement(**fields)


def due_ids(portal: RunningPortal, engagement: Engagement) -> set[str]:
    """What the portal itself says is due in the engagement's window."""
    from datetime import timedelta

    today = portal.config.today
    with portal.open_db() as db:
        page = db.list_opportunities(
            end_from=today + timedelta(days=engagement.window.days_from),
            end_to=today + timedelta(days=engagement.window.days_to),
            per_page=200,
        )
    return {o.opportunity_id for o in page.items}


def write_engagements(path: Path, engagements: list[Engagement]) -> Path:
    """An engagements file as operations staff would write it."""
    import yaml

    docs = [e.model_dump(mode="json", exclude_none=True) for e in engagements]
    path.write_text(yaml.safe_dump({"engagements": docs}, sort_keys=False), encoding="utf-8")
    return path


def portal_env(engagement: Engagement) -> dict[str, str]:
    """The environment a bot process needs: the credentials its engagement names."""
    names = [engagement.username_env, engagement.password_env, engagement.totp_env]
    return {n: os.environ[n] for n in names if n}


def bot_process(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    """`quotebot ARGS` in a process group of its own: SIGKILL to the group kills the bot and
    its browsers at once, as a crash would."""
    return subprocess.Popen(
        [sys.executable, "-m", "quotebot", *args],
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def item_snapshot(store: Store, engagement: str) -> tuple[dict[int, ItemState], int, int]:
    """Every item's state, and how many events and review entries there are: equal before
    and after a run that touched nothing."""
    states = {i.id: i.state for i in store.items(engagement)}
    return states, len(store.events(engagement=engagement)), len(store.review_queue(engagement))


def assert_each_renewal_entered_once(
    portal: RunningPortal, store: Store, engagement: str
) -> dict[str, WorkItem]:
    """What the portal holds after runs that were killed and restarted: each item failed for
    a business reason with no quote, or has exactly one submitted quote carrying its
    reference; each accepted quote booked exactly once (at least one was); no submit left
    open. The items, by opportunity."""
    items = {i.opportunity_id: i for i in store.items(engagement)}
    with portal.open_db() as db:
        orders = Counter(r.split(",")[0] for r in db.bookings_csv().splitlines()[1:])
        accepted = 0
        for opportunity_id, item in items.items():
            quotes = db.find_quotes(opportunity_id=opportunity_id)
            if item.state is ItemState.FAILED:
                assert item.failure_kind == "business", item.failure_reason
                assert quotes == []
                continue
            assert len(quotes) == 1, f"{opportunity_id}: {[q.quote_number for q in quotes]}"
            assert quotes[0].external_ref == item.reference
            assert quotes[0].status in {"submitted", "booked"}
            if quotes[0].customer_po is not None and item.state is not ItemState.FLAGGED:
                accepted += 1
                assert orders[quotes[0].quote_number] == 1
                assert item.state is ItemState.BOOKED
    assert accepted > 0
    assert all(count == 1 for count in orders.values())
    intents = [i for item in items.values() for i in store.intents(item.id)]
    assert not [i for i in intents if i.status == "open"], "every intent reconciled"
    return items


def map_with(folder: Path, flavour: str, key: str, selector: str) -> Path:
    """A copy of the flavour's selector map with one key (`page.key` or `page.rows.cell`)
    pointing at `selector`: the map of a client whose portal changed under it."""
    import yaml

    data = yaml.safe_load((SELECTORS / f"{flavour}.yaml").read_text(encoding="utf-8"))
    page, *rest = key.split(".")
    spec = data["pages"][page]
    if len(rest) == 2:
        assert rest[1] in spec["cells"][rest[0]], key
        spec["cells"][rest[0]][rest[1]] = selector
    else:
        assert rest[0] in spec["selectors"], key
        spec["selectors"][rest[0]] = selector
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{flavour}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def assert_drift_stopped_the_run(
    result: Any, store: Store, engagement: Engagement, key: str
) -> None:
    """The run stopped on drift of `key` (flavour and URL named), and no item moved past
    pricing or went to the review queue."""
    from schemas.work import RunStatus

    assert result.drift is not None, "the drift was noticed"
    assert (result.drift.flavour, result.drift.key) == (engagement.flavour, key)
    assert result.drift.url.startswith(engagement.url), result.drift.url
    assert result.run.status is RunStatus.FAILED
    assert key in (result.run.error or "")
    states = {i.state for i in store.items(engagement.name)}
    assert states <= {ItemState.NEW, ItemState.PRICED}, states
    assert store.review_queue(engagement.name) == [], "nothing sent to the audit team"


def assert_refused(item: WorkItem, quotes: list[Any], codes: set[str]) -> None:
    """A renewal refused as bad data: failed to review with one of `codes`, nothing entered."""
    assert item.state is ItemState.FAILED, item.opportunity_id
    assert item.failure_kind is FailureKind.BUSINESS
    assert item.failure_code in codes
    assert quotes == [], "nothing is entered for a renewal refused as bad data"

"""`quotebot forecast` on a real store: the calendar kept in it, the throughput measured
from its runs' events, the engagements file's schedule; bad input refused by name."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from bot_helpers import write_engagements
from click.testing import CliRunner
from test_forecast import (
    TODAY,
    WEEKS,
    missed,
    seeded_calendar,
    simulate_schedule,
    weekday_mornings,
)

from audit.forecast import rates_of
from quotebot import cli
from sandbox.generate import generate
from schemas.engagement import Engagement
from schemas.work import RunStatus
from store import Store, open_store

REPO = Path(__file__).resolve().parents[1]


class Clock:
    """The store's clock, moved by the test (runs of a known length)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def record_history(store: Store, clock: Clock, runs: int = 6) -> None:
    """Quoting runs of the past, each entering 12 quotes in 6 hours with one browser: two
    quotes a browser-hour, as `test_forecast`'s history."""
    for n in range(runs):
        clock.now = datetime(2026, 2, 2, 6, tzinfo=UTC) + timedelta(days=n)
        run = store.start_run("acme", "quote")
        for k in range(12):
            item = store.ensure_item(
                "acme",
                f"PAST-{n}-{k}",
                contract_end=date(2026, 7, 1),
                account_name="Past Ltd",
                data={},
            )
            store.transition(item.id, "priced", run_id=run.id)
            clock.now += timedelta(minutes=30)
            store.transition(item.id, "entered", run_id=run.id)
        store.finish_run(run.id, RunStatus.SUCCEEDED, {"entered": 12})


def scheduled(name: str, rules: Path) -> Engagement:
    """An engagement quoted on weekday mornings, one browser, runs of an hour."""
    return Engagement(
        name=name,
        flavour="acme",
        url="http://127.0.0.1:1/",
        username_env="U",
        password_env="P",
        selectors=REPO / "selectors" / "acme.yaml",
        rules=rules,
        schedules={"quote": "0 6 * * mon-fri"},
        workers=1,
        max_sessions=3,
        forecast={"run_hours": 1.0},
    )


@dataclass
class Home:
    path: Path
    engagements: Path


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Home]:
    folder = tmp_path / "home"
    folder.mkdir()
    monkeypatch.setenv("QUOTEBOT_HOME", str(folder))
    monkeypatch.delenv("QUOTEBOT_DATABASE_URL", raising=False)
    paths = generate(tmp_path / "portal", 7, 5, TODAY, client="acme")
    engagements = [scheduled(name, paths.rules) for name in ("acme", "globex")]
    path = write_engagements(folder / "engagements.yaml", engagements)
    monkeypatch.setenv("QUOTEBOT_ENGAGEMENTS", str(path))
    clock = Clock(datetime(2026, 2, 1, tzinfo=UTC))
    with open_store(f"sqlite:///{folder / 'quotebot.sqlite'}", clock=clock) as store:
        store.ensure_engagement("acme", "acme", "http://127.0.0.1:1/")
        record_history(store, clock)
        store.keep_renewals("acme", seeded_calendar())
    yield Home(folder, path)


def quotebot(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def test_the_command_names_the_renewals_the_schedule_misses_and_the_money(home: Home) -> None:
    code, out = quotebot("forecast", "acme", "--weeks", str(WEEKS), "--today", f"{TODAY}")
    assert code == 0, out
    calendar = seeded_calendar()
    done = simulate_schedule(
        calendar, weekday_mornings(TODAY, WEEKS), workers=1, hours=1.0, rate=2.0, days_to=150
    )
    expected = missed(calendar, done)
    listed = {line.split()[0] for line in out.splitlines() if "of forecasts" in line}
    assert listed == expected
    by_id = {r.opportunity_id: r for r in calendar}
    eur = sum(by_id[i].annual_value for i in expected if by_id[i].currency == "EUR")  # type: ignore[misc]
    assert f"EUR {eur:,.2f}" in out
    assert f"Will miss the 120-day line: {len(expected)} renewals" in out
    assert "2.0 quotes a run" in out
    # Words before the figures' codes: a manager reads "likely" and "8 in 10".
    assert "likely (P50)" in out and "8 in 10 forecasts between" in out
    assert "Smallest change:" in out and "forecast again with it: saves them all" in out


def test_weeks_zero_is_refused_by_the_option_name(home: Home) -> None:
    code, out = quotebot("forecast", "acme", "--weeks", "0")
    assert code == 2
    assert "Invalid value for '--weeks': 0 is not in the range 1<=x<=104" in out


def test_an_unknown_engagement_is_refused_with_the_known_ones(home: Home) -> None:
    code, out = quotebot("forecast", "acmee")
    assert code == 1
    assert f"{home.engagements}: no engagement 'acmee' (known: acme, globex)" in out


def test_an_engagement_never_run_says_the_forecast_needs_a_run(home: Home) -> None:
    code, out = quotebot("forecast", "--today", f"{TODAY}")
    assert code == 1
    assert "acme: forecast from 2026-03-02" in out
    assert "engagement 'globex' has no finished quoting run" in out


def test_a_sampling_share_outside_0_to_100_is_refused_by_the_option_name(home: Home) -> None:
    code, out = quotebot("demo", "--sample-share", "150", "--home", str(home.path / "demo"))
    assert code == 2
    assert "Invalid value for '--sample-share': 150.0 is not in the range 0<=x<=100" in out
    assert not (home.path / "demo").exists(), "nothing was started"


def test_the_report_carries_the_renewals_at_risk_and_the_money(home: Home) -> None:
    import pandas as pd

    out_file = home.path / "report.csv"
    code, out = quotebot("report", "--format", "csv", "--out", str(out_file), "--today", f"{TODAY}")
    assert code == 0, out
    table = pd.read_csv(out_file, dtype=str)
    # The export speaks the dashboard's words: tables, keys and figures by their names.
    at_risk = table[table["Table"] == "Renewals at risk"]
    calendar = seeded_calendar()
    done = simulate_schedule(
        calendar, weekday_mornings(TODAY, 26), workers=1, hours=1.0, rate=2.0, days_to=150
    )
    assert set(at_risk["Renewal"]) == missed(calendar, done)
    money = table[
        (table["Table"] == "Before the 120-day line")
        & (table["Figure"] == "Money at risk (likely)")
    ]
    by_id = {r.opportunity_id: r for r in calendar}
    for _, row in money.iterrows():
        expected = sum(
            by_id[i].annual_value  # type: ignore[misc]
            for i in missed(calendar, done)
            if by_id[i].currency == row["Currency"]
        )
        assert Decimal(row["Value"]) == expected


def test_a_run_that_entered_nothing_while_work_waited_is_a_measured_zero(tmp_path: Path) -> None:
    clock = Clock(datetime(2026, 2, 2, 6, tzinfo=UTC))
    with open_store(f"sqlite:///{tmp_path / 'quotebot.sqlite'}", clock=clock) as store:
        store.ensure_engagement("acme", "acme", "http://127.0.0.1:1/")
        stuck = store.start_run("acme", "quote")  # a renewal waits, nothing gets entered
        item = store.ensure_item(
            "acme", "OPP-1", contract_end=date(2026, 7, 1), account_name="A Ltd", data={}
        )
        clock.now += timedelta(hours=2)
        store.finish_run(stuck.id, RunStatus.SUCCEEDED, {})
        clock.now += timedelta(days=1)
        worked = store.start_run("acme", "quote")
        store.transition(item.id, "priced", run_id=worked.id)
        clock.now += timedelta(minutes=30)
        store.transition(item.id, "entered", run_id=worked.id)
        clock.now += timedelta(minutes=30)
        store.finish_run(worked.id, RunStatus.SUCCEEDED, {"entered": 1})
        clock.now += timedelta(days=1)
        idle = store.start_run("acme", "quote")  # nothing waits: nothing to do
        clock.now += timedelta(minutes=5)
        store.finish_run(idle.id, RunStatus.SUCCEEDED, {})
        measured = store.run_throughput("acme")

    assert [(r.run_id, r.entered) for r in measured] == [(stuck.id, 0), (worked.id, 1)]
    assert measured[0].busy_until - measured[0].started_at == timedelta(hours=2)
    assert rates_of(measured, 1) == (0.0, 2.0)

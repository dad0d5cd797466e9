"""The forecast against a simulation of the schedule: a seeded calendar of 300 renewals over
a year, a throughput history, quoting runs on weekday mornings.

The simulation below is written apart from `audit.forecast`: it walks the run days by the
calendar (no cron), and inside each run lets every browser take the waiting renewal with
the soonest contract end and spend 1/rate hours on it until the run's time is up.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from audit.forecast import forecast, plan_for, rates_of, with_change
from schemas.engagement import Engagement
from schemas.forecast import Renewal, RunThroughput

TODAY = date(2026, 3, 2)  # a Monday
START = datetime.combine(TODAY, time(0, 0), tzinfo=UTC)
WEEKS = 26


def seeded_calendar(seed: int = 27, n: int = 300) -> list[Renewal]:
    """300 renewals ending over a year, a quarter of them crowded into three weeks of
    summer (a client's big renewal season), values in two currencies."""
    rng = random.Random(seed)
    renewals = []
    for k in range(n):
        if k % 4 == 0:
            ends = date(2026, 8, 10) + timedelta(days=rng.randrange(21))
        else:
            ends = TODAY + timedelta(days=100 + rng.randrange(365))
        currency = "EUR" if k % 3 else "USD"
        value = Decimal(rng.randrange(1_000_00, 250_000_00)) / 100
        renewals.append(
            Renewal(
                engagement="acme",
                opportunity_id=f"OPP-{k:04d}",
                account_name=f"Account {k % 40}",
                contract_end=ends,
                annual_value=value,
                currency=currency,
            )
        )
    return renewals


def history(rates_per_hour: list[float], workers: int) -> list[RunThroughput]:
    """Finished runs that each entered 12 quotes at `rate` quotes a browser-hour."""
    runs = []
    for n, rate in enumerate(rates_per_hour):
        started = datetime(2026, 2, 2, 6, tzinfo=UTC) + timedelta(days=n)
        runs.append(
            RunThroughput(
                run_id=n + 1,
                started_at=started,
                busy_until=started + timedelta(hours=12 / (rate * workers)),
                entered=12,
            )
        )
    return runs


def engagement(tmp_path: Path, **changes: object) -> Engagement:
    fields: dict[str, object] = {
        "name": "acme",
        "flavour": "acme",
        "url": "http://127.0.0.1:1/",
        "username_env": "U",
        "password_env": "P",
        "selectors": tmp_path / "s.yaml",
        "rules": tmp_path / "r.yaml",
        "schedules": {"quote": "0 6 * * mon-fri"},
        "workers": 1,
        "max_sessions": 3,
        "forecast": {"run_hours": 1.0},
    }
    fields.update(changes)
    return Engagement.model_validate(fields)


def simulate_schedule(
    calendar: list[Renewal],
    run_starts: list[datetime],
    *,
    workers: int,
    hours: float,
    rate: float,
    days_to: int,
) -> dict[str, date]:
    done: dict[str, date] = {}
    for start in sorted(run_starts):
        day = start.date()
        waiting = sorted(
            (
                r
                for r in calendar
                if r.opportunity_id not in done
                and r.quoted_on is None
                and r.contract_end - timedelta(days=days_to) <= day
            ),
            key=lambda r: r.contract_end,
        )
        clocks = [0.0] * workers
        for renewal in waiting:
            browser = clocks.index(min(clocks))
            if clocks[browser] + 1 / rate > hours + 1e-9:
                break
            clocks[browser] += 1 / rate
            done[renewal.opportunity_id] = day
    return done


def weekday_mornings(first: date, weeks: int) -> list[datetime]:
    days = (first + timedelta(days=n) for n in range(weeks * 7))
    return [datetime.combine(d, time(6), tzinfo=UTC) for d in days if d.weekday() < 5]


def missed(calendar: list[Renewal], done: dict[str, date], weeks: int = WEEKS) -> set[str]:
    horizon = TODAY + timedelta(weeks=weeks)
    return {
        r.opportunity_id
        for r in calendar
        if r.quoted_on is None
        and TODAY <= r.contract_end - timedelta(days=120) < horizon
        and (
            r.opportunity_id not in done
            or done[r.opportunity_id] > r.contract_end - timedelta(days=120)
        )
    }


MEASURED = [2.4, 2.1, 2.8, 2.3, 2.9, 2.6, 2.0, 2.7, 2.2, 2.5]
"""Quotes per browser-hour of ten recent runs: two quotes in an hour's run, each."""


def test_the_forecast_names_what_the_simulated_schedule_misses_and_its_change_saves_them(
    tmp_path: Path,
) -> None:
    calendar = seeded_calendar()
    assert len(calendar) == 300
    eng = engagement(tmp_path)
    rates = rates_of(history(MEASURED, eng.workers), eng.workers)
    assert rates == pytest.approx(MEASURED)
    plan = plan_for(eng, rates, START, WEEKS)
    assert plan.runs == tuple(weekday_mornings(TODAY, WEEKS))

    result = forecast(plan, calendar)

    rate = min(MEASURED)
    simulated = simulate_schedule(
        calendar, weekday_mornings(TODAY, WEEKS), workers=1, hours=1.0, rate=rate, days_to=150
    )
    expected = missed(calendar, simulated)
    assert len(expected) > 10, "the summer season must overrun the schedule"
    named = {a.renewal.opportunity_id for a in result.at_risk}
    assert named == expected
    assert all(a.renewal.account_name and a.renewal.annual_value for a in result.at_risk)

    by_id = {r.opportunity_id: r for r in calendar}
    for currency in ("EUR", "USD"):
        total = sum(
            (
                by_id[i].annual_value or Decimal(0)
                for i in expected
                if by_id[i].currency == currency
            ),
            Decimal(0),
        )
        assert result.money_at_risk[currency] == total
    assert sum(w.missing for w in result.weeks) == len(expected)

    change = result.change
    assert change is not None and change.saves_all, change
    runs = weekday_mornings(TODAY, WEEKS) + list(change.extra_runs)
    after = simulate_schedule(
        calendar, runs, workers=change.workers, hours=1.0, rate=rate, days_to=change.days_to
    )
    assert missed(calendar, after) == set(change.still_missing) == set(change.beyond_saving)
    assert change.saves == len(expected) - len(change.beyond_saving) > 0
    left = {a.renewal.opportunity_id for a in forecast(with_change(plan, change), calendar).at_risk}
    assert left == set(change.beyond_saving)


def test_at_the_session_cap_the_change_is_an_extra_run_or_an_earlier_window(
    tmp_path: Path,
) -> None:
    calendar = seeded_calendar(seed=5)
    eng = engagement(tmp_path, workers=1, max_sessions=1)
    plan = plan_for(eng, rates_of(history(MEASURED, 1), 1), START, WEEKS)
    result = forecast(plan, calendar)
    assert result.at_risk
    change = result.change
    assert change is not None and change.kind in {"extra_runs", "earlier_window"}
    assert change.workers == 1
    simulated = simulate_schedule(
        calendar,
        weekday_mornings(TODAY, WEEKS) + list(change.extra_runs),
        workers=1,
        hours=1.0,
        rate=min(MEASURED),
        days_to=change.days_to,
    )
    assert missed(calendar, simulated) == set(change.still_missing)
    assert change.saves_all and change.saves > 0


def test_late_and_quoted_renewals_are_not_forecast_again(tmp_path: Path) -> None:
    late = Renewal(
        engagement="acme",
        opportunity_id="LATE",
        account_name="Late Ltd",
        contract_end=TODAY + timedelta(days=100),
        annual_value=Decimal("5000.00"),
        currency="EUR",
    )
    quoted = late.model_copy(
        update={
            "opportunity_id": "DONE",
            "contract_end": TODAY + timedelta(days=130),
            "quoted_on": TODAY,
        }
    )
    calendar = [*seeded_calendar(n=40), late, quoted]
    plan = plan_for(engagement(tmp_path), (3.0,), START, WEEKS)
    result = forecast(plan, calendar)
    assert [r.opportunity_id for r in result.late] == ["LATE"]
    assert "LATE" not in {a.renewal.opportunity_id for a in result.at_risk}
    assert "DONE" not in {a.renewal.opportunity_id for a in result.at_risk}


def test_one_measured_rate_gives_a_band_of_no_width_and_more_spread_a_wider_one(
    tmp_path: Path,
) -> None:
    calendar = seeded_calendar()
    eng = engagement(tmp_path)
    steady = forecast(plan_for(eng, (2.85,), START, WEEKS), calendar)
    assert all(w.missing_band == (w.missing, w.missing) for w in steady.weeks)
    assert steady.missing_band == (len(steady.at_risk), len(steady.at_risk))
    spread = forecast(plan_for(eng, (1.0, 2.85, 6.0), START, WEEKS), calendar)
    low, high = spread.missing_band
    assert low < len(spread.at_risk) < high


def test_no_measured_run_is_a_clear_error(tmp_path: Path) -> None:
    plan = plan_for(engagement(tmp_path), (), START, WEEKS)
    with pytest.raises(ValueError, match="no finished quoting run"):
        forecast(plan, seeded_calendar(n=10))

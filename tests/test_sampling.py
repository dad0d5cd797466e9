"""Quality control by sampling: a share of verified quotes (and all above a value) goes to
the audit team's queue as samples; the people's verdicts measure the automatic audit."""

from __future__ import annotations

import math
from decimal import Decimal
from pathlib import Path

import pytest
from bot_helpers import engagement_for
from sandbox_helpers import running_portal

from audit.sampling import Accuracy, draw, sample_size, wilson
from bots import RunOptions, run_engagement
from schemas.forecast import Sampling
from schemas.settings import Settings
from schemas.work import ItemState, ReviewAction
from store import InvalidTransition, QueueFilter, Store

Z = 1.959963984540054


def wilson_by_definition(k: int, n: int) -> tuple[float, float]:
    """The p whose normal test of k/n is exactly at the 95 % edge: |k/n - p| = z*sqrt(p(1-p)/n),
    found by bisection on each side of k/n (not the closed form `audit.sampling` uses)."""

    def gap(p: float) -> float:
        return abs(k / n - p) - Z * math.sqrt(p * (1 - p) / n)

    def root(lo: float, hi: float) -> float:
        for _ in range(200):
            mid = (lo + hi) / 2
            if (gap(lo) > 0) == (gap(mid) > 0):
                lo = mid
            else:
                hi = mid
        return (lo + hi) / 2

    p = k / n
    low = 0.0 if k == 0 else root(1e-12, p)
    high = 1.0 if k == n else root(p, 1 - 1e-12)
    return low, high


@pytest.mark.parametrize(("k", "n"), [(1, 10), (2, 40), (7, 50), (30, 1000), (9, 10)])
def test_the_wilson_interval_is_where_the_score_test_says(k: int, n: int) -> None:
    assert wilson(k, n) == pytest.approx(wilson_by_definition(k, n), abs=1e-9)


def test_no_disagreement_yet_gives_the_rule_of_three_and_300_samples_for_one_point() -> None:
    nothing = Accuracy(n=60, disagreed=0)
    assert nothing.rate == 0.0
    assert nothing.interval == (0.0, 0.05)
    assert nothing.needed_for_one_point == 300
    assert Accuracy(n=0, disagreed=0).interval is None


@pytest.mark.parametrize("rate", [0.02, 0.05, 0.2])
def test_the_sample_size_is_the_fewest_that_bring_the_interval_to_one_point(rate: float) -> None:
    n = sample_size(rate, 0.01)
    low, high = wilson(round(rate * n), n)
    assert (high - low) / 2 <= 0.01
    smaller = math.floor(n * 0.97)
    low, high = wilson(round(rate * smaller), smaller)
    assert (high - low) / 2 > 0.01


SHARE = Decimal(25)
ABOVE = Decimal(60000)


@pytest.fixture(scope="module")
def sampled_run(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """A quoting run over a sandbox portal of 40 renewals, sampling 25 % and every quote
    above 60,000."""
    from store import open_store

    folder = tmp_path_factory.mktemp("sampling")
    with running_portal(folder / "portal", "acme", opportunities=40) as portal:
        engagement = engagement_for(portal, sampling=Sampling(share=SHARE, above=ABOVE))
        store = open_store(f"sqlite:///{folder / 'quotebot.sqlite'}")
        options = RunOptions(today=portal.config.today, progress=False)
        run_engagement(
            engagement, "quote", store, settings=Settings(home=folder / "home"), options=options
        )
    return store


def _total(expected: dict[str, object] | None) -> Decimal:
    assert expected is not None
    return Decimal(str(expected["quote_total"]))


def test_a_run_samples_its_share_of_verified_quotes_and_every_one_above_the_value(
    sampled_run: Store,
) -> None:
    store = sampled_run
    verified = store.items("acme", state=ItemState.VERIFIED)
    queued = store.review_queue(where=QueueFilter(severity="sample"))
    samples = {i.id for i in queued}
    above = {i.id for i in verified if _total(i.expected) > ABOVE}
    below = [i for i in verified if i.id not in above]
    assert above and len(below) >= 8, "the portal's quotes must fall on both sides"
    assert above <= samples, "every quote above the threshold is sampled"
    drawn = {i.id for i in below if i.id in samples}
    assert drawn == {i.id for i in below if draw("acme", i.reference) < float(SHARE) / 100}
    low, high = wilson(len(drawn), len(below))
    assert low <= float(SHARE) / 100 <= high, (len(drawn), len(below))
    assert all(i.state is ItemState.VERIFIED for i in queued)

    (counts,) = store.sample_counts("acme")
    assert counts.verified == len(verified)
    assert counts.sampled == len(samples)
    assert counts.by_value == len(above)
    assert (counts.decided, counts.disagreed) == (0, 0)

    # Not a sample: a verified quote is no one's to decide.
    others = [i for i in verified if i.id not in samples]
    if others:
        with pytest.raises(InvalidTransition):
            store.review(others[0].id, "alice", ReviewAction.ACCEPT, "looks fine")

    first, second = sorted(samples)[:2]
    store.review(first, "alice", ReviewAction.ACCEPT, "checked line by line")
    (counts,) = store.sample_counts("acme")
    agreed = Accuracy(counts.decided, counts.disagreed)
    assert (agreed.n, agreed.disagreed, agreed.interval) == (1, 0, (0.0, 1.0))
    assert first not in {i.id for i in store.review_queue()}
    assert store.item(first).state is ItemState.VERIFIED

    store.review(second, "alice", ReviewAction.CORRECT, "the discount is the old one")
    (counts,) = store.sample_counts("acme")
    moved = Accuracy(counts.decided, counts.disagreed)
    assert (moved.n, moved.disagreed, moved.rate) == (2, 1, 0.5)
    assert moved.interval == pytest.approx(wilson(1, 2))
    item = store.item(second)
    assert item.state is ItemState.PRICED and item.revision == 1
    assert item.reference.endswith("-R1")
    assert len(store.review_queue(where=QueueFilter(severity="sample"))) == len(samples) - 2


def test_a_sampling_share_outside_0_to_100_is_refused_by_name(tmp_path: Path) -> None:
    from bot_helpers import write_engagements

    from schemas.engagement import EngagementError, load_engagements

    path = tmp_path / "engagements.yaml"
    write_engagements(path, [])
    path.write_text(
        "engagements:\n"
        "  - name: acme\n"
        "    flavour: acme\n"
        "    url: http://127.0.0.1:1/\n"
        "    username_env: U\n"
        "    password_env: P\n"
        "    selectors: s.yaml\n"
        "    rules: r.yaml\n"
        "    sampling:\n"
        "      share: 150\n",
        encoding="utf-8",
    )
    with pytest.raises(EngagementError) as caught:
        load_engagements(path, check_files=False)
    message = str(caught.value)
    assert f"{path}:10: engagements.0.sampling.share:" in message
    assert "100" in message

"""An exception nobody raised on purpose, inside a step, is a system error: the item is tried
again, then failed with the portal page it met (screenshot, HTML, and the trace of its
retried attempt); the rest of the run finishes. The bug is planted in quotebot's own code,
not in the portal or the browser."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from bot_helpers import due_ids, engagement_for
from sandbox_helpers import running_portal

from audit.checks import check_quote
from bots import RunOptions, run_engagement
from schemas.settings import Settings
from schemas.work import EvidenceKind, FailureKind, ItemState
from store import Store


def test_an_unexpected_exception_in_a_step_is_retried_then_failed_with_its_evidence(
    tmp_path: Path, quotebot_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    with running_portal(tmp_path / "portal", "acme", opportunities=6) as portal:
        engagement = engagement_for(portal, workers=2, max_attempts=3)
        victim = sorted(due_ids(portal, engagement))[0]
        calls: list[str] = []

        def buggy_check(opportunity: Any, *args: Any, **kwargs: Any) -> Any:
            # Runs after the quote was entered and read back, with the quote page open.
            if opportunity.opportunity_id == victim:
                calls.append(victim)
                raise KeyError("a bug in quotebot")
            return check_quote(opportunity, *args, **kwargs)

        # The step module's own name for the audit check: the bug sits inside the step.
        monkeypatch.setattr("bots._steps.check_quote", buggy_check)
        home = tmp_path / "home"
        options = RunOptions(today=portal.config.today, progress=False, backoff_s=0.1)
        result = run_engagement(
            engagement, "quote", quotebot_store, settings=Settings(home=home), options=options
        )

        items = {i.opportunity_id: i for i in quotebot_store.items(engagement.name)}
        failed = items[victim]
        assert failed.state is ItemState.FAILED
        assert failed.failure_kind is FailureKind.SYSTEM
        assert failed.failure_code == "unexpected_error"
        assert failed.failure_reason is not None
        assert "KeyError" in failed.failure_reason and "a bug in quotebot" in failed.failure_reason
        assert len(calls) == engagement.max_attempts, "tried again, as often as the engagement says"

        kept = {e.kind: home / e.path for e in quotebot_store.evidence(failed.id)}
        # Its last attempt, a retried one, was traced; every failed one keeps its page.
        assert set(kept) == {EvidenceKind.SCREENSHOT, EvidenceKind.HTML, EvidenceKind.TRACE}, kept
        assert all(path.stat().st_size > 0 for path in kept.values())
        assert "<html" in kept[EvidenceKind.HTML].read_text(encoding="utf-8").lower()

        others = {o: i.state for o, i in items.items() if o != victim}
        assert others and all(
            s in {ItemState.VERIFIED, ItemState.FLAGGED, ItemState.FAILED} for s in others.values()
        ), others
        assert all(
            i.failure_kind is FailureKind.BUSINESS
            for i in items.values()
            if i.id != failed.id
            if i.state is ItemState.FAILED
        )
        assert result.run.counts["failed"] == 1
        with portal.open_db() as db:  # the victim's quote is in the portal once, as entered
            assert [q.external_ref for q in db.find_quotes(opportunity_id=victim)] == [
                failed.reference
            ]

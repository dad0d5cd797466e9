"""The store keeps every work item's journey, on a SQLite file and on PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from pydantic import BaseModel
from sqlalchemy import create_engine, inspect, text

import store
from schemas.findings import FINDINGS_COLUMNS, Finding
from schemas.work import (
    FailureKind,
    IntentAction,
    IntentStatus,
    ItemState,
    ReviewAction,
    RunStatus,
)
from store.migrations import alembic_config, make_engine, metadata, migrate, writer

S = ItemState


class Clock:
    """A clock the test moves forward, so lease expiry and backoff need no sleeping."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or a PostgreSQL schema of its own."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('store') / 'quotebot.sqlite'}"
        return
    yield request.getfixturevalue("pg_url")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def db(db_url: str, clock: Clock) -> Iterator[store.Store]:
    with store.open_store(db_url, clock=clock) as opened:
        opened.ensure_engagement("acme", "acme", "http://127.0.0.1:8001")
        yield opened


def new_item(
    db: store.Store, opportunity_id: str = "OPP-1", contract_end: date | None = date(2027, 3, 31)
) -> int:
    item = db.ensure_item(
        "acme", opportunity_id, contract_end=contract_end, account_name="Initech", data={}
    )
    return item.id


# -- migrations ------------------------------------------------------------------------------


def test_an_empty_database_is_migrated_to_head_and_matches_the_models(db_url: str) -> None:
    with store.open_store(db_url) as first:
        with first.engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
            head = ScriptDirectory.from_config(alembic_config()).get_current_head()
            assert current == head
            # What `alembic check` does: the migrations create exactly what the models say.
            # The task queue's tables (migration 0006) are procrastinate's, not our models'.
            ours = {"include_name": lambda name, kind, _: not str(name).startswith("procrastinate")}
            diff = compare_metadata(MigrationContext.configure(conn, opts=ours), metadata)
            assert diff == []
    # Opening again (a second process, a restart) is a no-op.
    with store.open_store(db_url) as second:
        assert second.engagements() == []


_OLD_ITEMS = """
INSERT INTO engagements (id, name, flavour, portal_url, created_at)
VALUES (1, 'acme', 'acme', 'http://x', '2026-11-01 09:00:00');
INSERT INTO work_items (id, engagement_id, opportunity_id, reference, revision, state,
  account_name, data, attempts, created_at, updated_at)
VALUES (1, 1, 'OPP-1', 'acme-OPP-1', 0, 'new', 'A', '{}', 0, '2026-11-01 09:00:00',
  '2026-11-01 09:00:00'),
  (2, 1, 'OPP-2', 'acme-OPP-2', 0, 'flagged', 'B', '{}', 0, '2026-11-01 09:00:00',
  '2026-11-03 09:00:00');
INSERT INTO item_events (item_id, from_state, to_state, at) VALUES
  (1, NULL, 'new', '2026-11-01 09:00:00'), (2, NULL, 'new', '2026-11-01 09:00:00'),
  (2, 'entered', 'flagged', '2026-11-02 09:00:00')
"""


def test_migrations_upgrade_a_populated_database_and_downgrade_cleanly(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        migrate(engine, "0001")  # a database from before reviews existed, with work in it
        with engine.begin() as conn:  # as quotebot 0001 wrote it: its columns only
            for statement in _OLD_ITEMS.split(";"):
                conn.execute(text(statement))
        with store.open_store(db_url) as db:
            # The review queue's order is read from the history of what is already in it.
            assert db.item(2).queued_at == datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
            db.transition(1, S.PRICED)
            assert db.item(1).state is S.PRICED and db.reviews(1) == []
            assert db.item(1).queued_at is None
        with writer(engine).connect() as conn, conn.begin():
            command.downgrade(alembic_config(conn), "base")
        with engine.connect() as conn:
            assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
    finally:
        engine.dispose()


def test_a_database_from_a_newer_quotebot_is_refused_clearly(db_url: str) -> None:
    store.open_store(db_url).close()
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(store.StoreError, match="9999.*newer quotebot"):
        store.open_store(db_url)


def test_sqlite_files_are_shared_safely_between_processes(tmp_path: object) -> None:
    url = f"sqlite:///{tmp_path}/quotebot.sqlite"
    with store.open_store(url) as db, db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000


def test_in_memory_sqlite_is_refused() -> None:
    with pytest.raises(ValueError, match="SQLite file"):
        store.open_store("sqlite://")


# -- engagements and items -------------------------------------------------------------------


def test_ensure_engagement_is_idempotent_and_updates_the_portal(db: store.Store) -> None:
    moved = db.ensure_engagement("acme", "acme", "http://127.0.0.1:9000")
    assert [e.portal_url for e in db.engagements()] == ["http://127.0.0.1:9000"]
    assert moved.name == "acme"
    with pytest.raises(ValueError, match="engagement name 'a cme'"):
        db.ensure_engagement("a cme", "acme", "http://x")


def test_ensure_item_is_idempotent_and_refreshes_only_new_items(db: store.Store) -> None:
    first = db.ensure_item(
        "acme", "OPP-1", contract_end=date(2027, 3, 31), account_name="Initech", data={"n": 1}
    )
    again = db.ensure_item(
        "acme", "OPP-1", contract_end=date(2027, 3, 31), account_name="Initech", data={"n": 2}
    )
    assert again.id == first.id
    assert again.data == {"n": 2}
    assert first.reference == "QB-acme-OPP-1"
    assert [(e.from_state, e.to_state) for e in db.events(first.id)] == [(None, S.NEW)]

    db.transition(first.id, S.PRICED)
    late = db.ensure_item(
        "acme", "OPP-1", contract_end=date(2028, 1, 1), account_name="Other", data={"n": 3}
    )
    assert (late.data, late.contract_end, late.state) == ({"n": 2}, date(2027, 3, 31), S.PRICED)
    assert len(db.items("acme")) == 1

    with pytest.raises(store.UnknownEngagement, match="'globex'"):
        db.ensure_item("globex", "OPP-1", contract_end=None, account_name="x", data={})


def test_every_transition_is_an_event_and_a_correction_bumps_the_revision(
    db: store.Store, clock: Clock
) -> None:
    item_id = new_item(db)
    run = db.start_run("acme", "quote")
    path = [S.PRICED, S.ENTERED, S.FLAGGED, S.PRICED, S.ENTERED, S.VERIFIED, S.BOOKED]
    for to_state in path:
        clock.advance(minutes=5)
        db.transition(item_id, to_state, run_id=run.id, reason=f"to {to_state}", data={"k": 1})

    item = db.item(item_id)
    assert item.state is S.BOOKED
    assert (item.revision, item.reference) == (1, "QB-acme-OPP-1-R1")
    events = db.events(item_id)
    assert [(e.from_state, e.to_state) for e in events] == list(
        zip([None, S.NEW, *path[:-1]], [S.NEW, *path], strict=True)
    )
    assert all(e.run_id == run.id and e.data == {"k": 1} for e in events[1:])
    assert [e.at - events[0].at for e in events][-1] == timedelta(minutes=35)
    assert all(e.at.tzinfo is UTC for e in events)
    assert db.events(since=clock.now) == events[-1:]
    assert db.events(engagement="acme") == events


def test_invalid_transitions_are_refused_and_change_nothing(db: store.Store) -> None:
    item_id = new_item(db)
    with pytest.raises(store.InvalidTransition, match=r"new → entered is not allowed"):
        db.transition(item_id, S.ENTERED)
    with pytest.raises(ValueError, match="Store.fail"):
        db.transition(item_id, S.FAILED)
    with pytest.raises(store.UnknownRecord, match="no work item 999"):
        db.transition(999, S.PRICED)
    for to_state in (S.PRICED, S.ENTERED, S.VERIFIED, S.BOOKED):
        db.transition(item_id, to_state)
    with pytest.raises(store.InvalidTransition):
        db.fail(item_id, FailureKind.SYSTEM, "too late", code="timeout")
    with pytest.raises(store.InvalidTransition):
        db.transition(item_id, S.NEW)
    assert db.item(item_id).state is S.BOOKED
    assert len(db.events(item_id)) == 5


def test_failures_keep_kind_code_and_reason_and_a_retry_starts_over(db: store.Store) -> None:
    item_id = new_item(db)
    db.transition(item_id, S.PRICED)
    failed = db.fail(item_id, "business", "SKU NET-9 is not in the price book", code="unknown_sku")
    assert (failed.state, failed.failure_kind, failed.failure_code) == (
        S.FAILED,
        FailureKind.BUSINESS,
        "unknown_sku",
    )
    assert failed.failure_reason == "SKU NET-9 is not in the price book"
    last = db.events(item_id)[-1]
    assert (last.from_state, last.to_state, last.data) == (
        S.PRICED,
        S.FAILED,
        {"kind": "business", "code": "unknown_sku"},
    )
    retried = db.transition(item_id, S.NEW, reason="price book fixed")
    assert (retried.state, retried.failure_kind, retried.failure_reason, retried.attempts) == (
        S.NEW,
        None,
        None,
        0,
    )


def test_each_step_has_its_own_budget_of_attempts(db: store.Store, clock: Clock) -> None:
    """Failed tries while quoting, long since recovered, do not count against the booking."""
    item_id = new_item(db)
    for _ in range(3):
        assert db.claim("acme", [S.NEW], "w1", 60) is not None
        db.retry_later(item_id, code="http_503", reason="busy", delay=timedelta(0), worker="w1")
    assert db.item(item_id).attempts == 3
    for state in (S.PRICED, S.ENTERED):
        db.transition(item_id, state)
    db.retry_later(item_id, code="http_503", reason="busy", delay=timedelta(0))
    assert db.item(item_id).attempts == 4, "entering is still the quoting step"
    verified = db.transition(item_id, S.VERIFIED)
    assert (verified.attempts, verified.next_attempt_at) == (0, None)


def test_a_failed_item_with_an_open_submit_says_its_outcome_is_unknown(db: store.Store) -> None:
    item_id = new_item(db)
    for state in (S.PRICED, S.ENTERED):
        db.transition(item_id, state)
    intent = db.record_intent(item_id, IntentAction.ENTER_QUOTE, "QB-acme-OPP-1")
    failed = db.fail(item_id, "system", "portal down for 3 attempts", code="http_503")
    assert failed.failure_reason == (
        "portal down for 3 attempts; the outcome of its quote submit QB-acme-OPP-1 is unknown:"
        " look in the portal before entering it again"
    )
    assert [i.id for i in db.open_intents()] == [intent.id]  # kept, for whoever looks


def test_system_errors_back_off_before_the_item_is_claimable_again(
    db: store.Store, clock: Clock
) -> None:
    item_id = new_item(db)
    assert db.claim("acme", [S.NEW], "w1", 60) is not None
    later = db.retry_later(
        item_id, code="timeout", reason="portal took 30 s", delay=timedelta(minutes=2), worker="w1"
    )
    assert (later.attempts, later.claimed_by, later.state) == (1, None, S.NEW)
    assert later.next_attempt_at == clock.now + timedelta(minutes=2)
    assert db.claim("acme", [S.NEW], "w2", 60) is None
    clock.advance(minutes=2)
    assert db.claim("acme", [S.NEW], "w2", 60) is not None
    attempt = db.events(item_id)[-1]
    assert (attempt.from_state, attempt.to_state, attempt.reason) == (
        S.NEW,
        S.NEW,
        "portal took 30 s",
    )
    assert attempt.data is not None and attempt.data["attempt"] == 1


# -- claims ----------------------------------------------------------------------------------


def test_an_expired_lease_hands_the_item_to_another_worker(db: store.Store, clock: Clock) -> None:
    item_id = new_item(db)
    first = db.claim("acme", [S.NEW], "w1", lease_seconds=60)
    assert first is not None and first.claimed_by == "w1"
    assert first.lease_until == clock.now + timedelta(seconds=60)
    assert db.claim("acme", [S.NEW], "w2", 60) is None

    clock.advance(seconds=61)  # w1 was killed: its lease runs out
    second = db.claim("acme", [S.NEW], "w2", 60)
    assert second is not None and (second.id, second.claimed_by) == (item_id, "w2")
    with pytest.raises(store.LeaseLost, match="held by 'w2'"):
        db.transition(item_id, S.PRICED, worker="w1")
    with pytest.raises(store.LeaseLost):
        db.renew_lease(item_id, "w1")
    db.release(first)  # w1's late release must not free w2's claim
    assert db.item(item_id).claimed_by == "w2"

    renewed = db.renew_lease(item_id, "w2", lease_seconds=600)
    assert renewed.lease_until == clock.now + timedelta(seconds=600)
    db.transition(item_id, S.PRICED, worker="w2")
    db.release(item_id, worker="w2")
    assert db.claim("acme", [S.PRICED], "w3", 60) is not None


def test_claims_take_the_soonest_contract_end_first(db: store.Store) -> None:
    new_item(db, "OPP-LATE", contract_end=date(2027, 9, 1))
    new_item(db, "OPP-NONE", contract_end=None)
    new_item(db, "OPP-SOON", contract_end=date(2027, 1, 1))
    order = []
    while (claimed := db.claim("acme", [S.NEW], "w", 60)) is not None:
        order.append(claimed.opportunity_id)
    assert order == ["OPP-SOON", "OPP-LATE", "OPP-NONE"]
    assert db.claim("acme", "new", "w", 60) is None


# -- runs ------------------------------------------------------------------------------------


def test_an_engagement_has_at_most_one_running_run(db: store.Store, clock: Clock) -> None:
    db.ensure_engagement("globex", "globex", "http://127.0.0.1:8002")
    run = db.start_run("acme", "quote", worker="host:1")
    with pytest.raises(store.RunAlreadyRunning, match=f"acme.*run {run.id}"):
        db.start_run("acme", "booking")
    assert db.start_run("globex", "quote").status is RunStatus.RUNNING

    finished = db.finish_run(run.id, "succeeded", {"quoted": 3, "flagged": 1})
    assert finished.counts == {"quoted": 3, "flagged": 1}
    assert finished.finished_at == clock.now
    with pytest.raises(store.RunNotRunning):
        db.finish_run(run.id, "failed")
    again = db.start_run("acme", "booking")
    assert [r.id for r in db.runs("acme")] == [run.id, again.id]
    assert db.run(run.id) == finished
    with pytest.raises(store.UnknownRecord, match="no run 999"):
        db.run(999)
    with pytest.raises(store.UnknownEngagement):
        db.start_run("initech", "quote")


def test_a_run_whose_process_died_is_abandoned_after_its_heartbeat_stops(
    db: store.Store, clock: Clock
) -> None:
    alive = db.start_run("acme", "quote")
    clock.advance(minutes=4)
    db.heartbeat(alive.id)
    clock.advance(minutes=4)
    assert db.abandon_stale_runs(timedelta(minutes=5)) == []
    clock.advance(minutes=2)
    [abandoned] = db.abandon_stale_runs(timedelta(minutes=5))
    assert (abandoned.id, abandoned.status) == (alive.id, RunStatus.ABANDONED)
    with pytest.raises(store.RunNotRunning, match="abandoned"):
        db.heartbeat(alive.id)
    assert db.start_run("acme", "quote").id != alive.id
    assert [r.status for r in db.runs(status="abandoned")] == [RunStatus.ABANDONED]


# -- exactly once ----------------------------------------------------------------------------


def test_intents_are_recorded_before_a_submit_and_listed_for_reconciliation(
    db: store.Store,
) -> None:
    item_id = new_item(db)
    other_id = new_item(db, "OPP-2")
    intent = db.record_intent(item_id, "enter_quote", "QB-acme-OPP-1")
    with pytest.raises(store.OpenIntentExists, match=f"open intent {intent.id}"):
        db.record_intent(item_id, "enter_quote", "QB-acme-OPP-1")
    lost = db.record_intent(other_id, "enter_quote", "QB-acme-OPP-2")
    # ... the process dies here; on restart the bot looks each open intent up in the portal.
    assert [i.id for i in db.open_intents("acme")] == [intent.id, lost.id]

    done = db.complete_intent(intent.id, "Q-1001")
    assert (done.status, done.portal_id) == (IntentStatus.COMPLETED, "Q-1001")
    assert db.item(item_id).quote_number == "Q-1001"
    cancelled = db.cancel_intent(lost.id, "no quote with reference QB-acme-OPP-2 in the portal")
    assert cancelled.status is IntentStatus.CANCELLED
    assert db.open_intents("acme") == []
    with pytest.raises(store.IntentClosed):
        db.complete_intent(lost.id, "Q-1002")

    booking = db.record_intent(item_id, "enter_booking", "QB-acme-OPP-1")
    db.complete_intent(booking.id, "SO-77")
    assert db.item(item_id).order_number == "SO-77"
    assert [i.action for i in db.intents(item_id)] == ["enter_quote", "enter_booking"]


# -- review ---------------------------------------------------------------------------------


def test_reviewers_accept_correct_or_escalate_and_every_decision_is_kept(db: store.Store) -> None:
    item_id = new_item(db)
    for to_state in (S.PRICED, S.ENTERED, S.FLAGGED):
        db.transition(item_id, to_state)
    escalated = db.review(item_id, "ana", "escalate", "discount looks intentional, ask sales")
    assert db.item(item_id).state is S.FLAGGED
    db.review(item_id, "ben", ReviewAction.CORRECT, "use the 2027 price book")
    corrected = db.item(item_id)
    assert (corrected.state, corrected.revision) == (S.PRICED, 1)
    last = db.events(item_id)[-1]
    assert (last.from_state, last.to_state, last.reason) == (
        S.FLAGGED,
        S.PRICED,
        "use the 2027 price book",
    )
    assert last.data == {"review": "correct", "reviewer": "ben"}
    db.transition(item_id, S.ENTERED)
    db.transition(item_id, S.FLAGGED)
    db.review(item_id, "ana", "accept", "within tolerance agreed with the client")
    assert db.item(item_id).state is S.VERIFIED
    assert [(r.reviewer, r.action, r.revision) for r in db.reviews(item_id)] == [
        ("ana", "escalate", 0),
        ("ben", "correct", 0),
        ("ana", "accept", 1),
    ]
    assert escalated.at.tzinfo is UTC
    with pytest.raises(store.InvalidTransition, match="verified → accept"):
        db.review(item_id, "ana", "accept", "again")
    with pytest.raises(ValueError, match="note"):
        db.review(item_id, "ana", "escalate", " ")


def test_the_review_queue_holds_flagged_quotes_and_business_failures(
    db: store.Store, clock: Clock
) -> None:
    flagged, bad_data, timed_out, fine = (new_item(db, f"OPP-{n}") for n in range(4))
    db.fail(bad_data, "business", "contract end date missing", code="missing_expiry")
    for to_state in (S.PRICED, S.ENTERED, S.FLAGGED):
        clock.advance(minutes=1)
        db.transition(flagged, to_state)
    db.fail(timed_out, "system", "portal down for 3 attempts", code="timeout")
    db.transition(fine, S.PRICED)
    assert [i.id for i in db.review_queue("acme")] == [bad_data, flagged]

    db.review(bad_data, "ana", "correct", "client confirmed 2027-03-31")
    assert db.item(bad_data).state is S.NEW
    assert [i.id for i in db.review_queue()] == [flagged]


# -- audit output ----------------------------------------------------------------------------


def test_recording_findings_replaces_the_previous_audit(db: store.Store) -> None:
    item_id = new_item(db)
    price = Finding.of(
        "unit_price_mismatch",
        "Q-1",
        "OPP-1",
        sku="NET-SUP-100",
        line_no=1,
        expected="1134.00",
        actual="1200.00",
    )
    late = {"rule": "late_quote", "severity": "warning", "message": "quoted 90 days ahead"}
    first = db.record_findings(item_id, [price, late])
    assert [(f.rule, f.expected, f.line_no, f.sku) for f in first] == [
        ("unit_price_mismatch", "1134.00", 1, "NET-SUP-100"),
        ("late_quote", "", None, ""),
    ]
    assert first[1].opportunity_id == "OPP-1"
    # What the review queue shows is the audit's own finding again.
    columns = set(FINDINGS_COLUMNS)
    assert Finding.model_validate(db.findings(item_id)[0].model_dump(include=columns)) == price

    db.record_findings(item_id, [late])
    assert [f.rule for f in db.findings(item_id)] == ["late_quote"]
    db.record_findings(item_id, [])
    assert db.findings(item_id) == []
    with pytest.raises(ValueError, match="finding 0: unknown field"):
        db.record_findings(item_id, [{**late, "colour": "red"}])
    with pytest.raises(ValueError, match="finding 0: missing severity"):
        db.record_findings(item_id, [{"rule": "late_quote", "message": "x"}])


def test_quotes_keep_money_exact(db: store.Store) -> None:
    item_id = new_item(db)

    class Line(BaseModel):
        sku: str
        unit_price: Decimal
        term_start: date

    expected = {
        "lines": [Line(sku="A", unit_price=Decimal("1134.000001"), term_start=date(2027, 4, 1))]
    }
    snapshot = {"total": Decimal("2268.00"), "lines": [{"unit_price": Decimal("1134.00")}]}
    item = db.record_quote(item_id, "Q-1", expected, snapshot)
    assert item.quote_number == "Q-1"
    stored = db.item(item_id)
    assert stored.expected == {
        "lines": [{"sku": "A", "unit_price": "1134.000001", "term_start": "2027-04-01"}]
    }
    assert Line.model_validate(stored.expected["lines"][0]).unit_price == Decimal("1134.000001")
    assert stored.snapshot is not None and Decimal(stored.snapshot["total"]) == Decimal("2268.00")
    with pytest.raises(TypeError, match=r"float at snapshot\['total'\]"):
        db.record_quote(item_id, "Q-1", expected, {"total": 2268.0})


def test_evidence_files_are_listed_per_item(db: store.Store) -> None:
    item_id = new_item(db)
    run = db.start_run("acme", "quote")
    db.add_evidence(item_id, "screenshot", "var/evidence/1.png", run_id=run.id)
    db.add_evidence(item_id, "trace", "var/evidence/1.zip")
    assert [(e.kind, e.path, e.run_id) for e in db.evidence(item_id)] == [
        ("screenshot", "var/evidence/1.png", run.id),
        ("trace", "var/evidence/1.zip", None),
    ]
    with pytest.raises(ValueError):
        db.add_evidence(item_id, "video", "x.webm")


def test_reports_count_items_by_state(db: store.Store) -> None:
    for n in range(3):
        new_item(db, f"OPP-{n}")
    db.transition(db.items("acme")[0].id, S.PRICED)
    counts = db.counts("acme")
    assert counts[S.NEW] == 2 and counts[S.PRICED] == 1 and counts[S.BOOKED] == 0
    assert [i.opportunity_id for i in db.items(state="new")] == ["OPP-1", "OPP-2"]
    assert [i.opportunity_id for i in db.items("acme", limit=2, offset=1)] == ["OPP-1", "OPP-2"]
    assert len(db.events(engagement="acme", limit=2)) == 2
    assert db.item_for("acme", "OPP-0") is not None and db.item_for("acme", "OPP-9") is None


def test_the_clock_must_be_timezone_aware(db_url: str) -> None:
    with store.open_store(db_url, clock=lambda: datetime(2026, 1, 1)) as naive:
        with pytest.raises(ValueError, match="timezone-aware"):
            naive.ensure_engagement("acme", "acme", "http://x")

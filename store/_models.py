"""The tables: SQLAlchemy 2 typed models. Private: the store hands out `schemas.work` records."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from schemas.work import STILL_TO_DO_STATES
from store._types import UTCDateTime

# Explicit constraint names, so migrations can name what they alter on both databases.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


STILL_TO_DO_WHERE = "entered_at IS NULL AND state IN ({})".format(
    ", ".join(f"'{state.value}'" for state in STILL_TO_DO_STATES)
)
"""`schemas.work.STILL_TO_DO` in SQL: in a state of `STILL_TO_DO_STATES`, never entered."""


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON()}


class EngagementRow(Base):
    __tablename__ = "engagements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    flavour: Mapped[str] = mapped_column(String(64))
    portal_url: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime]


class RunRow(Base):
    __tablename__ = "runs"
    __table_args__ = (
        # At most one running run per engagement, enforced by the database itself so that
        # two schedulers racing on two machines cannot both start one.
        Index(
            "uq_runs_one_running",
            "engagement_id",
            unique=True,
            sqlite_where=text("status = 'running'"),
            postgresql_where=text("status = 'running'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagements.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    worker: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime]
    heartbeat_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    counts: Mapped[dict[str, Any]]
    error: Mapped[str | None] = mapped_column(Text)


class ItemRow(Base):
    __tablename__ = "work_items"
    __table_args__ = (
        UniqueConstraint("engagement_id", "opportunity_id"),
        Index("ix_work_items_claim", "engagement_id", "state"),
        # Not unique: an engagement name or opportunity id containing "-R1" could collide, and
        # lookups by reference are always within one engagement (one portal).
        Index("ix_work_items_reference", "engagement_id", "reference"),
        # The review queue, longest waiting first, a page at a time: only its items, with
        # what its filters and counts read, so that they never touch the table.
        Index(
            "ix_work_items_queue",
            "queued_at",
            "state",
            "failure_kind",
            "failure_code",
            "engagement_id",
            sqlite_where=text("queued_at IS NOT NULL"),
            postgresql_where=text("queued_at IS NOT NULL"),
        ),
        # The items workers hold now (a running run's page): a handful among a million.
        Index(
            "ix_work_items_held",
            "engagement_id",
            "lease_until",
            sqlite_where=text("claimed_by IS NOT NULL"),
            postgresql_where=text("claimed_by IS NOT NULL"),
        ),
        # The renewals still to do (`schemas.work.STILL_TO_DO`) by engagement and end date:
        # the dashboard's backlog and the runs' "still to do" count them from here alone.
        # Covering (state, entered_at too): without them SQLite's planner preferred the claim
        # index and read 40 k rows of the table per engagement at 1 M items (70 ms, not 2).
        Index(
            "ix_work_items_still_to_do",
            "engagement_id",
            "contract_end",
            "state",
            "entered_at",
            sqlite_where=text(STILL_TO_DO_WHERE),
            postgresql_where=text(STILL_TO_DO_WHERE),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagements.id"))
    opportunity_id: Mapped[str] = mapped_column(String(100))
    reference: Mapped[str] = mapped_column(String(200))
    revision: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(20))
    account_name: Mapped[str] = mapped_column(String(300))
    contract_end: Mapped[date | None] = mapped_column(Date)
    data: Mapped[dict[str, Any]]
    quote_number: Mapped[str | None] = mapped_column(String(100))
    order_number: Mapped[str | None] = mapped_column(String(100))
    expected: Mapped[dict[str, Any] | None]
    snapshot: Mapped[dict[str, Any] | None]
    failure_kind: Mapped[str | None] = mapped_column(String(20))
    failure_code: Mapped[str | None] = mapped_column(String(100))
    failure_reason: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    lease_until: Mapped[datetime | None]
    queued_at: Mapped[datetime | None]
    """When it came into the audit team's queue (flagged, or failed on bad data); None while
    it is not there. An escalation keeps it: the item keeps its age and place."""
    created_at: Mapped[datetime]
    """When it was first read from the portal: its cycle times start here."""
    updated_at: Mapped[datetime]
    # Its milestones, each the first time it happened (`schemas.figures`), kept as it moves:
    entered_at: Mapped[datetime | None]
    verified_at: Mapped[datetime | None]
    booked_at: Mapped[datetime | None]
    checked_at: Mapped[datetime | None]
    """Its first read-back (entered → verified or flagged)."""


class EventRow(Base):
    __tablename__ = "item_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("work_items.id"), index=True)
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(index=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"), index=True)
    """The run page reads a run's events by it."""
    reason: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any] | None]


class IntentRow(Base):
    __tablename__ = "intents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("work_items.id"), index=True)
    action: Mapped[str] = mapped_column(String(20))
    reference: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"))
    portal_id: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    note: Mapped[str | None] = mapped_column(Text)


class FindingRow(Base):
    __tablename__ = "findings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("work_items.id"), index=True)
    revision: Mapped[int] = mapped_column(Integer)
    quote_id: Mapped[str] = mapped_column(String(100))
    opportunity_id: Mapped[str] = mapped_column(String(100))
    sku: Mapped[str | None] = mapped_column(String(100))
    line_no: Mapped[int | None] = mapped_column(Integer)
    rule: Mapped[str] = mapped_column(String(64), index=True)
    severity: Mapped[str] = mapped_column(String(20))
    field: Mapped[str | None] = mapped_column(String(64))
    expected: Mapped[str | None] = mapped_column(Text)
    actual: Mapped[str | None] = mapped_column(Text)
    message: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(index=True)


class EvidenceRow(Base):
    __tablename__ = "evidence"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("work_items.id"), index=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"))
    kind: Mapped[str] = mapped_column(String(20))
    path: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class ReviewRow(Base):
    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("work_items.id"), index=True)
    revision: Mapped[int] = mapped_column(Integer)
    reviewer: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime]


class UserRow(Base):
    """A person who signs in to the web pages (operations, audit, managers)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    failed_logins: Mapped[int] = mapped_column(Integer)
    last_failed_at: Mapped[datetime | None]
    disabled: Mapped[bool]
    all_engagements: Mapped[bool]
    """Sees every engagement (managers may be given this); otherwise only those assigned."""


class UserEngagementRow(Base):
    """Which engagements (clients) a person works on: they see nothing of the others."""

    __tablename__ = "user_engagements"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagements.id"), primary_key=True)


class WebSessionRow(Base):
    """A signed-in session: the cookie is only a key to this row, so ending it here ends it."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    """SHA-256 of the session id the cookie carries: a copy of this table signs no one in."""
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    address: Mapped[str | None] = mapped_column(String(100))
    ended_at: Mapped[datetime | None]
    ended_why: Mapped[str | None] = mapped_column(String(30))


class TrailRow(Base):
    """The append-only audit trail: who did what to which item, when, before and after."""

    __tablename__ = "audit_trail"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(50))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("work_items.id"), index=True)
    subject: Mapped[str] = mapped_column(String(300))
    note: Mapped[str | None] = mapped_column(Text)
    before: Mapped[dict[str, Any] | None]
    after: Mapped[dict[str, Any] | None]


class ScheduleControlRow(Base):
    """Operations' hand on an engagement's schedule: paused, or a run asked for now."""

    __tablename__ = "schedule_controls"
    __table_args__ = (UniqueConstraint("engagement", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    engagement: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(20))
    paused: Mapped[bool]
    run_requested_at: Mapped[datetime | None]
    changed_by: Mapped[str] = mapped_column(String(100))
    changed_at: Mapped[datetime]


class SchedulerBeatRow(Base):
    """A running scheduler's heartbeat: the schedule page says whether one is alive."""

    __tablename__ = "scheduler_heartbeats"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    beat_at: Mapped[datetime]


class SignInFailureRow(Base):
    """Failed sign-ins in a row per address, name or known device: every server process
    of the pages counts the same guesses."""

    __tablename__ = "sign_in_failures"

    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    last_failed_at: Mapped[datetime] = mapped_column(index=True)


class FleetWorkerRow(Base):
    """A live (or lately dead) fleet worker process: `quotebot workers` reads these."""

    __tablename__ = "fleet_workers"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    host: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int]
    engagements: Mapped[list[str]] = mapped_column(JSON)
    slots: Mapped[int]
    started_at: Mapped[datetime]
    heartbeat_at: Mapped[datetime]
    in_hand: Mapped[list[dict[str, Any]]] = mapped_column(JSON)


class CountTallyRow(Base):
    """Per engagement, UTC day and metric: how often it happened (`schemas.figures`)."""

    __tablename__ = "tally_counts"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagements.id"), primary_key=True)
    metric: Mapped[str] = mapped_column(String(40), primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


class CycleTallyRow(Base):
    """Per engagement, UTC day a span ended, span and 1 % duration bucket: how many."""

    __tablename__ = "tally_cycles"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagements.id"), primary_key=True)
    span: Mapped[str] = mapped_column(String(40), primary_key=True)
    bucket: Mapped[int] = mapped_column(Integer, primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


class StateTallyRow(Base):
    """Per engagement, state and failure kind ('' for none): how many items are there now."""

    __tablename__ = "tally_states"

    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagements.id"), primary_key=True)
    state: Mapped[str] = mapped_column(String(20), primary_key=True)
    failure_kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


class AlertRow(Base):
    """One cause's alert (engagement, rule, subject): the unique key makes every process
    that finds the same cause open the same alert."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(400), unique=True)
    engagement: Mapped[str] = mapped_column(String(64), index=True)
    rule: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text)
    link: Mapped[str] = mapped_column(String(500))
    state: Mapped[str] = mapped_column(String(20))
    opened_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    notified_at: Mapped[datetime | None]
    acked_by: Mapped[str | None] = mapped_column(String(100))
    acked_at: Mapped[datetime | None]
    ack_note: Mapped[str | None] = mapped_column(Text)


class AlertDeliveryRow(Base):
    """The outbox: one notice to one address or endpoint, sent by whichever process looks."""

    __tablename__ = "alert_deliveries"
    __table_args__ = (
        Index(
            "ix_alert_deliveries_due",
            "next_attempt_at",
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(20))
    target: Mapped[str] = mapped_column(String(500))
    message_id: Mapped[str] = mapped_column(String(100), unique=True)
    payload: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]


class AlertEndpointRow(Base):
    """A webhook endpoint that answered 410 Gone: nothing more is sent there."""

    __tablename__ = "alert_endpoints_stopped"

    target: Mapped[str] = mapped_column(String(500), primary_key=True)
    stopped_at: Mapped[datetime]
    why: Mapped[str] = mapped_column(Text)


class AlertSilenceRow(Base):
    """Operations silenced an engagement's notices until a time."""

    __tablename__ = "alert_silences"

    engagement: Mapped[str] = mapped_column(String(64), primary_key=True)
    until: Mapped[datetime]
    by: Mapped[str] = mapped_column(String(100))
    note: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime]


class SelectorCheckRow(Base):
    """The last read-only selector check of an engagement (the morning canary)."""

    __tablename__ = "selector_checks"

    engagement: Mapped[str] = mapped_column(String(64), primary_key=True)
    at: Mapped[datetime]
    drifts: Mapped[list[str]] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)


class RenewalRow(Base):
    """An upcoming renewal of the calendar, read ahead of its quoting window (the forecast)."""

    __tablename__ = "renewal_calendar"
    __table_args__ = (UniqueConstraint("engagement_id", "opportunity_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagements.id"))
    opportunity_id: Mapped[str] = mapped_column(String(100))
    account_name: Mapped[str] = mapped_column(String(300))
    contract_end: Mapped[date] = mapped_column(Date)
    annual_value: Mapped[str | None] = mapped_column(String(40))
    """Exact decimal as text (never a float)."""
    currency: Mapped[str | None] = mapped_column(String(3))
    seen_at: Mapped[datetime]


class SampleRow(Base):
    """A verified quote sent to the audit team as a quality-control sample, and their verdict."""

    __tablename__ = "quote_samples"
    __table_args__ = (UniqueConstraint("item_id", "revision"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("work_items.id"), index=True)
    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagements.id"), index=True)
    revision: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(20))
    """`share` (drawn at random) or `value` (above the engagement's threshold)."""
    sampled_at: Mapped[datetime]
    verdict: Mapped[str | None] = mapped_column(String(20))
    """None while waiting; `agreed` or `disagreed` with the automatic audit's "verified"."""
    reviewer: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None]


class FingerprintRow(Base):
    """What a selector map key's element looked like when it last resolved (issue 29): per
    engagement, flavour, key and map version, kept once."""

    __tablename__ = "element_fingerprints"
    __table_args__ = (UniqueConstraint("engagement", "flavour", "key", "map_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    engagement: Mapped[str] = mapped_column(String(64))
    flavour: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(200))
    map_version: Mapped[str] = mapped_column(String(16))
    """A hash of the map's text: a new map version keeps its own fingerprints."""
    selector: Mapped[str] = mapped_column(Text)
    fingerprint: Mapped[dict[str, Any]] = mapped_column(JSON)
    captured_at: Mapped[datetime]


class DriftTicketRow(Base):
    """A page that no longer matches its map: the evidence and the proposed patch, until a
    person approves (or dismisses) it."""

    __tablename__ = "drift_tickets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    engagement: Mapped[str] = mapped_column(String(64), index=True)
    flavour: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(Text)
    selector: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))
    opened_at: Mapped[datetime]
    run_id: Mapped[int | None] = mapped_column(Integer)
    check: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    screenshot: Mapped[str | None] = mapped_column(Text)
    map_path: Mapped[str | None] = mapped_column(Text)
    proposed: Mapped[str | None] = mapped_column(Text)
    patch: Mapped[str | None] = mapped_column(Text)
    map_before: Mapped[str | None] = mapped_column(Text)
    map_after: Mapped[str | None] = mapped_column(Text)
    write: Mapped[bool]
    healed: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None]


class MapVersionRow(Base):
    """One version of an engagement's selector map: the text, who wrote it and when."""

    __tablename__ = "selector_map_versions"
    __table_args__ = (UniqueConstraint("engagement", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    engagement: Mapped[str] = mapped_column(String(64))
    number: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    written_by: Mapped[str] = mapped_column(String(200))
    written_at: Mapped[datetime]
    note: Mapped[str] = mapped_column(Text)
    ticket_id: Mapped[int | None] = mapped_column(Integer)

"""Rows to `schemas.work` records: nothing mutable from the session leaves the store."""

from __future__ import annotations

from schemas.work import (
    Engagement,
    Evidence,
    EvidenceKind,
    FailureKind,
    Intent,
    IntentAction,
    IntentStatus,
    ItemEvent,
    ItemState,
    Review,
    ReviewAction,
    Run,
    RunKind,
    RunStatus,
    StoredFinding,
    WorkItem,
)
from store._models import (
    EngagementRow,
    EventRow,
    EvidenceRow,
    FindingRow,
    IntentRow,
    ItemRow,
    ReviewRow,
    RunRow,
)


def engagement(row: EngagementRow) -> Engagement:
    return Engagement(
        id=row.id,
        name=row.name,
        flavour=row.flavour,
        portal_url=row.portal_url,
        created_at=row.created_at,
    )


def run(row: RunRow, engagement_name: str) -> Run:
    return Run(
        id=row.id,
        engagement=engagement_name,
        kind=RunKind(row.kind),
        status=RunStatus(row.status),
        worker=row.worker,
        started_at=row.started_at,
        heartbeat_at=row.heartbeat_at,
        finished_at=row.finished_at,
        counts=dict(row.counts),
        error=row.error,
    )


def item(row: ItemRow, engagement_name: str) -> WorkItem:
    return WorkItem(
        id=row.id,
        engagement=engagement_name,
        opportunity_id=row.opportunity_id,
        reference=row.reference,
        revision=row.revision,
        state=ItemState(row.state),
        account_name=row.account_name,
        contract_end=row.contract_end,
        data=dict(row.data),
        quote_number=row.quote_number,
        order_number=row.order_number,
        expected=row.expected,
        snapshot=row.snapshot,
        failure_kind=FailureKind(row.failure_kind) if row.failure_kind else None,
        failure_code=row.failure_code,
        failure_reason=row.failure_reason,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        claimed_by=row.claimed_by,
        lease_until=row.lease_until,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def event(row: EventRow) -> ItemEvent:
    return ItemEvent(
        id=row.id,
        item_id=row.item_id,
        from_state=ItemState(row.from_state) if row.from_state else None,
        to_state=ItemState(row.to_state),
        at=row.at,
        run_id=row.run_id,
        reason=row.reason,
        data=row.data,
    )


def intent(row: IntentRow) -> Intent:
    return Intent(
        id=row.id,
        item_id=row.item_id,
        action=IntentAction(row.action),
        reference=row.reference,
        status=IntentStatus(row.status),
        run_id=row.run_id,
        portal_id=row.portal_id,
        created_at=row.created_at,
        closed_at=row.closed_at,
        note=row.note,
    )


def finding(row: FindingRow) -> StoredFinding:
    return StoredFinding(
        id=row.id,
        item_id=row.item_id,
        revision=row.revision,
        quote_id=row.quote_id,
        opportunity_id=row.opportunity_id,
        sku=row.sku,
        line_no=row.line_no,
        rule=row.rule,
        severity=row.severity,
        field=row.field,
        expected=row.expected,
        actual=row.actual,
        message=row.message,
        recorded_at=row.recorded_at,
    )


def evidence(row: EvidenceRow) -> Evidence:
    return Evidence(
        id=row.id,
        item_id=row.item_id,
        run_id=row.run_id,
        kind=EvidenceKind(row.kind),
        path=row.path,
        created_at=row.created_at,
    )


def review(row: ReviewRow) -> Review:
    return Review(
        id=row.id,
        item_id=row.item_id,
        revision=row.revision,
        reviewer=row.reviewer,
        action=ReviewAction(row.action),
        note=row.note,
        at=row.at,
    )

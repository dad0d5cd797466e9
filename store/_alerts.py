"""Alerts, one row per cause, and their notices: opened, repeated, resolved and queued in
one transaction, so that two schedulers and any number of fleet workers that find the same
cause open one alert and queue its notices once."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from schemas.alerts import (
    Alert,
    AlertRule,
    AlertState,
    Cause,
    Channel,
    Delivery,
    DeliveryStatus,
    NoticeKind,
    Silence,
)
from store._base import StoreBase
from store._errors import UnknownRecord
from store._models import AlertDeliveryRow, AlertEndpointRow, AlertRow, AlertSilenceRow, TrailRow

Targets = Callable[[str], Sequence[tuple[Channel, str]]]
"""Where an engagement's notices go: (channel, address or URL) pairs."""
Compose = Callable[[Alert, NoticeKind, str], dict[str, Any]]
"""The notice's content for an alert, a kind and its message id (stored, sent as is)."""


class AlertsMixin(StoreBase):
    def observe_alerts(
        self,
        found: Sequence[Cause],
        *,
        held: Collection[str],
        repeat_after: timedelta,
        targets: Targets,
        compose: Compose,
    ) -> list[Delivery]:
        """One evaluation's causes: open the new ones, repeat the old ones past
        `repeat_after`, resolve the open ones no longer found; queue each notice. Keys in
        `held` (held back by a broader cause) are left as they are. Returns what it queued."""
        now = self.now()
        by_key = {cause.key: cause for cause in found}
        queued: list[Delivery] = []
        with self._write() as session:
            for key in sorted(by_key):  # one lock order for every process
                insert = self._insert(AlertRow).values(
                    key=key,
                    engagement=by_key[key].engagement,
                    rule=by_key[key].rule.value,
                    subject=by_key[key].subject,
                    summary=by_key[key].summary,
                    link=by_key[key].link,
                    state=AlertState.RESOLVED.value,
                    opened_at=now,
                    last_seen_at=now,
                )
                session.execute(insert.on_conflict_do_nothing(index_elements=["key"]))
            silenced = self._silenced(session, now)
            rows = session.scalars(
                select(AlertRow)
                .where(AlertRow.key.in_(list(by_key)) | (AlertRow.state == AlertState.OPEN.value))
                .order_by(AlertRow.key)
                .with_for_update()
            ).all()
            for row in rows:
                kind = _next_notice(row, by_key.get(row.key), held, now, repeat_after)
                if kind is None:
                    continue
                if kind is NoticeKind.RESOLVED:
                    row.state, row.resolved_at = AlertState.RESOLVED.value, now
                    if row.notified_at is None:
                        continue  # never heard of (held back, silenced): nothing to clear
                else:
                    cause = by_key[row.key]
                    row.summary, row.link, row.last_seen_at = cause.summary, cause.link, now
                    if row.state != AlertState.OPEN.value:  # (re)opened: a new episode
                        row.state, row.opened_at, row.resolved_at = AlertState.OPEN.value, now, None
                        row.notified_at = row.acked_by = row.acked_at = row.ack_note = None
                    if row.key in held or row.engagement in silenced:
                        continue
                    row.notified_at = now
                queued += self._queue(session, row, kind, targets, compose, now)
            return queued

    def _queue(
        self,
        session: Session,
        row: AlertRow,
        kind: NoticeKind,
        targets: Targets,
        compose: Compose,
        now: datetime,
    ) -> list[Delivery]:
        session.flush()
        alert = _alert(row)
        stopped = set(session.scalars(select(AlertEndpointRow.target)))
        out = []
        for channel, target in targets(row.engagement):
            if target in stopped:
                continue
            message_id = f"msg_{uuid.uuid4().hex}"
            delivery = AlertDeliveryRow(
                alert_id=row.id,
                kind=kind.value,
                channel=channel.value,
                target=target,
                message_id=message_id,
                payload=compose(alert, kind, message_id),
                status=DeliveryStatus.PENDING.value,
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
            session.add(delivery)
            session.flush()
            out.append(_delivery(delivery))
        return out

    def _silenced(self, session: Session, now: datetime) -> set[str]:
        return set(
            session.scalars(select(AlertSilenceRow.engagement).where(AlertSilenceRow.until > now))
        )

    def due_deliveries(self, *, limit: int = 50, lease: timedelta) -> list[Delivery]:
        """Notices due to be sent, taken for `lease` (another process skips them until then;
        a process killed while sending leaves them to the next one when it runs out)."""
        now = self.now()
        with self._write() as session:
            query = (
                select(AlertDeliveryRow)
                .where(AlertDeliveryRow.status == DeliveryStatus.PENDING.value)
                .where(AlertDeliveryRow.next_attempt_at <= now)
                .order_by(AlertDeliveryRow.next_attempt_at, AlertDeliveryRow.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
            rows = session.scalars(query).all()
            for row in rows:
                row.next_attempt_at = now + lease
            return [_delivery(r) for r in rows]

    def delivery_sent(self, delivery_id: int) -> None:
        with self._write() as session:
            row = self._delivery_row(session, delivery_id)
            row.status, row.sent_at = DeliveryStatus.SENT.value, self.now()
            row.attempts += 1
            row.last_error = None

    def delivery_failed(self, delivery_id: int, error: str, retry_in: timedelta) -> None:
        """A send failed: tried again after `retry_in` (the caller's backoff)."""
        with self._write() as session:
            row = self._delivery_row(session, delivery_id)
            row.attempts += 1
            row.last_error = error
            row.next_attempt_at = self.now() + retry_in

    def _delivery_row(self, session: Session, delivery_id: int) -> AlertDeliveryRow:
        row = session.get(AlertDeliveryRow, delivery_id, with_for_update=True)
        if row is None:
            raise UnknownRecord("alert notice", delivery_id)
        return row

    def stop_endpoint(self, target: str, why: str) -> None:
        """An endpoint answered 410 Gone: its pending notices stop, none is queued for it."""
        now = self.now()
        with self._write() as session:
            session.execute(
                self._insert(AlertEndpointRow)
                .values(target=target, stopped_at=now, why=why)
                .on_conflict_do_nothing(index_elements=["target"])
            )
            rows = session.scalars(
                select(AlertDeliveryRow)
                .where(AlertDeliveryRow.target == target)
                .where(AlertDeliveryRow.status == DeliveryStatus.PENDING.value)
            )
            for row in rows:
                row.status, row.last_error = DeliveryStatus.STOPPED.value, why

    def stopped_endpoints(self) -> dict[str, str]:
        with self._read() as session:
            return {r.target: r.why for r in session.scalars(select(AlertEndpointRow))}

    def alerts(
        self,
        *,
        engagements: Collection[str] | None = None,
        since: datetime | None = None,
        limit: int = 200,
    ) -> list[Alert]:
        """Open alerts and those resolved since `since`, the open ones first, newest first;
        `engagements` (a person's scope) keeps the fleet's own ('')."""
        with self._read() as session:
            query = select(AlertRow)
            if engagements is not None:
                query = query.where(AlertRow.engagement.in_([*engagements, ""]))
            if since is not None:
                query = query.where(
                    (AlertRow.state == AlertState.OPEN.value) | (AlertRow.resolved_at >= since)
                )
            query = query.order_by(AlertRow.state, AlertRow.last_seen_at.desc()).limit(limit)
            return [_alert(r) for r in session.scalars(query)]

    def alert(self, alert_id: int) -> Alert:
        with self._read() as session:
            row = session.get(AlertRow, alert_id)
            if row is None:
                raise UnknownRecord("alert", alert_id)
            return _alert(row)

    def deliveries(self, alert_ids: Collection[int] | None = None) -> list[Delivery]:
        """Notices of these alerts (default all), oldest first."""
        with self._read() as session:
            query = select(AlertDeliveryRow).order_by(AlertDeliveryRow.id)
            if alert_ids is not None:
                query = query.where(AlertDeliveryRow.alert_id.in_(list(alert_ids)))
            return [_delivery(r) for r in session.scalars(query)]

    def acknowledge_alert(self, alert_id: int, actor: str, note: str) -> Alert:
        """Someone took the alert in hand (kept in the audit trail); it stays open."""
        now = self.now()
        with self._write() as session:
            row = session.get(AlertRow, alert_id, with_for_update=True)
            if row is None:
                raise UnknownRecord("alert", alert_id)
            before = {"acked_by": row.acked_by, "ack_note": row.ack_note}
            row.acked_by, row.acked_at, row.ack_note = actor, now, note
            session.add(
                TrailRow(
                    at=now,
                    actor=actor,
                    action="acknowledge_alert",
                    subject=f"alert {row.id}: {row.summary}"[:300],
                    note=note,
                    before=before,
                    after={"acked_by": actor, "ack_note": note},
                )
            )
            return _alert(row)

    def silence(self, engagement: str, until: datetime, actor: str, note: str) -> Silence:
        """No notices for the engagement's alerts until `until` (kept in the audit trail)."""
        now = self.now()
        with self._write() as session:
            self._engagement_id(session, engagement)
            row = session.get(AlertSilenceRow, engagement, with_for_update=True)
            before = None if row is None else {"until": row.until.isoformat()}
            if row is None:
                row = AlertSilenceRow(engagement=engagement, until=until, by=actor, note=note)
                session.add(row)
            row.until, row.by, row.note, row.at = until, actor, note, now
            session.add(
                TrailRow(
                    at=now,
                    actor=actor,
                    action="silence_alerts",
                    subject=f"alerts of {engagement}",
                    note=note,
                    before=before,
                    after={"until": until.isoformat()},
                )
            )
            return Silence(engagement=engagement, until=until, by=actor, note=note, at=now)

    def silences(self) -> list[Silence]:
        """Silences still running."""
        now = self.now()
        with self._read() as session:
            rows = session.scalars(
                select(AlertSilenceRow)
                .where(AlertSilenceRow.until > now)
                .order_by(AlertSilenceRow.engagement)
            )
            return [
                Silence(engagement=r.engagement, until=r.until, by=r.by, note=r.note, at=r.at)
                for r in rows
            ]


def _next_notice(
    row: AlertRow, cause: Cause | None, held: Collection[str], now: datetime, every: timedelta
) -> NoticeKind | None:
    """What this evaluation means for one alert: opened, repeated, resolved or nothing."""
    is_open = row.state == AlertState.OPEN.value
    if cause is None:
        return NoticeKind.RESOLVED if is_open and row.key not in held else None
    if not is_open:
        return NoticeKind.FIRING
    if row.notified_at is None:
        # Open but never sent (held back or silenced when it opened): send it once free.
        return NoticeKind.FIRING if row.key not in held else None
    if now - row.notified_at >= every:
        return NoticeKind.REPEAT
    row.last_seen_at, row.summary, row.link = now, cause.summary, cause.link
    return None


def _alert(row: AlertRow) -> Alert:
    return Alert(
        id=row.id,
        key=row.key,
        engagement=row.engagement,
        rule=AlertRule(row.rule),
        subject=row.subject,
        summary=row.summary,
        link=row.link,
        state=AlertState(row.state),
        opened_at=row.opened_at,
        last_seen_at=row.last_seen_at,
        resolved_at=row.resolved_at,
        notified_at=row.notified_at,
        acked_by=row.acked_by,
        acked_at=row.acked_at,
        ack_note=row.ack_note,
    )


def _delivery(row: AlertDeliveryRow) -> Delivery:
    return Delivery(
        id=row.id,
        alert_id=row.alert_id,
        kind=NoticeKind(row.kind),
        channel=Channel(row.channel),
        target=row.target,
        message_id=row.message_id,
        payload=row.payload,
        status=DeliveryStatus(row.status),
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        sent_at=row.sent_at,
        last_error=row.last_error,
        created_at=row.created_at,
    )

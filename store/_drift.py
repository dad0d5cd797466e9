"""Drift repairs (issue 29): the fingerprints runs keep, the drift tickets they open, and the
versions of an engagement's selector map that approvals write."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select

from schemas.fingerprint import DriftTicket, ElementFingerprint, MapVersion
from store._base import StoreBase
from store._errors import StoreError, UnknownRecord
from store._models import DriftTicketRow, FingerprintRow, MapVersionRow


class DriftMixin(StoreBase):
    def keep_fingerprints(
        self,
        engagement: str,
        flavour: str,
        map_version: str,
        found: Mapping[str, tuple[str, ElementFingerprint]],
    ) -> int:
        """Keep each key's fingerprint (key -> selector, fingerprint) unless this map version
        has one already; how many were new."""
        if not found:
            return 0
        now = self.now()
        rows = [
            {
                "engagement": engagement,
                "flavour": flavour,
                "key": key,
                "map_version": map_version,
                "selector": selector,
                "fingerprint": fingerprint.model_dump(mode="json"),
                "captured_at": now,
            }
            for key, (selector, fingerprint) in found.items()
        ]
        with self._write() as session:
            done = session.execute(
                self._insert(FingerprintRow)
                .values(rows)
                .on_conflict_do_nothing(
                    index_elements=["engagement", "flavour", "key", "map_version"]
                )
                .returning(FingerprintRow.id)
            )
            return len(done.all())

    def fingerprints(
        self, engagement: str, flavour: str
    ) -> dict[str, tuple[str, ElementFingerprint]]:
        """Each key's latest fingerprint (key -> the selector it was kept with, fingerprint)."""
        with self._read() as session:
            rows = session.scalars(
                select(FingerprintRow)
                .where(FingerprintRow.engagement == engagement, FingerprintRow.flavour == flavour)
                .order_by(FingerprintRow.captured_at, FingerprintRow.id)
            )
            return {
                r.key: (r.selector, ElementFingerprint.model_validate(r.fingerprint)) for r in rows
            }

    def open_drift_ticket(self, ticket: DriftTicket) -> DriftTicket:
        """Open a ticket (its `id` ignored), or return the one still open for the same
        engagement and key (once per cause), its evidence refreshed."""
        values: dict[str, Any] = ticket.model_dump(
            mode="json", exclude={"id", "opened_at", "decided_by", "decided_at", "status"}
        )
        with self._write() as session:
            row = session.scalars(
                select(DriftTicketRow).where(
                    DriftTicketRow.engagement == ticket.engagement,
                    DriftTicketRow.key == ticket.key,
                    DriftTicketRow.status == "open",
                )
            ).first()
            if row is None:
                row = DriftTicketRow(status="open", opened_at=self.now(), **values)
                session.add(row)
            else:
                for name, value in values.items():
                    if value is not None:
                        setattr(row, name, value)
            session.flush()
            return _ticket(row)

    def drift_tickets(
        self, *, status: str | None = None, engagement: str | None = None
    ) -> list[DriftTicket]:
        """Tickets, newest first."""
        query = select(DriftTicketRow).order_by(DriftTicketRow.id.desc())
        if status is not None:
            query = query.where(DriftTicketRow.status == status)
        if engagement is not None:
            query = query.where(DriftTicketRow.engagement == engagement)
        with self._read() as session:
            return [_ticket(r) for r in session.scalars(query)]

    def drift_ticket(self, ticket_id: int) -> DriftTicket:
        with self._read() as session:
            row = session.get(DriftTicketRow, ticket_id)
            if row is None:
                raise UnknownRecord("drift ticket", ticket_id)
            return _ticket(row)

    def decide_drift_ticket(self, ticket_id: int, by: str, *, approved: bool) -> DriftTicket:
        """A person's decision. Approving records the map as it was (the first version, if
        none is kept yet) and as the ticket's patch leaves it: who, when. The caller writes
        the new text to the engagement's map file."""
        now = self.now()
        with self._write() as session:
            row = session.get(DriftTicketRow, ticket_id, with_for_update=True)
            if row is None:
                raise UnknownRecord("drift ticket", ticket_id)
            if row.status != "open":
                raise StoreError(f"drift ticket {ticket_id} was already decided ({row.status})")
            if approved and (row.map_before is None or row.map_after is None):
                raise StoreError(f"drift ticket {ticket_id} proposes no patch to approve")
            row.status = "approved" if approved else "dismissed"
            row.decided_by, row.decided_at = by, now
            if approved:
                assert row.map_before is not None and row.map_after is not None
                if _last_version(session, row.engagement) is None:
                    _add_version(
                        session,
                        row.engagement,
                        row.map_before,
                        "quotebot",
                        now,
                        "the map before its first repair",
                    )
                _add_version(
                    session, row.engagement, row.map_after, by, now, f"repair of {row.key}", row.id
                )
            return _ticket(row)

    def restore_map_version(self, engagement: str, number: int, by: str) -> MapVersion:
        """Write an older version again, as the newest (going back keeps the history)."""
        now = self.now()
        with self._write() as session:
            old = session.scalars(
                select(MapVersionRow).where(
                    MapVersionRow.engagement == engagement, MapVersionRow.number == number
                )
            ).first()
            if old is None:
                raise UnknownRecord(f"selector map version of {engagement}", number)
            return _version(
                _add_version(session, engagement, old.text, by, now, f"back to version {number}")
            )

    def map_versions(self, engagement: str) -> list[MapVersion]:
        """An engagement's selector map versions, newest first."""
        with self._read() as session:
            rows = session.scalars(
                select(MapVersionRow)
                .where(MapVersionRow.engagement == engagement)
                .order_by(MapVersionRow.number.desc())
            )
            return [_version(r) for r in rows]


def _last_version(session: Any, engagement: str) -> int | None:
    found: int | None = session.scalar(
        select(func.max(MapVersionRow.number)).where(MapVersionRow.engagement == engagement)
    )
    return found


def _add_version(
    session: Any,
    engagement: str,
    text: str,
    by: str,
    at: Any,
    note: str,
    ticket_id: int | None = None,
) -> MapVersionRow:
    row = MapVersionRow(
        engagement=engagement,
        number=(_last_version(session, engagement) or 0) + 1,
        text=text,
        written_by=by,
        written_at=at,
        note=note,
        ticket_id=ticket_id,
    )
    session.add(row)
    session.flush()
    return row


def _ticket(row: DriftTicketRow) -> DriftTicket:
    return DriftTicket.model_validate(
        {c.name: getattr(row, c.name) for c in DriftTicketRow.__table__.columns}
    )


def _version(row: MapVersionRow) -> MapVersion:
    return MapVersion(
        engagement=row.engagement,
        number=row.number,
        text=row.text,
        written_by=row.written_by,
        written_at=row.written_at,
        note=row.note,
        ticket_id=row.ticket_id,
    )

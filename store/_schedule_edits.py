"""A schedule added or changed on the web pages: the scheduler told, the audit trail kept."""

from __future__ import annotations

from schemas.people import ScheduleControl
from store import _convert as convert
from store._base import StoreBase
from store._people import add_trail, control_row


class ScheduleEditsMixin(StoreBase):
    def schedule_edited(
        self,
        engagement: str,
        kind: str,
        actor: str,
        *,
        before: str | None,
        after: str,
        timezone: str,
    ) -> ScheduleControl:
        """Record that `actor` set the engagement's `kind` schedule to the cron `after`
        (`before`: what the engagements file said, None: it had none) in the file: a line
        of the audit trail, and a change of the schedule's control, so a running scheduler
        reads the file again for it within seconds (`scheduler.Controls`)."""
        now = self.now()
        with self._write() as session:
            row = control_row(session, engagement, kind, actor, now)
            row.changed_by, row.changed_at = actor, now
            add_trail(
                session,
                now,
                actor,
                "schedule_added" if before is None else "schedule_changed",
                f"{engagement} {kind}",
                before=None if before is None else {"cron": before, "timezone": timezone},
                after={"cron": after, "timezone": timezone},
            )
            session.flush()
            return convert.record(ScheduleControl, row)

"""Engagements and runs: at most one running run per engagement, recoverable after a crash."""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from datetime import timedelta

from loguru import logger
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from schemas.engagement import check_engagement_name
from schemas.work import Engagement, Run, RunKind, RunStatus
from store import _convert as convert
from store._base import StoreBase
from store._errors import RunAlreadyRunning, RunNotRunning, UnknownRecord
from store._models import EngagementRow, RunRow

_ONE_RUNNING = ("uq_runs_one_running", "runs.engagement_id")


def default_worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class RunsMixin(StoreBase):
    def ensure_engagement(self, name: str, flavour: str, portal_url: str) -> Engagement:
        """Register an engagement, or bring its flavour and portal URL up to date."""
        check_engagement_name(name)
        with self._write() as session:
            insert = self._insert(EngagementRow).values(
                name=name, flavour=flavour, portal_url=portal_url, created_at=self.now()
            )
            session.execute(insert.on_conflict_do_nothing(index_elements=["name"]))
            row = session.scalars(select(EngagementRow).where(EngagementRow.name == name)).one()
            row.flavour, row.portal_url = flavour, portal_url
            self._remember(row.id, row.name)
            return convert.record(Engagement, row)

    def engagements(self) -> list[Engagement]:
        with self._read() as session:
            rows = session.scalars(select(EngagementRow).order_by(EngagementRow.name))
            return [convert.record(Engagement, row) for row in rows]

    def start_run(self, engagement: str, kind: RunKind | str, *, worker: str | None = None) -> Run:
        """Begin a run; `RunAlreadyRunning` if the engagement has one in progress."""
        kind = RunKind(kind)
        now = self.now()
        try:
            with self._write() as session:
                row = RunRow(
                    engagement_id=self._engagement_id(session, engagement),
                    kind=kind.value,
                    status=RunStatus.RUNNING.value,
                    worker=worker or default_worker(),
                    started_at=now,
                    heartbeat_at=now,
                    counts={},
                )
                session.add(row)
                session.flush()
                return convert.run(row, engagement)
        except IntegrityError as error:
            # The partial unique index `uq_runs_one_running` refused a second running run
            # (PostgreSQL names the index; SQLite names its column).
            if not any(name in str(error.orig) for name in _ONE_RUNNING):
                raise
            running = self.runs(engagement, status=RunStatus.RUNNING)
            raise RunAlreadyRunning(engagement, running[0].id if running else None) from error

    def heartbeat(self, run_id: int) -> Run:
        """Say the run's process is alive; `RunNotRunning` tells a run it was abandoned."""
        with self._write() as session:
            row = self._running(session, run_id)
            row.heartbeat_at = self.now()
            return convert.run(row, self._engagement_name(session, row.engagement_id))

    def finish_run(
        self,
        run_id: int,
        status: RunStatus | str,
        counts: Mapping[str, int] | None = None,
        *,
        error: str | None = None,
    ) -> Run:
        """End a run with its outcome and counts (e.g. quoted, flagged, failed)."""
        status = RunStatus(status)
        if status is RunStatus.RUNNING:
            raise ValueError("finish_run needs a final status, not 'running'")
        with self._write() as session:
            row = self._running(session, run_id)
            row.status = status.value
            row.finished_at = row.heartbeat_at = self.now()
            row.counts = {str(k): int(v) for k, v in (counts or {}).items()}
            row.error = error
            return convert.run(row, self._engagement_name(session, row.engagement_id))

    def abandon_stale_runs(self, older_than: timedelta) -> list[Run]:
        """Mark runs silent for `older_than` abandoned, so their engagements can run again."""
        now = self.now()
        with self._write() as session:
            stale = session.scalars(
                select(RunRow)
                .where(RunRow.status == RunStatus.RUNNING.value)
                .where(RunRow.heartbeat_at < now - older_than)
                .order_by(RunRow.id)
                .with_for_update()
            ).all()
            for row in stale:
                row.status = RunStatus.ABANDONED.value
                row.finished_at = now
                row.error = f"no heartbeat since {row.heartbeat_at.isoformat()}"
                engagement = self._engagement_name(session, row.engagement_id)
                logger.bind(engagement=engagement, run=row.id).warning(
                    "run {} abandoned: {}", row.id, row.error
                )
            return [convert.run(r, self._engagement_name(session, r.engagement_id)) for r in stale]

    def run(self, run_id: int) -> Run:
        with self._read() as session:
            row = session.get(RunRow, run_id)
            if row is None:
                raise UnknownRecord("run", run_id)
            return convert.run(row, self._engagement_name(session, row.engagement_id))

    def runs(
        self, engagement: str | None = None, *, status: RunStatus | str | None = None
    ) -> list[Run]:
        """Runs, oldest first, optionally of one engagement or with one status."""
        with self._read() as session:
            query = select(RunRow).order_by(RunRow.id)
            if engagement is not None:
                query = query.where(
                    RunRow.engagement_id == self._engagement_id(session, engagement)
                )
            if status is not None:
                query = query.where(RunRow.status == RunStatus(status).value)
            return [
                convert.run(row, self._engagement_name(session, row.engagement_id))
                for row in session.scalars(query)
            ]

    def _running(self, session: Session, run_id: int) -> RunRow:
        row = session.scalar(select(RunRow).where(RunRow.id == run_id).with_for_update())
        if row is None:
            raise UnknownRecord("run", run_id)
        if row.status != RunStatus.RUNNING.value:
            raise RunNotRunning(run_id, row.status)
        return row

"""The fleet's worker processes, as rows of `fleet_workers`: registered on start, beaten
on every heartbeat, their items in hand written as slots start and end them, removed on a
clean exit; and how many jobs wait in the queue per engagement.

A worker killed outright leaves its row behind: the row's heartbeat stops, and readers
call it dead once it is older than the fleet's stalled-worker time-out. Rows dead for
longer than `FORGET_DEAD_AFTER` are deleted when the next worker registers.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import delete, select, text, update

from schemas.fleet import FleetWorker, InHand
from store._base import StoreBase
from store._errors import UnknownRecord
from store._models import FleetWorkerRow

FORGET_DEAD_AFTER = timedelta(days=1)
"""A dead worker stays listed (as dead) this long, so operations see a machine that died."""


class FleetWorkersMixin(StoreBase):
    def register_worker(
        self, name: str, host: str, pid: int, engagements: Sequence[str], slots: int
    ) -> FleetWorker:
        """A worker process starting: its row, with nothing in hand (a row left under the
        same name by an earlier process is replaced)."""
        now = self.now()
        with self._write() as session:
            session.execute(
                delete(FleetWorkerRow).where(
                    (FleetWorkerRow.name == name)
                    | (FleetWorkerRow.heartbeat_at < now - FORGET_DEAD_AFTER)
                )
            )
            row = FleetWorkerRow(
                name=name,
                host=host,
                pid=pid,
                engagements=list(engagements),
                slots=slots,
                started_at=now,
                heartbeat_at=now,
                in_hand=[],
            )
            session.add(row)
            session.flush()
            return _record(row)

    def worker_beat(self, name: str) -> None:
        """The worker is alive; `UnknownRecord` when its row is gone (removed by hand)."""
        with self._write() as session:
            done = session.execute(
                update(FleetWorkerRow)
                .where(FleetWorkerRow.name == name)
                .values(heartbeat_at=self.now())
                .execution_options(synchronize_session=False)
            )
            if done.rowcount == 0:  # type: ignore[attr-defined]
                raise UnknownRecord("fleet worker", name)

    def worker_in_hand(self, name: str, in_hand: Sequence[InHand]) -> None:
        """What the worker's slots hold now, all of it (the worker writes its whole state,
        so two slots finishing at once never lose each other's line)."""
        with self._write() as session:
            session.execute(
                update(FleetWorkerRow)
                .where(FleetWorkerRow.name == name)
                .values(in_hand=[i.model_dump(mode="json") for i in in_hand])
                .execution_options(synchronize_session=False)
            )

    def unregister_worker(self, name: str) -> None:
        """A clean exit: the worker's row goes."""
        with self._write() as session:
            session.execute(delete(FleetWorkerRow).where(FleetWorkerRow.name == name))

    def fleet_workers(self) -> list[FleetWorker]:
        """Every registered worker, by host and process id (dead ones too: see `alive`)."""
        with self._read() as session:
            rows = session.scalars(
                select(FleetWorkerRow).order_by(FleetWorkerRow.host, FleetWorkerRow.pid)
            )
            return [_record(r) for r in rows]

    def jobs_waiting(self) -> dict[str, int]:
        """Jobs waiting in the fleet's queue (not yet taken), per engagement; empty on the
        embedded store, which has no queue."""
        if self.dialect != "postgresql":
            return {}
        query = text(
            "SELECT queue_name, count(*) FROM procrastinate_jobs WHERE status = 'todo'"
            " GROUP BY queue_name"
        )
        with self._read() as session:
            return {str(queue): int(n) for queue, n in session.execute(query)}


def _record(row: FleetWorkerRow) -> FleetWorker:
    return FleetWorker(
        name=row.name,
        host=row.host,
        pid=row.pid,
        engagements=tuple(row.engagements),
        slots=row.slots,
        started_at=row.started_at,
        heartbeat_at=row.heartbeat_at,
        in_hand=tuple(InHand.model_validate(i) for i in row.in_hand),
    )

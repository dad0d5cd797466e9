"""The scheduler's jobs, kept in the store's database in APScheduler's own table.

The table is APScheduler's (`SQLAlchemyJobStore`), and only APScheduler reads or writes it:
the scheduler through the job store this hands out, everyone else through
`scheduled_runs()`, which reads it with the same job store's API.
"""

from __future__ import annotations

from datetime import datetime

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

from schemas.work import RunKind, ScheduledRun
from store._base import StoreBase
from store._engine import writer

SCHEDULER_JOBS_TABLE = "apscheduler_jobs"
RUN_KINDS = frozenset(k.value for k in RunKind)


class JobsMixin(StoreBase):
    def scheduler_jobstore(self) -> SQLAlchemyJobStore:
        """A job store on this database for an APScheduler scheduler (one per scheduler).

        SQLite writes take the lock up front and wait on the busy timeout, as the store's do.
        """
        return SQLAlchemyJobStore(engine=writer(self.engine), tablename=SCHEDULER_JOBS_TABLE)

    def scheduled_runs(self) -> list[ScheduledRun]:
        """Every scheduled run as the scheduler's job store holds it (paused: no next run).

        A job's first two arguments are its engagement and run kind (`scheduler.run_job`).
        """
        jobstore = self.scheduler_jobstore()
        jobstore.start(None, "default")  # creates APScheduler's table if nobody has yet
        runs = []
        for job in jobstore.get_all_jobs():
            engagement, kind = job.args[0], job.args[1]
            if kind not in RUN_KINDS:
                continue  # the morning selector check is not a run
            next_run: datetime | None = job.next_run_time
            runs.append(ScheduledRun(engagement=engagement, kind=RunKind(kind), next_run=next_run))
        return runs

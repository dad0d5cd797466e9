"""The fleet's alert evaluation: one periodic job every ten seconds, deferred once per tick
however many workers run (procrastinate keeps one defer per task and time), so an alert
fires while no scheduler runs, and one cause is still one alert."""

from __future__ import annotations

import threading

from loguru import logger
from procrastinate import JobContext

from alerts import Alerting
from bots._fleet import _fleet, tasks
from schemas.errors import first_line

_alerting: dict[int, Alerting] = {}
_lock = threading.Lock()


@tasks.periodic(cron="* * * * * */10", periodic_id="alerts")
@tasks.task(name="evaluate_alerts", pass_context=True, queueing_lock="evaluate_alerts")
def evaluate_alerts(context: JobContext, timestamp: int) -> str:
    """Look at the store's state once and send what the outbox holds."""
    fleet = _fleet(context)
    try:
        with _lock:
            if id(fleet) not in _alerting:
                _alerting[id(fleet)] = Alerting(fleet.store, fleet.settings)
            alerting = _alerting[id(fleet)]
        done = alerting.evaluate()
    except Exception as exc:  # noqa: BLE001 - the next tick tries again; notices wait
        logger.warning("alerts not evaluated: {}", first_line(exc))
        return "not evaluated"
    return f"{done.found} cause(s), {done.queued} notice(s) queued, {done.sent} sent"

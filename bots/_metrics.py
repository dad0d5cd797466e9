"""Prometheus metrics of a fleet worker or a scheduler process, on an optional local port
(`--metrics-port`; bound to 127.0.0.1 unless `--metrics-host` says otherwise).

Counted as they happen: items by outcome and how long each took. Read when scraped:
jobs waiting in the queue (from the store), the portal sessions this process holds open,
and the age of its last heartbeat. Each process has its own registry: a scrape shows that
process; Prometheus adds the processes up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

from loguru import logger
from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from bots._outcomes import Outcome, failure

if TYPE_CHECKING:
    from store import Store

OK = "ok"
"""The `outcome` label of an item whose steps ended without a failure (entered and
verified or flagged, booked, or no PO yet); failures carry their `Outcome` value."""
OUTCOMES = (OK, *(o.value for o in Outcome))

DURATION_BUCKETS = (0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600)
"""Seconds: one item's steps take seconds at a healthy portal, minutes at a slow one."""


class MetricsPortTaken(RuntimeError):
    """Raised by `Metrics.serve` when the metrics port cannot be listened on."""

    def __init__(self, host: str, port: int, why: str) -> None:
        super().__init__(f"metrics port {host}:{port} cannot be opened: {why}")


class Metrics:
    """One process's metrics; `serve` opens the port."""

    def __init__(
        self,
        store: Store,
        engagements: Sequence[str],
        *,
        heartbeat_age: Callable[[], float | None],
        sessions: Callable[[], Mapping[str, int]] | None = None,
    ) -> None:
        """`heartbeat_age`: seconds since the process last wrote its heartbeat (None: not
        yet); `sessions`: the portal sessions it holds open per engagement (workers)."""
        self.registry = CollectorRegistry()
        self.items = Counter(
            "quotebot_items",
            "Work items this process ended an attempt at, by outcome: ok, or the failure's "
            "outcome (business, system, drift, engagement).",
            ("engagement", "kind", "outcome"),
            registry=self.registry,
        )
        self.duration = Histogram(
            "quotebot_item_duration_seconds",
            "Seconds one attempt at one work item took in this process, every outcome.",
            ("engagement", "kind"),
            buckets=DURATION_BUCKETS,
            registry=self.registry,
        )
        self.registry.register(_Scraped(store, engagements, heartbeat_age, sessions))

    def item_ended(self, engagement: str, kind: str, outcome: str, seconds: float) -> None:
        assert outcome in OUTCOMES, outcome
        self.items.labels(engagement, kind, outcome).inc()
        self.duration.labels(engagement, kind).observe(seconds)

    def failed(self, engagement: str, kind: str, exc: BaseException, seconds: float) -> None:
        """An attempt ended by `exc`: counted under the outcome `bots._outcomes` gives it."""
        self.item_ended(engagement, kind, failure(exc).outcome.value, seconds)

    def serve(self, port: int, host: str = "127.0.0.1") -> None:
        """Answer scrapes at http://host:port/metrics from a thread of this process."""
        try:
            start_http_server(port, addr=host, registry=self.registry)
        except OSError as exc:
            raise MetricsPortTaken(host, port, exc.strerror or str(exc)) from None
        logger.info("metrics on http://{}:{}/metrics", host, port)


class _Scraped(Collector):
    """What is read at scrape time, never stale: the queue, the sessions, the heartbeat."""

    def __init__(
        self,
        store: Store,
        engagements: Sequence[str],
        heartbeat_age: Callable[[], float | None],
        sessions: Callable[[], Mapping[str, int]] | None,
    ) -> None:
        self.store, self.engagements = store, list(engagements)
        self.heartbeat_age, self.sessions = heartbeat_age, sessions

    def collect(self) -> Iterator[Metric]:
        waiting = GaugeMetricFamily(
            "quotebot_jobs_waiting",
            "Jobs waiting in the fleet's queue (not yet taken by a worker), per engagement.",
            labels=["engagement"],
        )
        try:
            counts = self.store.jobs_waiting()
        except Exception as exc:  # the database away: this scrape goes without the figure
            logger.warning("jobs waiting not read: {}", failure(exc).reason)
        else:
            for name in sorted(set(self.engagements) | set(counts)):
                waiting.add_metric([name], counts.get(name, 0))
        yield waiting
        if self.sessions is not None:
            open_now = GaugeMetricFamily(
                "quotebot_portal_sessions_open",
                "Portal sessions (logged-in browser contexts) this process holds open.",
                labels=["engagement"],
            )
            held = self.sessions()
            for name in sorted(set(self.engagements) | set(held)):
                open_now.add_metric([name], held.get(name, 0))
            yield open_now
        age = self.heartbeat_age()
        if age is not None:
            yield GaugeMetricFamily(
                "quotebot_heartbeat_age_seconds",
                "Seconds since this process last wrote its heartbeat to the store.",
                value=age,
            )

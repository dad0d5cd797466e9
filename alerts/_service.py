"""One look at the store's state: find the causes, open, repeat or resolve their alerts,
then send whatever the outbox holds that is due. Called by the scheduler service and, in a
fleet, by one periodic task however many workers run."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from loguru import logger

from alerts._compose import composer
from alerts._config import Channels, load_channels
from alerts._rules import find
from alerts._send import Sent, send_email, send_webhook, shown
from schemas.alerts import Channel, Delivery
from schemas.settings import Settings
from store import Store


@dataclass(frozen=True)
class Pass:
    """What one evaluation did, for the log and the tests."""

    found: int
    held: int
    queued: int
    sent: int
    failed: int


class Alerting:
    """The rules and the outbox of one process; `AlertConfigError` on a bad setting."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store, self.settings = store, settings
        self.channels: Channels = load_channels(settings)
        self.log = logger.bind(part="alerts")

    def evaluate(self) -> Pass:
        """Look once, queue the notices it calls for, send what is due."""
        config = self.settings.alerts
        found = find(self.store, self.settings, self.store.now())
        queued = self.store.observe_alerts(
            found.causes,
            held=found.held,
            repeat_after=timedelta(seconds=config.repeat_after_s),
            targets=self.channels.targets,
            compose=composer(config),
        )
        for notice in queued:
            self.log.bind(engagement=notice.payload["data"]["engagement"]).info(
                "alert {} ({}): {}",
                notice.payload["data"]["cause"],
                notice.kind.value,
                notice.payload["data"]["summary"],
            )
        sent, failed = self.deliver()
        return Pass(len(found.causes), len(found.held), len(queued), sent, failed)

    def deliver(self) -> tuple[int, int]:
        """Send every due notice once; a failure waits its backoff, a 410 stops the endpoint."""
        config = self.settings.alerts
        lease = timedelta(seconds=2 * config.timeout_s + 30)
        sent = failed = 0
        for notice in self.store.due_deliveries(lease=lease):
            answer = self.send(notice)
            if answer.ok:
                self.store.delivery_sent(notice.id)
                sent += 1
                continue
            failed += 1
            if answer.gone:
                self.store.stop_endpoint(notice.target, answer.answer)
                self.log.warning("{}: nothing more is sent there", answer.answer)
                continue
            wait = min(config.max_wait_s, config.first_wait_s * 2**notice.attempts)
            self.store.delivery_failed(notice.id, answer.answer, timedelta(seconds=wait))
            self.log.warning(
                "notice to {} not sent: {}; again in {:.0f} s",
                self._where(notice),
                answer.answer,
                wait,
            )
        return sent, failed

    def send(self, notice: Delivery) -> Sent:
        if notice.channel is Channel.EMAIL:
            return send_email(self.channels, notice.target, notice.message_id, notice.payload)
        return send_webhook(self.channels, notice.target, notice.message_id, notice.payload)

    @staticmethod
    def _where(notice: Delivery) -> str:
        return notice.target if notice.channel is Channel.EMAIL else shown(notice.target)

"""Operations hear at once, once per cause: alert rules over the store's state, an outbox
in the store, delivery by e-mail and signed webhook.

`Alerting(store, settings).evaluate()` looks once (the scheduler service and the fleet's
periodic task call it); `check_channels` and `send_test` are `quotebot alerts test`.
"""

from alerts._config import AlertConfigError, Channels, load_channels, reachable
from alerts._rules import Findings, find
from alerts._send import Sent, shown
from alerts._service import Alerting, Pass
from alerts._test import send_test

__all__ = [
    "AlertConfigError",
    "Alerting",
    "Channels",
    "Findings",
    "Pass",
    "Sent",
    "find",
    "load_channels",
    "reachable",
    "send_test",
    "shown",
]

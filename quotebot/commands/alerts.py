"""`quotebot alerts list|test`: what is wrong now and lately, and whether the channels work."""

from __future__ import annotations

from datetime import datetime, timedelta

import click

from schemas.alerts import CHANNEL_LABELS, NOTICE_LABELS, Channel, DeliveryStatus, shown
from schemas.settings import Settings
from store import open_store

RECENT = timedelta(days=7)


def _when(at: datetime | None) -> str:
    return at.strftime("%d %b %Y %H:%M UTC") if at else "-"


@click.group("alerts")
def alerts_group() -> None:
    """Alerts: what operations were told, and a test message on every channel."""


@alerts_group.command("list")
@click.option("--engagement", default=None, help="Only this engagement's alerts.")
@click.pass_obj
def alerts_list(settings: Settings, engagement: str | None) -> None:
    """Open alerts, and those cleared in the last seven days, with what was sent where."""
    settings.home.mkdir(parents=True, exist_ok=True)
    with open_store(settings.effective_database_url) as store:
        if engagement is not None and engagement not in {e.name for e in store.engagements()}:
            raise click.ClickException(f"--engagement: there is no engagement '{engagement}'")
        scope = None if engagement is None else [engagement]
        alerts = store.alerts(engagements=scope, since=store.now() - RECENT)
        sent = store.deliveries([a.id for a in alerts])
    if not alerts:
        click.echo("no alerts: nothing is wrong, and nothing cleared in the last seven days")
    for alert in alerts:
        state = "open" if alert.resolved_at is None else f"cleared {_when(alert.resolved_at)}"
        where = alert.engagement or "the fleet"
        click.echo(
            f"{where}: {alert.rule.label} ({state}; first seen {_when(alert.opened_at)}, "
            f"last seen {_when(alert.last_seen_at)})"
        )
        click.echo(f"  {alert.summary}")
        if alert.acked_by:
            click.echo(f"  taken in hand by {alert.acked_by}: {alert.ack_note}")
        notices = [d for d in sent if d.alert_id == alert.id]
        for notice in notices:
            target = notice.target if notice.channel is Channel.EMAIL else shown(notice.target)
            status = {
                DeliveryStatus.SENT: f"sent {_when(notice.sent_at)}",
                DeliveryStatus.PENDING: f"waiting, tried {notice.attempts} time(s)",
                DeliveryStatus.STOPPED: "not sent: the endpoint is gone",
            }[notice.status]
            channel = CHANNEL_LABELS[notice.channel]
            click.echo(f"  {NOTICE_LABELS[notice.kind]}: {channel} to {target}, {status}")
        if not notices:
            click.echo("  nothing sent (held back while a broader cause lasts, or silenced)")


@alerts_group.command("test")
@click.pass_obj
def alerts_test(settings: Settings) -> None:
    """Send one test message on every configured channel and say what each answered."""
    from alerts import AlertConfigError, send_test

    try:
        answers = send_test(settings)
    except AlertConfigError as exc:
        raise click.ClickException(str(exc)) from None
    if not answers:
        raise click.ClickException(
            "no channel is configured: set QUOTEBOT_ALERTS__SMTP_HOST and "
            "QUOTEBOT_ALERTS__RECIPIENTS, or QUOTEBOT_ALERTS__WEBHOOK_URLS"
        )
    for where, answer in answers:
        click.echo(f"{where}: {'ok' if answer.ok else 'FAILED'}: {answer.answer}")
    if not all(answer.ok for _, answer in answers):
        raise SystemExit(1)

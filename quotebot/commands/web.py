"""`quotebot serve` and `quotebot report`."""

from __future__ import annotations

import re
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import click

from schemas.settings import Settings
from store import Store, open_store


class _Day(click.DateTime):
    """A day as YYYY-MM-DD; a day the calendar does not have is said so, not blamed on
    the format (2026-02-30: February 2026 has no 30th)."""

    def __init__(self) -> None:
        super().__init__(["%Y-%m-%d"])

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime:
        text = str(value).strip()
        if isinstance(value, str) and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
            try:
                date.fromisoformat(text)
            except ValueError as exc:
                self.fail(f"{text} is not a day of the calendar ({exc})", param, ctx)
        return super().convert(value, param, ctx)


DAY = _Day()


def _store(settings: Settings) -> Store:
    settings.home.mkdir(parents=True, exist_ok=True)
    return open_store(settings.effective_database_url)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--today",
    type=DAY,
    default=None,
    help="Business date for the backlog (default: today).",
)
@click.pass_obj
def serve_command(settings: Settings, host: str, port: int, today: datetime | None) -> None:
    """Serve the people's pages (needs QUOTEBOT_SECRET_KEY unless QUOTEBOT_DEMO=1)."""
    import uvicorn

    from web import UnsafeSecret, WebSettings, create_app

    try:
        web_settings = WebSettings().checked()
    except UnsafeSecret as error:
        raise click.ClickException(str(error)) from None
    store = _store(settings)
    app = create_app(
        store,
        web_settings,
        engagements=settings.engagements,
        today=today.date() if today else None,
        home=settings.home,
        host=host,
    )
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"quotebot's pages: http://{shown}:{port}/  (Ctrl-C stops)")
    sys.stdout.flush()  # said before uvicorn takes over, also into a pipe
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning")
    finally:
        store.close()


@click.command("report")
@click.option(
    "--since",
    type=DAY,
    default=None,
    help="Default: 29 days before --until.",
)
@click.option("--until", type=DAY, default=None, help="Default: today (UTC).")
@click.option(
    "--format", "fmt", type=click.Choice(["html", "csv", "xlsx"]), default="html", show_default=True
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Default: quotebot-report-SINCE-UNTIL.FORMAT here.",
)
@click.option("--engagement", default=None, help="Only this engagement.")
@click.option(
    "--today",
    type=DAY,
    default=None,
    help="Business date for the backlog (default: today).",
)
@click.pass_obj
def report_command(
    settings: Settings,
    since: datetime | None,
    until: datetime | None,
    fmt: str,
    out: Path | None,
    engagement: str | None,
    today: datetime | None,
) -> None:
    """The dashboard's figures for SINCE..UNTIL (default: the last 30 days) as
    self-contained HTML, CSV or XLSX."""
    from web import EARLIEST, LATEST, report
    from web import forecast_panel as panel

    last = until.date() if until else datetime.now(UTC).date()
    first = since.date() if since else last - timedelta(days=29)
    for name, day in (("--until", last), ("--since", first)):
        if not EARLIEST <= day <= LATEST:
            raise click.UsageError(f"{name} must be between {EARLIEST} and {LATEST}, not {day}")
    if last < first:
        raise click.UsageError("--until is before --since")
    out = out or Path(f"quotebot-report-{first:%Y-%m-%d}-{last:%Y-%m-%d}.{fmt}")
    with _store(settings) as store:
        figures = report.figures(
            store,
            since=first,
            until=last,
            today=today.date() if today else date.today(),
            engagement=engagement,
        )
        forecast = panel(
            store,
            settings.engagements,
            today=today.date() if today else date.today(),
            engagement=engagement,
        )
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M")
    report.write(figures, out, fmt, generated, forecast)  # type: ignore[arg-type]
    click.echo(str(out), file=sys.stdout)

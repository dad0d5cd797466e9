"""`quotebot users`, `quotebot serve` and `quotebot report`."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime
from pathlib import Path

import click

from schemas.people import Role
from schemas.settings import Settings
from store import Store, StoreError, open_store


def _store(settings: Settings) -> Store:
    settings.home.mkdir(parents=True, exist_ok=True)
    return open_store(settings.effective_database_url)


@click.group("users")
def users_group() -> None:
    """People who may sign in to the web pages."""


@users_group.command("add")
@click.argument("name")
@click.option(
    "--role",
    type=click.Choice([r.value for r in Role]),
    required=True,
    help="ops: runs and schedules; auditor: the review queue; manager: reads all.",
)
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="Asked for when left out (never put it on the command line in production).",
)
@click.pass_obj
def users_add(settings: Settings, name: str, role: str, password: str) -> None:
    """Create a person with a role; the password is stored as an argon2 hash only."""
    from web import hash_password

    try:
        hashed = hash_password(password)
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    with _store(settings) as store:
        try:
            user = store.add_user(name, role, hashed)
        except StoreError as error:
            raise click.ClickException(str(error)) from None
    click.echo(f"added {user.name} ({user.role.value})")


@users_group.command("list")
@click.pass_obj
def users_list(settings: Settings) -> None:
    """Everyone who may sign in, with their role."""
    with _store(settings) as store:
        for user in store.users():
            click.echo(f"{user.name}\t{user.role.value}")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--today",
    type=click.DateTime(["%Y-%m-%d"]),
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
    )
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning")
    finally:
        store.close()


@click.command("report")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), required=True)
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), required=True)
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
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="Business date for the backlog (default: today).",
)
@click.pass_obj
def report_command(
    settings: Settings,
    since: datetime,
    until: datetime,
    fmt: str,
    out: Path | None,
    engagement: str | None,
    today: datetime | None,
) -> None:
    """The dashboard's figures for SINCE..UNTIL as self-contained HTML, CSV or XLSX."""
    from web import report

    if until < since:
        raise click.UsageError("--until is before --since")
    out = out or Path(f"quotebot-report-{since:%Y-%m-%d}-{until:%Y-%m-%d}.{fmt}")
    with _store(settings) as store:
        figures = report.figures(
            store,
            since=since.date(),
            until=until.date(),
            today=today.date() if today else date.today(),
            engagement=engagement,
        )
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M")
    report.write(figures, out, fmt, generated)  # type: ignore[arg-type]
    click.echo(str(out), file=sys.stdout)

"""`quotebot sandbox …`: generate a simulated client portal's data and serve it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
from loguru import logger

from sandbox._proration import METHODS
from sandbox.config import FaultConfig, SandboxConfig

if TYPE_CHECKING:
    from sandbox.generate import GeneratedPaths

log = logger.bind(part="sandbox")
F = TypeVar("F", bound=Callable[..., Any])


def _latency(
    _ctx: click.Context, _param: click.Parameter, value: str | None
) -> tuple[int, int] | None:
    if not value:
        return None
    try:
        low, _, high = value.partition("-")
        return int(low), int(high or low)
    except ValueError:
        raise click.BadParameter(f"expected MIN-MAX in ms, e.g. 100-300, got {value!r}") from None


def _default_dir(flavour: str, seed: int) -> Path:
    return Path("var") / "sandbox" / f"{flavour}-{seed}"


def _data_options(command: F) -> F:
    options = [
        click.option("--flavour", type=click.Choice(["acme", "globex"]), default="acme"),
        click.option("--seed", type=int, default=7, show_default=True),
        click.option(
            "--opportunities", "n_opportunities", type=int, default=200, show_default=True
        ),
        click.option(
            "--today",
            type=click.DateTime(["%Y-%m-%d"]),
            default=None,
            help="The portal's business date (default: today).",
        ),
        click.option(
            "--data-dir",
            type=click.Path(file_okay=False, path_type=Path),
            default=None,
            help="Default: var/sandbox/<flavour>-<seed>.",
        ),
        click.option(
            "--proration",
            type=click.Choice(METHODS),
            default="month_day",
            show_default=True,
            help="How the client's rules prorate a line that runs part of a year.",
        ),
        click.option(
            "--portal-proration",
            type=click.Choice(METHODS),
            default=None,
            help="How the portal prorates (default: as the rules; otherwise a planted finding).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _generate(
    folder: Path, seed: int, n: int, day: date, flavour: str, prorations: tuple[str, str | None]
) -> GeneratedPaths:
    """The portal's data, with the rules' proration and the portal's own."""
    from sandbox.generate import generate

    proration, portal = prorations
    return generate(
        folder, seed, n, day, client=flavour, proration=proration, portal_proration=portal
    )


@click.group("sandbox")
def sandbox_group() -> None:
    """Simulated client portals (acme: modern SPA, globex: legacy) to test bots against."""


@sandbox_group.command("generate")
@_data_options
def generate_command(
    flavour: str,
    seed: int,
    n_opportunities: int,
    today: object,
    data_dir: Path | None,
    proration: str,
    portal_proration: str | None,
) -> None:
    """Write a portal database, rules.yaml, ground_truth.json and credentials.json."""

    day = today.date() if today is not None else date.today()  # type: ignore[attr-defined]
    folder = data_dir or _default_dir(flavour, seed)
    paths = _generate(folder, seed, n_opportunities, day, flavour, (proration, portal_proration))
    click.echo(f"generated {n_opportunities} opportunities (seed {seed}) in {paths.data_dir}")


@sandbox_group.command("serve")
@_data_options
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8001, show_default=True, help="0 picks a free port.")
@click.option("--totp/--no-totp", default=False, help="Ask for a TOTP code after the password.")
@click.option("--session-ttl", type=float, default=1800.0, show_default=True, help="Idle seconds.")
@click.option("--latency", callback=_latency, default=None, help="Per-request delay, MIN-MAX ms.")
@click.option("--error-rate", type=click.FloatRange(0, 1), default=0.0, help="Share of 503s.")
@click.option("--slow-save-ms", type=int, default=0, help="Delay on save, submit and book.")
@click.option(
    "--slow-default-price-ms",
    type=click.IntRange(min=0),
    default=0,
    help="Delay before the acme editor pre-fills a chosen SKU's default price.",
)
@click.option(
    "--busy-after-write",
    type=click.IntRange(min=0),
    default=0,
    help="Reads answered 503 right after each committed save, submit or book.",
)
@click.option(
    "--busy-list",
    type=click.IntRange(min=0),
    default=0,
    help="The first N reads of the renewal list answer 503.",
)
@click.option(
    "--busy-after-login",
    type=click.FloatRange(0, 1),
    default=0.0,
    help="Share of log-ins whose next page answers 503 (the session open all the same).",
)
@click.option(
    "--session-lifetime",
    type=click.FloatRange(min=1),
    default=None,
    help="Seconds after login when a session ends, however busy.",
)
@click.option(
    "--max-sessions",
    type=click.IntRange(min=1),
    default=None,
    help="Sessions one account may have signed in at once (a licence limit).",
)
@click.option("--keep-data", is_flag=True, help="Serve existing data instead of regenerating.")
def serve_command(
    flavour: str,
    seed: int,
    n_opportunities: int,
    today: object,
    data_dir: Path | None,
    proration: str,
    portal_proration: str | None,
    host: str,
    port: int,
    totp: bool,
    session_ttl: float,
    latency: tuple[int, int] | None,
    error_rate: float,
    slow_save_ms: int,
    slow_default_price_ms: int,
    busy_after_write: int,
    busy_list: int,
    busy_after_login: float,
    session_lifetime: float | None,
    max_sessions: int | None,
    keep_data: bool,
) -> None:
    """Generate (unless --keep-data) and serve a portal until interrupted."""
    from sandbox.server import serve_forever

    day = today.date() if today is not None else date.today()  # type: ignore[attr-defined]
    folder = data_dir or _default_dir(flavour, seed)
    config = SandboxConfig(
        flavour=flavour,
        data_dir=folder,
        seed=seed,
        today=day,
        totp=totp,
        session_ttl=session_ttl,
        max_sessions=max_sessions,
        faults=FaultConfig(
            latency_ms=latency,
            error_rate=error_rate,
            slow_save_ms=slow_save_ms,
            slow_default_price_ms=slow_default_price_ms,
            busy_after_write=busy_after_write,
            busy_after_login=busy_after_login,
            busy_list=busy_list,
            seed=seed,
            session_lifetime=session_lifetime,
        ),
        host=host,
        port=port,
    )
    if not (keep_data and config.db_path.exists()):
        _generate(folder, seed, n_opportunities, day, flavour, (proration, portal_proration))
    log.info("serving the {} portal from {}", flavour, folder)

    def announce(base_url: str) -> None:
        click.echo(f"{flavour} portal on {base_url} (data and credentials.json in {folder})")

    serve_forever(config, announce)

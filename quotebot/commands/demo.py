"""`quotebot demo`: its options; the demo itself is `quotebot.demo`, imported when it runs
(it needs the portals, the bots, the audit and the web report: `--help` needs none)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from schemas.settings import Settings


@click.command("demo")
@click.option(
    "--opportunities",
    type=click.IntRange(10, 2000),
    # 20 make 10 renewals due in each portal, with every planted kind of error among them
    # (one of each is placed in the quoting window): the whole story, in about a minute.
    default=20,
    show_default=True,
    help="Renewals seeded in each sandbox portal.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 4),
    default=3,
    show_default=True,
    help="Browsers per engagement.",
)
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("var/demo"),
    show_default=True,
    help="Folder for everything the demo writes (emptied first).",
)
@click.option(
    "--serve",
    "port",
    type=int,
    default=None,
    is_flag=False,
    flag_value=8000,
    help="Then keep the web pages up on the results (port, default 8000).",
)
@click.option(
    "--fleet",
    is_flag=True,
    help="Quote and book through 3 `quotebot worker` processes on the PostgreSQL at "
    "QUOTEBOT_DATABASE_URL (its schema quotebot_demo, emptied first).",
)
@click.option(
    "--sample-share",
    type=click.FloatRange(0, 100),
    default=5.0,
    show_default=True,
    help="Per cent of verified quotes sampled for the audit team (0-100).",
)
@click.pass_context
def demo_command(
    ctx: click.Context,
    opportunities: int,
    workers: int,
    home: Path,
    port: int | None,
    fleet: bool,
    sample_share: float,
) -> None:
    """See the whole product work: two client portals quoted, booked, audited and reported.

    Runs on simulated portals on this machine (nothing leaves it) and takes a minute or two.
    """
    from quotebot._demo_text import alerts_line
    from quotebot._logging import configure_logging
    from quotebot.demo import demo_settings, empty_home, run_demo, serve_results

    given: Settings = ctx.obj
    settings = demo_settings(home, given, fleet=fleet)
    empty_home(settings)
    # Its logs too go under --home, not the home of the environment.
    configure_logging(settings, ctx.find_root().params.get("verbose") or 0)
    result = run_demo(
        settings, opportunities, workers, fleet=fleet, sample_share=sample_share, emptied=True
    )
    click.echo("")
    click.echo(result.text())
    click.echo(alerts_line(settings.alerts))
    if port is not None:
        serve_results(settings, port)

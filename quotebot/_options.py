"""What several commands share: the engagements file option, the business date, and
finding an engagement by name (else saying which there are)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import click

from schemas.engagement import Engagement, EngagementError
from schemas.settings import Settings
from schemas.work import RunKind

F = TypeVar("F", bound=Callable[..., Any])

engagements_option = click.option(
    "--engagements",
    "engagements_path",
    type=click.Path(path_type=Path),
    default=None,
    help="The engagements file (default: $QUOTEBOT_ENGAGEMENTS or ./engagements.yaml).",
)
today_option = click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Business date to work as of (default: today).",
)
RUN_KINDS = [k.value for k in RunKind]


def metrics_options(command: F) -> F:
    """`--metrics-port` (off by default) and `--metrics-host` (127.0.0.1): Prometheus
    metrics of this process at http://HOST:PORT/metrics."""
    port = click.option(
        "--metrics-port",
        type=click.IntRange(1, 65535),
        default=None,
        help="Serve Prometheus metrics on this port (default: off).",
    )
    host = click.option(
        "--metrics-host",
        default="127.0.0.1",
        show_default=True,
        help="Address the metrics port listens on (0.0.0.0: every interface).",
    )
    return port(host(command))


def kind_option(*, both: bool, default: str, help: str) -> Callable[[F], F]:  # noqa: A002
    """`--kind quote|booking` (and `both` where a command can do both in turn)."""
    choices = [*RUN_KINDS, "both"] if both else RUN_KINDS
    return click.option(
        "--kind", type=click.Choice(choices), default=default, show_default=True, help=help
    )


def chosen_kinds(kind: str) -> list[RunKind]:
    """The run kinds a `--kind` value stands for, in the order they run."""
    return list(RunKind) if kind == "both" else [RunKind(kind)]


def load_engagements(
    settings: Settings, path: Path | None, then: str = ""
) -> tuple[Path, list[Engagement]]:
    """The engagements file, all of it checked; a mistake stops the command with the file,
    line and key (and `then`: what did not happen because of it)."""
    from scheduler import load_engagements as load

    path = path or settings.engagements
    try:
        return path, load(path)
    except EngagementError as exc:
        raise click.ClickException(f"{exc}\n{then}" if then else str(exc)) from None


def find_engagement(settings: Settings, path: Path | None, name: str) -> Engagement:
    """The named engagement of the engagements file; else an error listing the known ones."""
    path, engagements = load_engagements(settings, path)
    return named_engagements(path, engagements, [name])[0]


def named_engagements(
    path: Path, engagements: list[Engagement], names: Iterable[str]
) -> list[Engagement]:
    """The engagements of `names`, in that order; a name the file lacks stops the command
    with the file and the names it knows."""
    known = {e.name: e for e in engagements}
    unknown = [name for name in names if name not in known]
    if unknown:
        listed = ", ".join(sorted(known)) or "none"
        missing = ", ".join(f"'{name}'" for name in unknown)
        raise click.ClickException(f"{path}: no engagement {missing} (known: {listed})")
    return [known[name] for name in names]

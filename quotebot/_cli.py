"""The `quotebot` command group: settings read once, logging set up once, subcommands loaded
when used."""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    import pydantic

# Imported only when used, so that `quotebot audit` never pays for importing Playwright and
# `--help` stays instant. Each command's one-line help is here too, so that the group's
# `--help` imports none of them; a test holds it equal to the command's own docstring.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "sandbox": (
        "sandbox.cli",
        "sandbox_group",
        "Simulated client portals (acme: modern SPA, globex: legacy) to test bots against.",
    ),
    "audit": (
        "quotebot.commands.audit",
        "audit_command",
        "Check every quote (and booking) against the client's rules; write findings.csv.",
    ),
    "run": (
        "quotebot.commands.run",
        "run_command",
        "Run an engagement now, in the foreground: quote the renewals due, book accepted quotes.",
    ),
    "check-selectors": (
        "quotebot.commands.run",
        "check_selectors_command",
        "Visit an engagement's portal read-only and list every selector that no longer matches.",
    ),
    "users": (
        "quotebot.commands.users",
        "users_group",
        "People who may sign in to the web pages.",
    ),
    "serve": (
        "quotebot.commands.web",
        "serve_command",
        "Serve the people's pages (needs QUOTEBOT_SECRET_KEY unless QUOTEBOT_DEMO=1).",
    ),
    "report": (
        "quotebot.commands.web",
        "report_command",
        "The dashboard's figures for SINCE..UNTIL (default: the last 30 days) as "
        "self-contained HTML, CSV or XLSX.",
    ),
    "schedule": (
        "quotebot.commands.schedule",
        "schedule_group",
        "See and change when each engagement runs (quoting and booking schedules).",
    ),
    "scheduler": (
        "quotebot.commands.schedule",
        "scheduler_group",
        "The scheduler service that starts engagements' runs on time.",
    ),
    "runs": (
        "quotebot.commands.runs",
        "runs_group",
        "Past and current runs: when, how long, what they did, why they failed.",
    ),
    "items": (
        "quotebot.commands.runs",
        "items_group",
        "Work items: one renewal of one engagement.",
    ),
    "rules": ("quotebot.commands.rules", "rules_group", "A client's pricing rules."),
    "demo": (
        "quotebot.commands.demo",
        "demo_command",
        "See the whole product work: two client portals quoted, booked, audited and reported.",
    ),
    "worker": (
        "quotebot.commands.worker",
        "worker_command",
        "Work the fleet's jobs until SIGTERM or Ctrl-C, which finish the items in hand first.",
    ),
    "workers": (
        "quotebot.commands.worker",
        "workers_command",
        "List the fleet's worker processes: host, process, engagements, slots, the items in "
        "hand and the last heartbeat.",
    ),
    "alerts": (
        "quotebot.commands.alerts",
        "alerts_group",
        "Alerts: what operations were told, and a test message on every channel.",
    ),
    "forecast": (
        "quotebot.commands.forecast",
        "forecast_command",
        "Week by week: renewals whose window opens, quotes in time and renewals that will miss "
        "the 120-day line (likely, and where 8 in 10 forecasts fall), named with their annual "
        "value, and the smallest change that saves them. Every engagement, or ENGAGEMENT.",
    ),
}


def short_help(name: str, limit: int) -> str:
    """A command's line in the group's `--help`, as click shortens it, without its import."""
    return click.Command(name, help=COMMANDS[name][2]).get_short_help_str(limit)


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(COMMANDS))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in COMMANDS:
            module_name, attr, _ = COMMANDS[cmd_name]
            command = getattr(importlib.import_module(module_name), attr)
            assert isinstance(command, click.Command)
            return command
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            limit = formatter.width - 6 - len(name)
            if name in COMMANDS:
                rows.append((name, short_help(name, limit)))
                continue
            command = super().get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        """Parse the command's own options first, then run the group's callback: `quotebot
        CMD --help` and a mistyped option are answered before settings are read and logging
        is set up (click's own order is the other way round)."""
        args = [*ctx._protected_args, *ctx.args]
        if not args:
            return super().invoke(ctx)  # click says what is missing
        ctx.args, ctx._protected_args = [], []
        with ctx:
            cmd_name, cmd, args = self.resolve_command(ctx, args)
            assert cmd is not None
            ctx.invoked_subcommand = cmd_name
            sub_ctx = cmd.make_context(cmd_name, args, parent=ctx)
            click.Command.invoke(self, ctx)
            sub_ctx.obj = ctx.obj
            with sub_ctx:
                return sub_ctx.command.invoke(sub_ctx)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug).")
@click.pass_context
def cli(ctx: click.Context, verbose: int) -> None:
    """Quotebot: quotes and books renewals in client portals, and audits every quote."""
    from pydantic import ValidationError

    from quotebot._logging import configure_logging
    from schemas.settings import Settings

    # The one place settings are read: every command takes them from here (`pass_obj`).
    try:
        settings = ctx.obj if isinstance(ctx.obj, Settings) else Settings()
    except ValidationError as exc:
        raise click.ClickException(_settings_error(exc)) from None
    ctx.obj = settings
    configure_logging(settings, verbose)


def _settings_error(exc: pydantic.ValidationError) -> str:
    """A bad `QUOTEBOT_*` setting, by the variable's name (never its value: it may be secret)."""
    lines = []
    for error in exc.errors():
        name = "QUOTEBOT_" + "__".join(str(part) for part in error["loc"]).upper()
        lines.append(f"{name}: {error['msg'].removeprefix('Value error, ')}")
    return "bad setting: " + "; ".join(lines)


def main(argv: list[str] | None = None) -> Any:
    """The command line, where anything unexpected is one line (a traceback with -v only;
    it is in the JSON log either way)."""
    args = sys.argv[1:] if argv is None else argv
    try:
        return cli.main(args=args, prog_name="quotebot")
    except Exception as exc:  # noqa: BLE001 - the one place a command's crash is worded
        if _verbose(args):
            raise
        from loguru import logger

        from schemas.errors import first_line

        logger.opt(exception=exc).error("quotebot {} failed", " ".join(args[:2]))
        click.echo(
            f"quotebot: {first_line(exc)} (run it again with -v to see where it failed)",
            err=True,
        )
        sys.exit(1)


def _verbose(args: list[str]) -> bool:
    """Whether -v (or -vv, --verbose) comes before the command's name."""
    for arg in args:
        if not arg.startswith("-"):
            return False
        if arg == "--verbose" or (arg[1:] and set(arg[1:]) == {"v"}):
            return True
    return False

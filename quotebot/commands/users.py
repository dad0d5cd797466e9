"""`quotebot users`: who may sign in to the web pages, what they see, and cutting them off.

Every change is in the audit trail under the name of whoever ran the command (`--by`,
default: the operating-system account), and disabling or a new password ends every one of
the person's sessions at once.
"""

from __future__ import annotations

import getpass

import click

from schemas.people import Role, User
from schemas.settings import Settings
from store import Store, StoreError, UnknownEngagement, UnknownRecord, open_store


def _store(settings: Settings) -> Store:
    settings.home.mkdir(parents=True, exist_ok=True)
    return open_store(settings.effective_database_url)


def _actor(by: str | None) -> str:
    return by or f"cli:{getpass.getuser()}"


def _hashed(password: str) -> str:
    from web import hash_password

    try:
        return hash_password(password)
    except ValueError as error:
        raise click.UsageError(str(error)) from None


def _sees(user: User) -> str:
    return "all engagements" if user.all_engagements else ", ".join(user.engagements) or "none"


_BY = click.option(
    "--by", default=None, help="Who is making the change, for the audit trail (default: you)."
)
_PASSWORD = click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="Asked for when left out (never put it on the command line in production).",
)
_ENGAGEMENTS = click.option(
    "--engagement",
    "engagements",
    multiple=True,
    help="An engagement (client) the person works on; repeat for several.",
)
_ALL = click.option(
    "--all-engagements",
    is_flag=True,
    help="Sees every engagement (for managers across clients).",
)


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
@_ENGAGEMENTS
@_ALL
@_PASSWORD
@_BY
@click.pass_obj
def users_add(
    settings: Settings,
    name: str,
    role: str,
    engagements: tuple[str, ...],
    all_engagements: bool,
    password: str,
    by: str | None,
) -> None:
    """Create a person with a role and the engagements they see (password: argon2 hash)."""
    hashed = _hashed(password)
    with _store(settings) as store:
        try:
            user = store.add_user(
                name,
                role,
                hashed,
                engagements=engagements,
                all_engagements=all_engagements,
                actor=_actor(by),
            )
        except (StoreError, UnknownEngagement) as error:
            raise click.ClickException(str(error)) from None
    click.echo(f"added {user.name} ({user.role.value}), sees {_sees(user)}")


@users_group.command("list")
@click.pass_obj
def users_list(settings: Settings) -> None:
    """Everyone who may sign in: role, state, what they see, open sessions."""
    with _store(settings) as store:
        now = store.now()
        for user in store.users():
            open_ = [
                s for s in store.sessions(user.name) if s.ended_at is None and s.expires_at > now
            ]
            state = "disabled" if user.disabled else "active"
            click.echo(
                f"{user.name}\t{user.role.value}\t{state}\t{_sees(user)}\t"
                f"{len(open_)} open session(s)"
            )


def _set_disabled(settings: Settings, name: str, disabled: bool, by: str | None) -> User:
    with _store(settings) as store:
        try:
            return store.set_disabled(name, disabled, actor=_actor(by))
        except UnknownRecord as error:
            raise click.ClickException(str(error)) from None


@users_group.command("disable")
@click.argument("name")
@_BY
@click.pass_obj
def users_disable(settings: Settings, name: str, by: str | None) -> None:
    """Cut a person off now: every session of theirs ends, and they cannot sign in."""
    _set_disabled(settings, name, True, by)
    click.echo(f"disabled {name}; their sessions are ended")


@users_group.command("enable")
@click.argument("name")
@_BY
@click.pass_obj
def users_enable(settings: Settings, name: str, by: str | None) -> None:
    """Let a disabled person sign in again."""
    _set_disabled(settings, name, False, by)
    click.echo(f"enabled {name}")


@users_group.command("passwd")
@click.argument("name")
@_PASSWORD
@_BY
@click.pass_obj
def users_passwd(settings: Settings, name: str, password: str, by: str | None) -> None:
    """Set a new password: every session signed in with the old one ends."""
    hashed = _hashed(password)
    with _store(settings) as store:
        try:
            store.change_password(name, hashed, actor=_actor(by))
        except UnknownRecord as error:
            raise click.ClickException(str(error)) from None
    click.echo(f"new password for {name}; their sessions are ended")


@users_group.command("assign")
@click.argument("name")
@_ENGAGEMENTS
@_ALL
@_BY
@click.pass_obj
def users_assign(
    settings: Settings,
    name: str,
    engagements: tuple[str, ...],
    all_engagements: bool,
    by: str | None,
) -> None:
    """Set the engagements a person sees from now on (replaces the earlier list)."""
    with _store(settings) as store:
        try:
            user = store.assign_engagements(
                name, engagements, all_engagements=all_engagements, actor=_actor(by)
            )
        except (UnknownRecord, UnknownEngagement) as error:
            raise click.ClickException(str(error)) from None
    click.echo(f"{user.name} sees {_sees(user)}")

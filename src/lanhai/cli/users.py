"""CLI commands for users and API tokens: ``lanhai users …`` and ``lanhai tokens …``.

They run on the bank's own machine as the local admin. A token's secret is printed once,
when it is created; only its SHA-256 hash is stored.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Sequence
from typing import Any

import click

from lanhai.cli.common import bank, echo_err, emit, handles_errors, json_option, local_actor
from lanhai.errors import UsageError
from lanhai.model import ROLES, TokenInfo


def register(cli: click.Group) -> None:
    """Add the ``users`` and ``tokens`` groups to ``cli``."""
    cli.add_command(users)
    cli.add_command(tokens)


def _table(rows: Sequence[Sequence[str]], header: Sequence[str]) -> None:
    """Print aligned columns to stdout."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        click.echo("  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True))
                   .rstrip())


def _date(value: dt.datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "-"


@click.group()
def users() -> None:
    """Manage users (reader, member, investor, broker, curator, admin) of this bank."""


@users.command("add")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(ROLES),
              help="reader: sees public records; member: acts for its organisation on "
                   "the market; investor: also sees financing needs; broker: takes matches "
                   "into deals; curator: also changes records and sees restricted ones; "
                   "admin: also manages users and tokens.")
@click.option("--display-name", default="", help="Full name shown in the interface.")
@click.option("--organisation", default=None, metavar="LHOG…",
              help="The organisation record the user acts for (needed for a member).")
@click.option("--email", default=None, help="Where the market's notices are e-mailed.")
@click.option("--password-stdin", is_flag=True,
              help="Read a password for web sign-in from standard input (first line).")
@json_option
@handles_errors
def add_user(username: str, role: str, display_name: str, organisation: str | None,
             email: str | None, password_stdin: bool, as_json: bool) -> None:
    """Create user USERNAME with a role. Give them a token with `lanhai tokens create`."""
    password = _read_password() if password_stdin else None
    with bank() as opened:
        user = opened.users.create_user(local_actor(), username, role, display_name, password,
                                        organisation, email)
    emit(user.to_dict(), as_json, f"created {user.role} {user.username!r}; create a token "
                                  f"with `lanhai tokens create {user.username}`")


@users.command("list")
@json_option
@handles_errors
def list_users(as_json: bool) -> None:
    """List users with their role and whether they are active."""
    with bank() as opened:
        found = opened.users.list_users(local_actor())

    def text() -> None:
        if not found:
            echo_err("no users yet; add one with `lanhai users add USERNAME --role curator`")
            return
        _table([(u.username, u.role, "active" if u.active else "disabled", u.display_name,
                 u.organisation or "", _date(u.created_at)) for u in found],
               ("USERNAME", "ROLE", "STATUS", "NAME", "ORGANISATION", "CREATED"))

    emit([u.to_dict() for u in found], as_json, text)


@users.command("set")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), help="New role.")
@click.option("--disable", "active", flag_value=False, default=None,
              help="Disable the user; their tokens stop working.")
@click.option("--enable", "active", flag_value=True, help="Enable the user again.")
@click.option("--organisation", default=None, metavar="LHOG…",
              help="The organisation the user acts for ('' to clear).")
@click.option("--email", default=None, help="Where notices are e-mailed ('' to clear).")
@click.option("--password-stdin", is_flag=True,
              help="Set the web sign-in password, read from standard input (first line).")
@json_option
@handles_errors
def set_user(username: str, role: str | None, active: bool | None, organisation: str | None,
             email: str | None, password_stdin: bool, as_json: bool) -> None:
    """Change USERNAME's role, organisation, e-mail or web password, or disable / enable
    them."""
    if role is None and active is None and organisation is None and email is None \
            and not password_stdin:
        raise UsageError("nothing to change: give --role, --organisation, --email, "
                         "--disable, --enable or --password-stdin")
    password = _read_password() if password_stdin else None
    with bank() as opened:
        user = opened.users.set_user(local_actor(), username, role=role, active=active,
                                     password=password, organisation=organisation,
                                     email=email)
    emit(user.to_dict(), as_json,
         f"{user.username!r} is now a {user.role} ({'active' if user.active else 'disabled'})"
         + ("; password set" if password else ""))


def _read_password() -> str:
    """The first line of standard input (the password policy is checked by the service)."""
    return sys.stdin.readline(4096).rstrip("\r\n")


@users.command("log")
@click.option("--user", "username", help="Only this user's entries.")
@click.option("--since", type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]),
              help="Only entries from this date (YYYY-MM-DD, UTC) on.")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 100_000))
@json_option
@handles_errors
def sign_in_log(username: str | None, since: dt.datetime | None, limit: int,
                as_json: bool) -> None:
    """The sign-in log, newest first: sign-ins, failures, refusals while throttled,
    sign-outs, password changes and ended sessions, with the address of each."""
    with bank() as opened:
        found = opened.users.auth_log(local_actor(), username,
                                      since.replace(tzinfo=dt.UTC) if since else None, limit)

    def text() -> None:
        if not found:
            echo_err("the sign-in log has no entries" + (" for that user" if username else ""))
            return
        _table([(e.at.strftime("%Y-%m-%d %H:%M:%S"), e.event, e.username, e.address or "-",
                 e.detail) for e in found], ("WHEN (UTC)", "EVENT", "USER", "ADDRESS", "DETAIL"))

    emit([e.to_dict() for e in found], as_json, text)


@click.group()
def tokens() -> None:
    """Manage API tokens (sent as 'Authorization: Bearer <token>')."""


def _token_dict(info: TokenInfo) -> dict[str, Any]:
    return {**info.to_dict(), "status": info.status()}


@tokens.command("create")
@click.argument("username")
@click.option("--name", default="cli", show_default=True, help="What the token is for.")
@click.option("--expires-days", type=click.IntRange(1, 3650),
              help="Days until the token expires (default: never).")
@json_option
@handles_errors
def create_token(username: str, name: str, expires_days: int | None, as_json: bool) -> None:
    """Create a token for USERNAME and print its secret (shown this once only)."""
    with bank() as opened:
        secret, info = opened.users.create_token(local_actor(), username, name, expires_days)

    def text() -> None:
        click.echo(secret)
        until = f"until {_date(info.expires_at)}" if info.expires_at else "with no expiry"
        echo_err(f"token {info.prefix}… for {username!r} ({name}) valid {until}; store it "
                 "now: it is not shown again. Revoke with "
                 f"`lanhai tokens revoke {info.prefix}`.")

    emit({"token": secret, **_token_dict(info)}, as_json, text)


@tokens.command("list")
@click.argument("username", required=False)
@json_option
@handles_errors
def list_tokens(username: str | None, as_json: bool) -> None:
    """List tokens (of USERNAME, or everyone's): prefix, owner, dates, status; never the
    secret."""
    with bank() as opened:
        found = opened.users.list_tokens(local_actor(), username)

    def text() -> None:
        if not found:
            echo_err("no tokens; create one with `lanhai tokens create USERNAME`")
            return
        _table([(t.prefix, t.username, t.name, t.status(), _date(t.created_at),
                 _date(t.expires_at), _date(t.last_used_at)) for t in found],
               ("PREFIX", "USER", "NAME", "STATUS", "CREATED", "EXPIRES", "LAST USED"))

    emit([_token_dict(t) for t in found], as_json, text)


@tokens.command("revoke")
@click.argument("prefix")
@json_option
@handles_errors
def revoke_token(prefix: str, as_json: bool) -> None:
    """Revoke the active token whose secret starts with PREFIX (see `lanhai tokens list`)."""
    with bank() as opened:
        opened.users.revoke_token(local_actor(), prefix)
    emit({"revoked": prefix}, as_json, f"revoked token {prefix}")

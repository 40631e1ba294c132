"""``flask --app server …`` commands."""

from __future__ import annotations

import sys
from zoneinfo import ZoneInfo

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext

from server.extensions import db


def register_cli(app: Flask) -> None:
    """Add Fieldwork's commands to the Flask CLI."""
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(create_user_command)
    app.cli.add_command(disable_user_command)
    app.cli.add_command(workflows_cli)
    app.cli.add_command(worker_command)
    app.cli.add_command(scheduler_command)
    from server.pdf_cli import pdf_cli

    app.cli.add_command(pdf_cli)
    from server.backup import backup_cli

    app.cli.add_command(backup_cli)
    from server.erasure_cli import erase_cli, storage_cli

    app.cli.add_command(erase_cli)
    app.cli.add_command(storage_cli)


@click.command("seed-demo")
@with_appcontext
@click.option("--orders", default=1000, show_default=True, type=click.IntRange(0, 200_000))
@click.option("--technicians", default=25, show_default=True, type=click.IntRange(1, 5000))
@click.option("--customers", default=200, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--password", default="fieldwork-demo", show_default=True)
@click.option("--force", is_flag=True, help="Seed even though non-demo users exist.")
@click.option(
    "--if-empty",
    is_flag=True,
    help="Do nothing (but print the demo logins) when the database has users.",
)
@click.option(
    "--refresh-day",
    is_flag=True,
    help="On a demo database, move tech01…tech05's planned day to today (nothing else).",
)
def seed_demo_command(
    orders: int,
    technicians: int,
    customers: int,
    password: str,
    force: bool,
    if_empty: bool,
    refresh_day: bool,
) -> None:
    """Fill the database with a realistic demo company and print the logins.

    With ``--refresh-day``, move the demo technicians' plan to today instead; with
    ``--if-empty`` as well, seed an empty database and refresh a demo one (``make run``).
    """
    from flask import current_app

    from server.seed import SeedRefused, demo_logins, refresh_demo_day, seed_demo
    from server.services.users import count_users

    zone = ZoneInfo(current_app.config["FIELDWORK_SETTINGS"].timezone)
    if refresh_day and not (if_empty and not count_users()):
        if if_empty and count_users({"is_demo": False}) and not force:
            click.echo("The database has real users; not touching its plans.")
            return
        try:
            moved = refresh_demo_day(zone=zone, force=force)
        except SeedRefused as error:
            db.session.rollback()
            raise click.ClickException(str(error)) from None
        db.session.commit()
        if moved.orders:
            click.echo(
                f"Moved {moved.orders} planned jobs of {moved.technicians} demo technicians "
                f"{moved.days} day(s) on, to today."
            )
        else:
            click.echo("The demo technicians' plans are already for today.")
        return
    if if_empty and count_users():
        click.echo("The database already has users; not seeding.")
        logins = demo_logins()
        if logins:
            print_logins(logins, "as given when seeded; default fieldwork-demo")
        return

    if current_app.config["FIELDWORK_SETTINGS"].base_url.startswith("https://") and not force:
        raise click.ClickException(
            "FIELDWORK_BASE_URL is https, so this looks like a real deployment: demo accounts "
            "with a published password would be an open door. Use --force to seed anyway."
        )
    with click.progressbar(length=orders + 2, label="Seeding demo data", file=sys.stderr) as bar:
        try:
            summary = seed_demo(
                orders=orders,
                technicians=technicians,
                customers=customers,
                password=password,
                force=force,
                zone=zone,
                progress=lambda _label, n: bar.update(n if _label == "orders" else 1),
            )
        except SeedRefused as error:
            db.session.rollback()
            raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(
        f"Created {summary.technicians} technicians, {summary.customers} customers, "
        f"{summary.orders} work orders."
    )
    print_logins(summary.logins, password)


def print_logins(logins: list[tuple[str, str]], password: str) -> None:
    """Print the demo logins as a short table."""
    click.echo(f"Demo logins (password: {password}):")
    office = [u for u, role in logins if role != "technician"]
    techs = [u for u, role in logins if role == "technician"]
    roles = dict(logins)
    for username in office:
        click.echo(f"  {username:<12} {roles[username]}")
    if techs:
        click.echo(f"  {techs[0]} … {techs[-1]}  technician ({len(techs)} of them, mobile API)")


@click.command("create-user")
@with_appcontext
@click.option(
    "--role", required=True, type=click.Choice(["admin", "manager", "dispatcher", "technician"])
)
@click.option("--username", required=True)
@click.option("--display-name", default=None)
@click.option("--email", default=None)
@click.password_option(prompt="Password", confirmation_prompt=True)
def create_user_command(
    role: str, username: str, display_name: str | None, email: str | None, password: str
) -> None:
    """Create a user account (the password is prompted for)."""
    from server.models import Role
    from server.services.errors import InvalidInput
    from server.services.users import create_technician_profile, create_user

    try:
        user = create_user(
            username=username,
            password=password,
            role=Role(role),
            display_name=display_name,
            email=email,
        )
    except InvalidInput as error:
        db.session.rollback()
        messages = "; ".join(f"{k}: {' '.join(v)}" for k, v in error.details["errors"].items())
        raise click.ClickException(messages) from None
    if user.role is Role.TECHNICIAN:
        create_technician_profile(user)
    db.session.commit()
    click.echo(f"Created {user.role} {user.username} (id {user.id}).")


@click.command("disable-user")
@with_appcontext
@click.argument("username")
@click.option("--enable", is_flag=True, help="Let the user sign in again instead.")
def disable_user_command(username: str, enable: bool) -> None:
    """Disable a user: every session and token ends at once, their phones get no pushes."""
    from server.services.users import find_user_by_username, set_user_active

    user = find_user_by_username(username)
    if user is None:
        raise click.ClickException(f"No user {username!r}.")
    open_orders = set_user_active(user, enable, actor=None)
    db.session.commit()
    if enable:
        click.echo(f"{user.username} can sign in again.")
    else:
        click.echo(f"{user.username} is disabled and signed out everywhere.")
        if open_orders:
            click.echo(f"{open_orders} open orders are still assigned to them: reassign them.")


workflows_cli = AppGroup("workflows", help="Check and draw workflow definitions.")


@workflows_cli.command("check")
@click.argument("directory", required=False, type=click.Path(exists=True, file_okay=False))
def workflows_check(directory: str | None) -> None:
    """Validate every definition file; exit 1 when any has a problem."""
    from workflows import check_directory, default_definitions_dir, format_problems

    folder = directory or str(default_definitions_dir())
    problems = check_directory(folder)
    if problems:
        click.echo(format_problems(problems), err=True)
        sys.exit(1)
    click.echo(f"All workflow definitions in {folder} are valid.")


@workflows_cli.command("graph")
@click.argument("name")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["mermaid", "dot", "svg"]),
    default="mermaid",
    show_default=True,
)
@click.option("--version", "version", type=int, default=None, help="Definition version (newest).")
@click.option("--current", default=None, help="State to highlight.")
@click.option("--locale", default="en", type=click.Choice(["en", "zh_CN"]))
def workflows_graph(
    name: str, fmt: str, version: int | None, current: str | None, locale: str
) -> None:
    """Print a workflow as a Mermaid or Graphviz diagram, or an SVG."""
    from server.services.workflow_registry import definition_for
    from workflows import UnknownWorkflowError
    from workflows.graph import to_dot, to_mermaid, to_svg

    try:
        definition = definition_for(name, version)
    except UnknownWorkflowError as error:
        raise click.ClickException(str(error)) from None
    render = {"mermaid": to_mermaid, "dot": to_dot, "svg": to_svg}[fmt]
    click.echo(render(definition, current=current, locale=locale))


@click.command("worker")
@with_appcontext
def worker_command() -> None:
    """Relay outbox messages to their tasks (push, e-mail, …) until interrupted."""
    from flask import current_app

    from server.jobs.worker import run_forever

    run_forever(current_app._get_current_object())  # type: ignore[attr-defined]


@click.command("scheduler")
@with_appcontext
def scheduler_command() -> None:
    """Fire the periodic jobs (one scheduler leads at a time, across processes and hosts)."""
    from flask import current_app

    from server.jobs.scheduler import run_scheduler

    run_scheduler(current_app._get_current_object())  # type: ignore[attr-defined]

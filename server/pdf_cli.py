"""``flask --app server pdf …``: render a completion sheet on demand, verify a file."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from server.extensions import db

pdf_cli = AppGroup("pdf", help="Render and verify signed completion sheets.")


def _yes(value: bool) -> str:
    return "yes" if value else "NO"


@pdf_cli.command("render")
@click.argument("number")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Also write the signed PDF to this file.",
)
def render_command(number: str, output: Path | None) -> None:
    """Render (or fetch, when already issued) the sheet of an order's latest completion."""
    from pdf.render_process import RenderFailed
    from server.models import WorkOrder
    from server.services.completion_sheets import NoCompletion, render_on_demand, sheet_bytes

    order = db.session.scalar(select(WorkOrder).where(WorkOrder.number == number.strip()))
    if order is None:
        raise click.ClickException(f"No work order {number}.")
    store = current_app.extensions["fieldwork.blob_store"]
    try:
        sheet = render_on_demand(order, store, current_app.config["FIELDWORK_SETTINGS"])
    except NoCompletion as error:
        db.session.rollback()
        raise click.ClickException(error.message) from None
    except RenderFailed as error:
        db.session.rollback()
        raise click.ClickException(f"{order.number}: {error}") from None
    db.session.commit()
    click.echo(
        f"{order.number} revision {sheet.revision}: document {sheet.document_id}, "
        f"{sheet.page_count} pages, {sheet.size} bytes, sha256 {sheet.sha256}"
    )
    if output is not None:
        output.write_bytes(sheet_bytes(sheet, store))
        click.echo(f"Written to {output}")


@pdf_cli.command("verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def verify_command(file: Path) -> None:
    """Check a completion sheet; exit 1 when it is modified or not an original of ours."""
    from server.services.completion_sheets import verify_document

    result = verify_document(file.read_bytes(), current_app.config["FIELDWORK_SETTINGS"])
    check = result.check
    click.echo(f"file:                       {file}")
    click.echo(f"sha256:                     {check.sha256}")
    click.echo(f"signature intact:           {_yes(check.intact)}")
    click.echo(f"covers the whole file:      {_yes(check.whole_file)}")
    click.echo(f"signed by our certificate:  {_yes(check.signed_by_us and check.trusted)}")
    click.echo(f"timestamped:                {'yes' if check.timestamped else 'no'}")
    sheet = result.sheet
    if sheet is not None:
        click.echo(
            f"matches the stored hash:    {_yes(result.hash_matches)} "
            f"(document {sheet.document_id}, {sheet.work_order.number} revision {sheet.revision})"
        )
        click.echo(
            f"latest revision:            {_yes(result.is_latest)}"
            + ("" if result.is_latest else f" (the latest is revision {result.latest_revision})")
        )
    else:
        click.echo("matches the stored hash:    NO (no stored sheet has this content or id)")
    if result.ok:
        note = "" if result.is_latest else " (superseded by a newer revision)"
        click.echo(f"OK: this is the original signed document{note}.")
        return
    if result.modified:
        reason = check.problem or "its bytes differ from the stored copy"
        click.echo(f"MODIFIED: this file is not the document we signed ({reason}).")
    else:
        click.echo(f"INVALID: {check.problem or 'not a document we issued'}.")
    raise SystemExit(1)

"""Signed completion sheets: rendered from committed data, signed, stored, verifiable."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from server.extensions import db
from server.models import CompletionSheet, Role
from server.services.completion_sheets import (
    issue_completion_sheet,
    latest_sheet,
    render_on_demand,
    sheet_bytes,
    signing_identity,
)
from server.services.work_orders import apply_transition
from tests.pdf.conftest import CAPTIONS, CUSTOMER_NAMES, WORK_NOTES

# make test-system-deps installs it; under CI a missing tool fails instead of skipping.
pytestmark = pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("pdffonts", "pdftotext", "pdftoppm", "pdfimages"))
    and not os.environ.get("CI"),
    reason="poppler-utils is not installed",
)


def settings_of(app):
    return app.config["FIELDWORK_SETTINGS"]


def issue(app, order, store):
    from server.services.completion_sheets import completion_event

    sheet = issue_completion_sheet(order, completion_event(order), store, settings_of(app))
    db.session.commit()
    return sheet


def validate(data: bytes, app):
    """Validate the sheet's signature with pyHanko against our signing certificate's CA."""
    identity = signing_identity(settings_of(app))
    context = ValidationContext(
        trust_roots=[asn1_x509.Certificate.load(der) for der in identity.trust_roots_der],
        allow_fetching=False,
        revocation_mode="soft-fail",
    )
    [embedded] = PdfFileReader(io.BytesIO(data)).embedded_signatures
    return embedded, validate_pdf_signature(embedded, context)


def run(*command: str) -> str:
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout  # noqa: S603


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_sheet_with_six_phone_photos_is_signed_and_validates(
    app, complete_order, phone_jpegs, store, tmp_path, locale
):
    order, _ = complete_order(locale, photos=phone_jpegs)
    sheet = issue(app, order, store)
    data = sheet_bytes(sheet, store)

    embedded, status = validate(data, app)
    assert status.intact
    assert status.valid
    assert status.trusted
    assert status.bottom_line
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert status.md_algorithm == "sha256"
    assert embedded.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"  # PAdES
    assert (
        status.signing_cert.sha256_fingerprint.replace(" ", "").lower() == sheet.signer_fingerprint
    )
    # The visible signature field sits on the last page.
    field = embedded.sig_field
    assert field["/Rect"][2] > field["/Rect"][0]
    kids = PdfFileReader(io.BytesIO(data)).root["/Pages"]["/Kids"]
    assert field.raw_get("/P").idnum == kids.raw_get(len(kids) - 1).idnum

    # Stored with its hash; the photos are the 1,600 px display copies, never the originals.
    assert sheet.sha256 == hashlib.sha256(data).hexdigest()
    assert sheet.size == len(data)
    assert sheet.locale == locale
    assert sheet.revision == 1
    path = tmp_path / "sheet.pdf"
    path.write_bytes(data)
    images = [line.split() for line in run("pdfimages", "-list", str(path)).splitlines()[2:]]
    photos = [row for row in images if row[2] == "image" and row[8] == "jpeg"]
    assert len(photos) == 6
    assert {(int(row[3]), int(row[4])) for row in photos} == {(1600, 1200)}
    assert "pts (A4)" in run("pdfinfo", str(path))


def test_chinese_sheet_embeds_a_cjk_font_and_its_text_extracts_back(
    app, complete_order, phone_jpegs, store, tmp_path
):
    order, _ = complete_order("zh_CN", photos=phone_jpegs[:2])
    sheet = issue(app, order, store)
    path = tmp_path / "sheet.pdf"
    path.write_bytes(sheet_bytes(sheet, store))

    fonts = run("pdffonts", str(path)).splitlines()[2:]
    cjk = [line for line in fonts if "CJK" in line]
    assert cjk, fonts
    assert all(line.split()[-5] == "yes" for line in cjk)  # embedded
    text = run("pdftotext", "-layout", str(path), "-")
    flat = re.sub(r"\s+", "", text)
    for expected in [
        "服务完工单",
        CUSTOMER_NAMES["zh_CN"],
        order.number,
        "空调维修",
        *WORK_NOTES["zh_CN"].split("\n"),
        *CAPTIONS["zh_CN"][:2],
        "已断电",
        "李女士",
        f"第1页，共{sheet.page_count}页",
        f"文件编号{sheet.document_id}·第1版",
    ]:
        assert re.sub(r"\s+", "", expected) in flat, expected
    assert "\ufffd" not in text  # no replacement characters: every glyph mapped back


def test_one_flipped_byte_is_reported_modified_by_pdf_verify(
    app, complete_order, phone_jpegs, store, tmp_path
):
    order, _ = complete_order("en", photos=phone_jpegs[:1])
    sheet = issue(app, order, store)
    original = tmp_path / "original.pdf"
    original.write_bytes(sheet_bytes(sheet, store))
    runner = app.test_cli_runner()

    ok = runner.invoke(args=["pdf", "verify", str(original)])
    assert ok.exit_code == 0, ok.output
    assert "OK: this is the original signed document." in ok.output
    assert f"document {sheet.document_id}" in ok.output

    for position in (len(original.read_bytes()) // 2, 2000, len(original.read_bytes()) - 40):
        data = bytearray(original.read_bytes())
        data[position] ^= 0x01
        tampered = tmp_path / f"tampered-{position}.pdf"
        tampered.write_bytes(bytes(data))
        result = runner.invoke(args=["pdf", "verify", str(tampered)])
        assert result.exit_code != 0, result.output
        assert "MODIFIED" in result.output or "INVALID" in result.output, result.output
    middle = tmp_path / f"tampered-{len(original.read_bytes()) // 2}.pdf"
    result = runner.invoke(args=["pdf", "verify", str(middle)])
    assert "MODIFIED" in result.output
    assert "matches the stored hash:    NO" in result.output

    appended = tmp_path / "appended.pdf"
    appended.write_bytes(original.read_bytes() + b"\n% one more line\n")
    result = runner.invoke(args=["pdf", "verify", str(appended)])
    assert result.exit_code == 1
    assert "covers the whole file:      NO" in result.output

    garbage = tmp_path / "garbage.pdf"
    garbage.write_bytes(b"not a pdf at all")
    result = runner.invoke(args=["pdf", "verify", str(garbage)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output


def test_pdftoppm_renders_every_page(app, complete_order, phone_jpegs, store, tmp_path):
    order, _ = complete_order("zh_CN", photos=phone_jpegs)
    sheet = issue(app, order, store)
    path = tmp_path / "sheet.pdf"
    path.write_bytes(sheet_bytes(sheet, store))
    subprocess.run(  # noqa: S603
        ["pdftoppm", "-r", "50", "-png", str(path), str(tmp_path / "page")],  # noqa: S607
        check=True,
    )
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) == sheet.page_count >= 2
    from PIL import Image

    for page in pages:
        with Image.open(page) as image:
            assert image.size[1] > image.size[0]  # portrait
            assert image.convert("L").getextrema()[0] < 100  # something is printed on it


def test_same_completion_gives_the_same_file_and_a_recompletion_a_new_revision(
    app, complete_order, phone_jpegs, store, create_user, tmp_path
):
    order, _ = complete_order("zh_CN", photos=phone_jpegs[:1])
    first = issue(app, order, store)
    first_bytes = sheet_bytes(first, store)
    again = render_on_demand(order, store, settings_of(app))
    assert again.id == first.id
    assert sheet_bytes(again, store) == first_bytes

    dispatcher = create_user(Role.DISPATCHER)
    tech = order.assignee
    apply_transition(order, "reopen", dispatcher, {"reason": "客户反映仍不制冷"}, order.version)
    apply_transition(order, "assign", dispatcher, {"assignee_id": tech.id}, order.version)
    for step in ("accept", "start_travel", "arrive", "start_work"):
        apply_transition(order, step, tech, {}, order.version)
    apply_transition(order, "complete", tech, {"resolution_code": "refilled"}, order.version)
    db.session.commit()

    second = issue(app, order, store)
    assert second.revision == 2
    assert second.document_id != first.document_id
    assert latest_sheet(order).id == second.id
    assert sheet_bytes(first, store) == first_bytes  # the old revision stays retrievable
    assert (
        db.session.scalar(
            db.select(db.func.count()).where(CompletionSheet.work_order_id == order.id)
        )
        == 2
    )

    old = tmp_path / "old.pdf"
    old.write_bytes(first_bytes)
    result = app.test_cli_runner().invoke(args=["pdf", "verify", str(old)])
    assert result.exit_code == 0, result.output
    assert "latest revision:            NO (the latest is revision 2)" in result.output


def test_pdf_render_command_renders_on_demand_and_writes_the_stored_bytes(
    app, complete_order, phone_jpegs, store, tmp_path
):
    order, _ = complete_order("en", photos=phone_jpegs[:1])
    runner = app.test_cli_runner()
    output = tmp_path / "out.pdf"
    result = runner.invoke(args=["pdf", "render", order.number, "--output", str(output)])
    assert result.exit_code == 0, result.output
    sheet = latest_sheet(order)
    assert output.read_bytes() == sheet_bytes(sheet, store)
    assert sheet.sha256 in result.output
    again = runner.invoke(args=["pdf", "render", order.number])
    assert again.exit_code == 0
    assert sheet.sha256 in again.output  # the same stored file, not a second render
    missing = runner.invoke(args=["pdf", "render", "WO-1999-000000"])
    assert missing.exit_code != 0
    assert "No work order WO-1999-000000" in missing.output


def test_timestamp_from_a_tsa_when_configured(app, complete_order, phone_jpegs, store, monkeypatch):
    from pdf import signing
    from tests.pdf.tsa import dummy_tsa

    timestamper, tsa_certificate = dummy_tsa()
    monkeypatch.setattr(signing, "http_timestamper", lambda url: timestamper)
    import server.services.completion_sheets as service

    monkeypatch.setattr(service, "http_timestamper", lambda url: timestamper)
    settings = dataclasses.replace(settings_of(app), tsa_url="http://tsa.invalid/")
    monkeypatch.setitem(app.config, "FIELDWORK_SETTINGS", settings)

    order, _ = complete_order("en", photos=phone_jpegs[:1])
    sheet = issue(app, order, store)
    assert sheet.is_timestamped
    data = sheet_bytes(sheet, store)
    identity = signing_identity(settings)
    [embedded] = PdfFileReader(io.BytesIO(data)).embedded_signatures
    status = validate_pdf_signature(
        embedded,
        ValidationContext(
            trust_roots=[asn1_x509.Certificate.load(der) for der in identity.trust_roots_der],
            allow_fetching=False,
            revocation_mode="soft-fail",
        ),
        ts_validation_context=ValidationContext(
            trust_roots=[tsa_certificate], allow_fetching=False, revocation_mode="soft-fail"
        ),
    )
    assert status.bottom_line
    assert status.timestamp_validity is not None
    assert status.timestamp_validity.intact
    assert status.timestamp_validity.valid
    assert status.timestamp_validity.trusted
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE


def test_development_identity_is_created_once_into_the_instance_folder(app):
    settings = settings_of(app)
    first = signing_identity(settings)
    second = signing_identity(settings)
    assert first.fingerprint == second.fingerprint
    folder = Path(settings.instance_path) / "signing"
    assert (folder / "development-signing.p12").stat().st_mode & 0o077 == 0
    assert (folder / "development-ca.pem").exists()

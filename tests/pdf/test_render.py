"""The sheet's HTML and the locked-down renderer, without an app or a database."""

from __future__ import annotations

import io
import os
import shutil
import subprocess

import pytest
from PIL import Image

from pdf.render import Resource, render_pdf
from pdf.sheet import render_html

# make test-system-deps installs it; under CI a missing tool fails instead of skipping.
pytestmark = pytest.mark.skipif(
    not shutil.which("pdftotext") and not os.environ.get("CI"), reason="poppler-utils missing"
)


def jpeg(size=(1600, 1200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (90, 140, 200)).save(out, "JPEG")
    return out.getvalue()


def sheet(**changes):
    base = {
        "document_id": "abcd2345efgh6789jkmn",
        "revision": 1,
        "locale": "en",
        "page_size": "A4",
        "timezone": "Asia/Shanghai",
        "verify_url": "http://127.0.0.1:5000/verify/abcd2345efgh6789jkmn",
        "company": {"name": "Shencheng HVAC", "logo_key": None},
        "order": {
            "number": "WO-2026-000042",
            "title": "AC not cooling",
            "category": "Repair",
            "description": None,
        },
        "customer": {"name": "Ms Li"},
        "site": {"label": None, "address": "88 Huaihai Road, Shanghai"},
        "asset": {"name": None, "model": "Gree GMV6", "serial_number": "GR0001"},
        "timeline": [
            {"key": "created", "at": "2026-11-23T01:00:00+00:00"},
            {"key": "completed", "at": "2026-11-23T06:30:00+00:00"},
        ],
        "technician": {"name": "Wang Jianguo"},
        "work_performed": "Replaced the start capacitor.",
        "checklist": [],
        "parts": [],
        "labour_minutes": 95,
        "resolution": {"code": "replaced_part", "note": None},
        "photos": [{"key": "a" * 32 + ".display", "caption": "Label"}],
        "signatures": {"customer": None, "technician": None},
    }
    return base | changes


def text_of(data: bytes) -> str:
    return subprocess.run(  # noqa: S603
        ["pdftotext", "-", "-"],  # noqa: S607
        input=data,
        capture_output=True,
        check=True,
    ).stdout.decode()


def test_times_are_shown_in_the_configured_time_zone_and_language():
    html = render_html(sheet())
    assert "23 Nov 2026, 14:30" in html  # 06:30 UTC in Shanghai
    chinese = render_html(sheet(locale="zh_CN"))
    assert "2026年11月23日 14:30" in chinese
    assert "服务完工单" in chinese
    assert 'lang="zh-CN"' in chinese


def test_hostile_text_is_escaped_and_nothing_outside_our_files_is_fetched():
    hostile = (
        '<img src="file:///etc/passwd"><link rel="attachment" href="http://127.0.0.1:9/x">'
        "<style>@import url(http://127.0.0.1:9/a.css);</style>"
    )
    html = render_html(sheet(customer={"name": hostile}, work_performed=hostile))
    assert '<img src="file:' not in html
    rendered = render_pdf(html, {"a" * 32 + ".display": Resource(jpeg(), "image/jpeg")})
    assert rendered.fetches.refused == []
    assert rendered.fetches.served == ["a" * 32 + ".display"]
    assert "file:///etc/passwd" in text_of(rendered.data)  # shown as text, not fetched


def test_the_fetcher_refuses_file_data_and_outside_urls():
    html = (
        "<html><head><style>@import url(http://127.0.0.1:9/a.css);"
        "body { background: url(file:///etc/hostname); }</style>"
        '<link rel="stylesheet" href="https://example.com/x.css"></head><body>'
        '<img src="file:///etc/passwd"><img src="http://169.254.169.254/latest/meta-data">'
        '<img src="data:image/png;base64,iVBORw0KGgo="><img src="fieldwork-file:unknown">'
        '<img src="fieldwork-file:known">x</body></html>'
    )
    rendered = render_pdf(html, {"known": Resource(jpeg((40, 30)), "image/jpeg")})
    assert rendered.fetches.served == ["known"]
    refused = " ".join(rendered.fetches.refused)
    for url in ("file:///etc/passwd", "169.254.169.254", "example.com", "127.0.0.1:9", "data:"):
        assert url in refused, url
    assert rendered.data.startswith(b"%PDF-")


def test_letter_size_and_page_numbers(tmp_path):
    rendered = render_pdf(render_html(sheet(page_size="Letter", photos=[])))
    text = text_of(rendered.data)
    assert f"Page 1 of {rendered.page_count}" in text
    assert "Document abcd2345efgh6789jkmn · revision 1" in text
    path = tmp_path / "letter.pdf"
    path.write_bytes(rendered.data)
    info = subprocess.run(  # noqa: S603
        ["pdfinfo", str(path)],  # noqa: S607
        capture_output=True,
        check=True,
        text=True,
    )
    assert "612 x 792 pts (letter)" in info.stdout


def test_an_unknown_page_size_is_refused():
    with pytest.raises(ValueError, match="page_size"):
        render_html(sheet(page_size="A3"))


def test_the_web_app_does_not_import_weasyprint(tmp_path):
    import sys

    script = (
        "import sys\n"
        "from server import create_app\n"
        f"app = create_app({{'FIELDWORK_DATABASE_URL': 'sqlite:///{tmp_path}/x.db', "
        f"'FIELDWORK_INSTANCE_PATH': '{tmp_path}', 'FIELDWORK_SECRET_KEY': 'x'}})\n"
        "app.test_client().get('/verify/zzzzzzzzzzzzzzzzzzzz')\n"
        "print('weasyprint' in sys.modules, 'pyhanko' in sys.modules)\n"
    )
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.split()[-2:] == ["False", "False"]


def test_rendering_a_sheet_leaves_photo_checks_refusing_truncated_files():
    # WeasyPrint's import switches Pillow to accept truncated images process-wide.
    from server.images import ImageRejected, inspect_image

    render_pdf("<p>sheet</p>")
    buffer = io.BytesIO()
    Image.new("RGB", (400, 300), (200, 30, 30)).save(buffer, "JPEG")
    truncated = buffer.getvalue()[: len(buffer.getvalue()) // 2]
    with pytest.raises(ImageRejected):
        inspect_image(truncated)


def test_the_resolution_is_worded_for_the_customer_and_unknown_codes_are_kept():
    english = text_of(render_pdf(render_html(sheet(photos=[]))).data)
    assert "Part replaced" in english
    assert "replaced_part" not in english
    chinese = render_html(sheet(locale="zh_CN", photos=[]))
    assert "更换配件" in chinese
    custom = render_html(sheet(photos=[], resolution={"code": "valve_reseated", "note": "ok"}))
    assert "valve_reseated" in custom

"""The completion sheet as plain data, and its HTML.

``render_html(sheet)`` is a pure function of the primitive dict below (strings, numbers,
lists and dicts only; times as ISO 8601 strings with an offset). Images are referenced by
storage key and fetched during the PDF render from the bytes the caller passes in.

Keys of the sheet dict::

    document_id     str    public id, printed in the footer and in the verify URL
    revision        int    1 for the first completion, 2 after a reopen and re-completion, …
    locale          str    ``en`` or ``zh_CN``: the customer's language
    page_size       str    ``A4`` (default) or ``Letter``
    timezone        str    IANA zone the times are shown in
    verify_url      str    the public verification page of this document
    company         {name, logo_key|None}
    order           {number, title, category, description|None}
    customer        {name}
    site            {label|None, address} | None
    asset           {name|None, model|None, serial_number|None} | None
    timeline        [{key: created|assigned|arrived|completed, at: ISO str}]
    technician      {name} | None
    work_performed  str | None
    checklist       [{label, answer|None, ok: bool|None}]
    parts           [{part_number, description|None, quantity}]
    labour_minutes  int | None
    resolution      {code|None, note|None}
    photos          [{key, caption|None}]   (keys of the ≤ 1,600 px display copies)
    signatures      {customer: {key, name|None, signed_at|None}|None, technician: …|None}
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
import segno
from markupsafe import Markup

from pdf.fonts import font_stack
from pdf.labels import labels_for, language_of, resolution_label
from pdf.render import RESOURCE_SCHEME

#: The repository's ``templates/`` folder; the sheet lives in its ``pdf/`` folder.
TEMPLATES_DIR = Path(__file__).resolve().parents[1] / "templates"
#: Page sizes the stylesheet knows.
PAGE_SIZES = ("A4", "Letter")


@functools.cache
def _environment(templates_dir: Path = TEMPLATES_DIR) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "css"), default=True),
        undefined=jinja2.StrictUndefined,
    )
    env.filters["resource_url"] = resource_url
    return env


def resource_url(key: str) -> str:
    """Return the URL under which the sheet references the stored file ``key``."""
    return f"{RESOURCE_SCHEME}:{key}"


def format_time(value: str | None, zone: str, language: str) -> str:
    """Format an ISO 8601 time in ``zone`` the way ``language`` writes dates."""
    if not value:
        return ""
    moment = datetime.fromisoformat(value).astimezone(ZoneInfo(zone))
    if language == "zh_CN":
        return f"{moment.year}年{moment.month}月{moment.day}日 {moment:%H:%M}"
    return f"{moment.day} {moment:%b %Y, %H:%M}"


def format_labour(minutes: int | None, labels: Mapping[str, str]) -> str:
    """Format a labour time as hours and minutes."""
    if minutes is None:
        return labels["none"]
    if minutes < 60:
        return labels["minutes"].format(minutes=minutes)
    return labels["hours_minutes"].format(hours=minutes // 60, minutes=minutes % 60)


def qr_svg(url: str) -> str:
    """Return an inline SVG QR code of ``url`` (no external resource to fetch)."""
    code = segno.make_qr(url, error="m")
    return str(code.svg_inline(scale=3, border=0, dark="#111"))


def css_content(template: str, **counters: str) -> str:
    """Turn a label such as ``Page {page} of {pages}`` into a CSS ``content`` value."""
    parts: list[str] = []
    rest = template
    while "{" in rest:
        before, _, after = rest.partition("{")
        name, _, rest = after.partition("}")
        if before:
            parts.append(_css_string(before))
        parts.append(counters[name])
    if rest:
        parts.append(_css_string(rest))
    return " ".join(parts)


def _css_string(text: str) -> str:
    """Quote ``text`` as a CSS string (no newline, quote or markup can escape it)."""
    escaped = "".join(
        ch if ch.isalnum() or ch in " .,:;·-_()/，、：；（）" else f"\\{ord(ch):x} " for ch in text
    )
    return f'"{escaped}"'


def render_html(sheet: Mapping[str, Any], templates_dir: Path = TEMPLATES_DIR) -> str:
    """Render the completion sheet to HTML (autoescaped; images by ``fieldwork-file:`` URL)."""
    language = language_of(str(sheet.get("locale")))
    labels = labels_for(language)
    page_size = sheet.get("page_size") or "A4"
    if page_size not in PAGE_SIZES:
        raise ValueError(f"page_size must be one of {PAGE_SIZES}")
    zone = str(sheet["timezone"])

    def when(value: str | None) -> str:
        return format_time(value, zone, language)

    footer = labels["document"].format(document_id=sheet["document_id"], revision=sheet["revision"])
    context = {
        "sheet": sheet,
        "t": labels,
        "lang": "zh-CN" if language == "zh_CN" else "en",
        "page_size": page_size,
        # CSS values built here from our own texts; the style element is not HTML-escaped.
        "font_stack": Markup(font_stack(language)),  # noqa: S704
        "when": when,
        "labour": format_labour(sheet.get("labour_minutes"), labels),
        "resolution_label": lambda code: resolution_label(code, language),
        "qr": Markup(qr_svg(str(sheet["verify_url"]))),  # noqa: S704 - segno's own SVG
        "page_counter": Markup(  # noqa: S704
            css_content(labels["page"], page="counter(page)", pages="counter(pages)")
        ),
        "footer_text": Markup(_css_string(footer)),  # noqa: S704
    }
    return _environment(templates_dir).get_template("pdf/completion_sheet.html").render(context)

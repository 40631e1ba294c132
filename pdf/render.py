"""HTML → PDF with WeasyPrint, fetching nothing but the stored files the caller passes in.

WeasyPrint is imported inside :func:`render_pdf` only: its import costs about 0.6 s, which
web requests must never pay (rendering happens in the background worker).
"""

from __future__ import annotations

import gc
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: URL scheme of the images a sheet references; only the fetcher below serves it.
RESOURCE_SCHEME = "fieldwork-file"
#: CSS pixels per PDF point (WeasyPrint lays out at 96 px per inch, PDF uses 72 pt).
PX_TO_PT = 0.75
#: Class of the element that reserves the visible signature's place on the last page.
SEAL_CLASS = "seal-space"


@dataclass(frozen=True)
class Resource:
    """A stored file the sheet may show: its bytes and MIME type."""

    data: bytes
    content_type: str


@dataclass
class FetchLog:
    """What the renderer asked for: served keys and refused URLs (tests read it)."""

    served: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RenderedPdf:
    """A rendered (unsigned) PDF and where the signature appearance goes."""

    data: bytes
    page_count: int
    #: ``(x1, y1, x2, y2)`` in PDF points on the last page, or None when not laid out.
    seal_box: tuple[int, int, int, int] | None
    fetches: FetchLog


def _make_fetcher(resources: Mapping[str, Resource], log: FetchLog) -> Any:
    """Return a WeasyPrint URL fetcher serving ``fieldwork-file:<key>`` from ``resources``."""
    _import_weasyprint_keeping_pillow_strict()
    from weasyprint.urls import (  # type: ignore[import-untyped]
        URLFetcher,
        URLFetcherResponse,
    )

    class StoredFileFetcher(URLFetcher):  # type: ignore[misc]
        """Serve our stored files; refuse ``file:``, ``data:``, http(s) and everything else."""

        def fetch(self, url: str, headers: Any = None) -> Any:
            scheme, _, key = url.partition(":")
            resource = resources.get(key) if scheme == RESOURCE_SCHEME else None
            if resource is None:
                log.refused.append(url[:200])
                raise ValueError(f"URL not allowed in a completion sheet: {url[:80]}")
            log.served.append(key)
            return URLFetcherResponse(
                url, body=resource.data, headers={"Content-Type": resource.content_type}
            )

    return StoredFileFetcher(timeout=5, allow_redirects=False)


def _import_weasyprint_keeping_pillow_strict() -> None:
    """Import WeasyPrint, then undo the process-wide Pillow switch its import flips.

    weasyprint.images sets ``PIL.ImageFile.LOAD_TRUNCATED_IMAGES = True`` for every image
    decoded afterwards in the process, which would let truncated uploads through our photo
    checks wherever a sheet was rendered first. The sheet's images are our own re-encoded
    copies, never truncated, so it does not need the switch.
    """
    import weasyprint  # type: ignore[import-untyped]  # noqa: F401
    from PIL import ImageFile

    ImageFile.LOAD_TRUNCATED_IMAGES = False


def render_pdf(html: str, resources: Mapping[str, Resource] | None = None) -> RenderedPdf:
    """Lay out ``html`` and write the PDF; images come only from ``resources``."""
    _import_weasyprint_keeping_pillow_strict()
    import weasyprint

    log = FetchLog()
    fetcher = _make_fetcher(resources or {}, log)
    document = weasyprint.HTML(
        string=html, base_url=f"{RESOURCE_SCHEME}:", url_fetcher=fetcher
    ).render()
    seal = _seal_box(document)
    output = io.BytesIO()
    # Identical input gives an identical file id (no random /ID in the trailer).
    document.write_pdf(output, pdf_identifier=b"fieldwork-completion-sheet", custom_metadata=True)
    pages = len(document.pages)
    del document
    # Layout trees are full of reference cycles; collected now, a long-lived worker's memory
    # stays at one sheet's peak instead of piling up tens of MB per sheet until the GC runs.
    gc.collect()
    return RenderedPdf(output.getvalue(), pages, seal, log)


def _seal_box(document: Any) -> tuple[int, int, int, int] | None:
    """Find the reserved signature box on the last page, in PDF points from the bottom."""
    if not document.pages:
        return None
    page = document.pages[-1]
    page_height = page.height * PX_TO_PT
    for box in page._page_box.descendants():
        element = getattr(box, "element", None)
        if element is None or SEAL_CLASS not in (element.get("class") or "").split():
            continue
        x1 = box.position_x * PX_TO_PT
        top = box.position_y * PX_TO_PT
        width = box.margin_width() * PX_TO_PT
        height = box.margin_height() * PX_TO_PT
        return (
            round(x1),
            round(page_height - top - height),
            round(x1 + width),
            round(page_height - top),
        )
    return None

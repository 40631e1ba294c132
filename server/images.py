"""Decide what an uploaded image is from its bytes, and derive safe copies to serve.

Nothing here trusts the client's file name or ``Content-Type``: the format comes from a
successful decode with a decoder restricted to the formats we accept. Every way a hostile
file can make Pillow fail is turned into :class:`ImageRejected`, whose ``code`` callers map
to a 4xx response. Derived copies are re-encoded from pixels onto a fresh canvas, so no
metadata (EXIF GPS, maker notes, comments, text chunks) or appended payload survives.
"""

from __future__ import annotations

import functools
import io
import math
import re
import struct
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageOps

#: Formats accepted by default. HEIF is honoured only when the pillow-heif plugin is
#: importable; without it the name is dropped before Pillow sees it.
ALLOWED_FORMATS: tuple[str, ...] = ("JPEG", "PNG", "WEBP", "HEIF")

#: A phone camera's largest sensor; anything bigger is treated as a decompression bomb.
MAX_PIXELS = 64_000_000

#: Largest upload we decode at all.
MAX_BYTES = 20 * 1024 * 1024

#: Largest signature image, per side.
MAX_SIGNATURE_SIDE = 4000

#: Longest signature-pad path data we turn into SVG.
MAX_PATH_DATA_CHARS = 200_000

DISPLAY_LONG_SIDE = 1600
THUMBNAIL_LONG_SIDE = 320
#: libjpeg's own default and the usual web setting: six ≤ 1,600 px copies of phone photos
#: come to about 0.65 MB at 75 against 1.05 MB at 85, which keeps a completion sheet with
#: six photos under 1 MB for the customer's mailbox; the difference is not visible on a
#: phone or in a 57 mm photo on paper. Originals are kept for anyone who needs every pixel.
JPEG_QUALITY = 75

_CONTENT_TYPES = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "WEBP": "image/webp",
    "HEIF": "image/heif",
}

# Magic numbers used only to word the rejection of a recognisable but unwanted format;
# the decision to accept never rests on them.
_MAGIC: tuple[tuple[int, bytes, str], ...] = (
    (0, b"\xff\xd8\xff", "JPEG"),
    (0, b"\x89PNG\r\n\x1a\n", "PNG"),
    (8, b"WEBP", "WEBP"),
    (0, b"GIF87a", "GIF"),
    (0, b"GIF89a", "GIF"),
    (0, b"II*\x00", "TIFF"),
    (0, b"MM\x00*", "TIFF"),
    (0, b"BM", "BMP"),
    (0, b"8BPS", "PSD"),
    (0, b"\x00\x00\x01\x00", "ICO"),
    (0, b"SIMPLE  =", "FITS"),
    (4, b"ftypavif", "AVIF"),
    (4, b"ftypheic", "HEIF"),
    (4, b"ftypheix", "HEIF"),
    (4, b"ftypmif1", "HEIF"),
)

# What Pillow and its plugins raise on malformed input. The first eight are the ones
# Pillow's own fuzzers tolerate; IndexError and KeyError have come out of plugins on
# crafted files in past advisories; TypeError out of Pillow 13's TIFF/EXIF writer when
# exif_transpose rewrites a mutated EXIF block (found by our hypothesis test).
_DECODE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,  # includes UnidentifiedImageError
    SyntaxError,
    ValueError,
    MemoryError,
    NotImplementedError,
    OverflowError,
    struct.error,
    EOFError,
    IndexError,
    KeyError,
    TypeError,
    Image.DecompressionBombError,
    Image.DecompressionBombWarning,
)

_GPS_IFD = 0x8825
_SVG_PATH_DATA = re.compile(r"[MmLlHhVvCcSsQqTtAaZz0-9eE.,\s+-]*", re.ASCII)


class ImageRejected(ValueError):
    """Refuse an upload that is not an acceptable image.

    ``code`` is stable and meant for machines: ``not_an_image``, ``type_not_allowed``,
    ``too_large``, ``too_many_pixels``, ``truncated``, ``corrupt``, ``invalid_path_data``
    or ``invalid_dimensions``. ``message`` is an English sentence for people.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class InspectedImage:
    """Describe an image that decoded cleanly, as stored (before EXIF orientation)."""

    format: str
    content_type: str
    width: int
    height: int
    #: GPS (latitude, longitude) in degrees from EXIF, for a DB column; never served.
    exif_location: tuple[float, float] | None


def inspect_image(data: bytes, allowed: Sequence[str] = ALLOWED_FORMATS) -> InspectedImage:
    """Identify and fully decode an image, rejecting anything we would not serve."""
    formats = _decoder_formats(allowed)
    # The first open is spent on verify(), which leaves the image unusable.
    with _decoding("corrupt"):
        _open(data, formats).verify()
    with _decoding("corrupt"):
        image = _open(data, formats)
        image.load()
        # Parsed here so that a photo whose EXIF breaks Pillow is refused now, not later
        # in derive_display's exif_transpose.
        exif = image.getexif()
    image_format = str(image.format)
    return InspectedImage(
        format=image_format,
        content_type=_CONTENT_TYPES[image_format],
        width=image.width,
        height=image.height,
        exif_location=_gps_location(exif),
    )


def derive_display(data: bytes, long_side: int = DISPLAY_LONG_SIDE) -> bytes:
    """Re-encode an image as a metadata-free JPEG no longer than ``long_side`` pixels."""
    return _derive(data, long_side)


def derive_thumbnail(data: bytes, long_side: int = THUMBNAIL_LONG_SIDE) -> bytes:
    """Re-encode an image as a metadata-free JPEG thumbnail."""
    return _derive(data, long_side)


def signature_png(data: bytes) -> InspectedImage:
    """Accept a signature image only if it is a PNG of at most 4000 x 4000 pixels."""
    inspected = inspect_image(data, allowed=("PNG",))
    if inspected.width > MAX_SIGNATURE_SIDE or inspected.height > MAX_SIGNATURE_SIDE:
        raise ImageRejected(
            "too_many_pixels",
            f"A signature may be at most {MAX_SIGNATURE_SIDE} x {MAX_SIGNATURE_SIDE} pixels.",
        )
    return inspected


def svg_from_path_data(path_data: str, width: int, height: int) -> str:
    """Build our own SVG document drawing signature-pad path data in black."""
    for side in (width, height):
        # bool is an int subclass; True x True is not a canvas.
        if (
            not isinstance(side, int)
            or isinstance(side, bool)
            or not 1 <= side <= MAX_SIGNATURE_SIDE
        ):
            raise ImageRejected(
                "invalid_dimensions",
                f"Signature width and height must be whole numbers from 1 to {MAX_SIGNATURE_SIDE}.",
            )
    if not isinstance(path_data, str) or len(path_data) > MAX_PATH_DATA_CHARS:
        raise ImageRejected(
            "invalid_path_data",
            f"Signature path data must be text of at most {MAX_PATH_DATA_CHARS} characters.",
        )
    if not _SVG_PATH_DATA.fullmatch(path_data):
        raise ImageRejected(
            "invalid_path_data", "Signature path data may contain only path commands and numbers."
        )
    # Collapsing whitespace also drops \f and \v, which XML does not allow.
    normalized = " ".join(path_data.split())
    if normalized[:1] not in ("M", "m"):
        raise ImageRejected("invalid_path_data", "Signature path data must start with a move-to.")
    # Safe to interpolate: the allowlist above excludes quotes, '<', '>' and '&'.
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}">'
        f'<path d="{normalized}" fill="none" stroke="black" stroke-width="2" '
        f'stroke-linecap="round" stroke-linejoin="round"/></svg>'
    )


def _derive(data: bytes, long_side: int) -> bytes:
    if long_side < 1:
        raise ValueError("long_side must be at least 1")
    formats = _decoder_formats(ALLOWED_FORMATS)
    with _decoding("corrupt"):
        image = _open(data, formats)
        # Lets the JPEG decoder scale down by up to 8x while decoding: far less memory
        # and time for a thumbnail of a 48 MP photo. A no-op for other formats.
        image.draft("RGB", (long_side, long_side))
        image.load()
        oriented = ImageOps.exif_transpose(image)
        canvas = _flatten(oriented)
        canvas.thumbnail((long_side, long_side), Image.Resampling.LANCZOS)
        out = io.BytesIO()
        # Progressive: a phone on a slow link shows the whole photo coarse, then sharpens.
        canvas.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    return out.getvalue()


def _flatten(image: Image.Image) -> Image.Image:
    """Paint the pixels onto a fresh white RGB canvas, leaving all metadata behind."""
    # Pillow's JPEG writer copies ``info["comment"]`` (and other formats copy more), so
    # the output is built on a new image whose info is empty rather than a converted copy.
    if image.mode.startswith("I"):
        # 16-bit greyscale PNGs would clip to white if converted directly.
        image = image.convert("I").point(lambda value: value / 256).convert("L")
    canvas = Image.new("RGB", image.size, (255, 255, 255))
    if image.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        canvas.paste(rgba, mask=rgba.getchannel("A"))
    else:
        canvas.paste(image.convert("RGB"))
    return canvas


def _open(data: bytes, formats: list[str]) -> Image.Image:
    """Open an image header with the allowed decoders only and check its declared size."""
    if not isinstance(data, bytes | bytearray | memoryview) or len(data) == 0:
        raise ImageRejected("not_an_image", "The file is empty.")
    if len(data) > MAX_BYTES:
        raise ImageRejected(
            "too_large", f"The image is larger than {MAX_BYTES // (1024 * 1024)} MB."
        )
    try:
        image = Image.open(io.BytesIO(data), formats=formats)
    except Image.UnidentifiedImageError:
        sniffed = _sniff(bytes(data[:16]))
        if sniffed is not None and sniffed not in formats:
            raise ImageRejected(
                "type_not_allowed",
                f"{sniffed} images are not accepted; use {', '.join(formats)}.",
            ) from None
        raise ImageRejected("not_an_image", "The file is not an image we can read.") from None
    width, height = image.size
    if width < 1 or height < 1:
        raise ImageRejected("corrupt", "The image has no pixels.")
    # Checked from the header, before a single pixel is decoded.
    if width * height > MAX_PIXELS:
        raise ImageRejected(
            "too_many_pixels",
            f"The image has more than {MAX_PIXELS // 1_000_000} million pixels.",
        )
    return image


@contextmanager
def _decoding(code: str) -> Iterator[None]:
    """Turn Pillow's failures and decompression-bomb warnings into ImageRejected."""
    # Before Python 3.14 catch_warnings swaps process-wide state, so threads can briefly see
    # each other's filters; the MAX_PIXELS header check in _open is the guard that counts,
    # this filter is the second line (Pillow warns only above its own, higher limit).
    try:
        with warnings.catch_warnings():
            # Other Pillow warnings (odd EXIF, odd chunks) describe files we still
            # accept; only the bomb warning must stop decoding.
            warnings.simplefilter("ignore")
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield
    except ImageRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageRejected(
            "too_many_pixels", "The image declares too many pixels to decode safely."
        ) from exc
    except _DECODE_ERRORS as exc:
        # Pillow has no truncation exception type, only this wording.
        if isinstance(exc, EOFError) or "truncated" in str(exc).lower():
            raise ImageRejected("truncated", "The image file is incomplete.") from exc
        raise ImageRejected(code, "The image file is damaged and cannot be read.") from exc


def _decoder_formats(allowed: Sequence[str]) -> list[str]:
    """Return the Pillow format names to try, refusing any outside ALLOWED_FORMATS."""
    names = [name.upper() for name in allowed]
    unknown = sorted(set(names) - set(_CONTENT_TYPES))
    if unknown:
        raise ValueError(f"formats not supported by this module: {unknown}")
    if "HEIF" in names and not _heif_registered():
        # Pillow raises KeyError for a format name it has no plugin for.
        names.remove("HEIF")
    return names


@functools.cache
def _heif_registered() -> bool:
    """Register the pillow-heif opener on first use, if that plugin is installed."""
    try:
        # Imported here so that merely importing this module registers nothing.
        import pillow_heif
    except ImportError:
        return False
    pillow_heif.register_heif_opener()
    return True


def _sniff(prefix: bytes) -> str | None:
    for offset, magic, name in _MAGIC:
        if prefix[offset : offset + len(magic)] == magic:
            return name
    return None


def _gps_location(exif: Image.Exif) -> tuple[float, float] | None:
    """Return (latitude, longitude) from EXIF, or None if absent or malformed."""
    if _GPS_IFD not in exif:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow warns about, and skips, corrupt IFDs
            gps = exif.get_ifd(_GPS_IFD)
        latitude = _degrees(gps[2], gps[1], "S")
        longitude = _degrees(gps[4], gps[3], "W")
    except (*_DECODE_ERRORS, ZeroDivisionError):
        # A malformed GPS block is not a reason to refuse the photo; we just don't keep it.
        return None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return None
    return latitude, longitude


def _degrees(dms: Any, ref: Any, negative: str) -> float:
    degrees, minutes, seconds = (float(part) for part in dms)
    value = degrees + minutes / 60 + seconds / 3600
    if not math.isfinite(value):
        raise ValueError("non-finite GPS coordinate")
    if isinstance(ref, bytes):
        ref = ref.decode("ascii", "replace")
    return -value if str(ref).strip("\x00 ").upper() == negative else value

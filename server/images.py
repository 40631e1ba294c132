"""Decide what an uploaded image is from its bytes, and derive safe copies to serve.

Nothing here trusts the client's file name or ``Content-Type``: the format comes from a
successful decode with a decoder restricted to the formats we accept. Every way a hostile
file can make Pillow fail is turned into :class:`ImageRejected`, whose ``code`` callers map
to a 4xx response. Derived copies are re-encoded from pixels onto a fresh canvas, so no
metadata (EXIF GPS, maker notes, comments, text chunks) or appended payload survives.

Memory (issue #14, defect 7): an upload is decoded once, at reduced size where the format
allows (JPEG's DCT scaling), and its copies are made from that one bitmap, the thumbnail
from the display copy. Before a pixel is decoded, the memory the decode will hold is
estimated from the header: more than ``MAX_DECODE_BYTES`` is refused, and all decodes of a
process share ``decode_budget``, so concurrent uploads take turns instead of each holding a
full-size bitmap at once. ``bench.image_memory`` measures the result.
"""

from __future__ import annotations

import ctypes
import functools
import io
import math
import re
import struct
import threading
import time
import warnings
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from PIL import ExifTags, Image

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

_MIB = 1024 * 1024

# --- Decoding memory ----------------------------------------------------------------------
# The target (issue #14): four worst-case uploads at once keep a web process of about 150 MB
# under 400 MB. So the decodes of one process together may hold 200 MB, which leaves 50 MB
# for everything else a request holds; and one upload may use all of it, because less would
# refuse a 12-megapixel WebP (libwebp and Pillow hold four copies of its bitmap, 16 bytes a
# pixel), while a JPEG of 64 megapixels, decoded at a quarter or an eighth, needs far less.
# Read at call time, so tests may patch them.

#: Most memory one image may take to decode and copy (estimated from its header before a
#: pixel is decoded); a bigger one is refused as ``too_many_pixels``.
MAX_DECODE_BYTES = 200 * _MIB
#: Most memory the decodes of one process may hold at once (``decode_budget``).
PROCESS_DECODE_BYTES = 200 * _MIB
#: How long an upload waits for room in the process budget before ``ImageBusy``. Our
#: largest decode takes about a second, so three ahead in the queue fit comfortably.
DECODE_WAIT_SECONDS = 20.0
#: The ``Retry-After`` (seconds) suggested to an upload that found no room.
BUSY_RETRY_AFTER = 5

#: Copies of the full-size bitmap a decoder holds at its peak, and still holds once it has
#: handed the pixels to Pillow, beyond Pillow's own: measured for WebP (libwebp's canvas and
#: previous-frame canvas, and the bytes it returns); a guess for pillow-heif, which is not
#: installed here (its decoded planes, then Pillow's copy).
_DECODER_COPIES: dict[str, tuple[int, int]] = {"WEBP": (4, 3), "HEIF": (3, 2)}
#: Decoder state besides the bitmap (zlib window, libjpeg row buffers, libwebp's own).
_DECODER_OVERHEAD = 2 * _MIB
#: Bytes a pixel takes in Pillow by mode; every other mode takes 4 (RGB is stored as RGBX).
_PIXEL_BYTES = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16L": 2, "I;16B": 2, "I;16N": 2}
#: Rows are flattened and reduced a strip of about this many bytes at a time.
_STRIP_BYTES = 1 * _MIB
#: JPEG start-of-frame markers (not DHT C4, JPG C8, DAC CC); of them, the sequential ones
#: that stream when their first scan carries every component.
_JPEG_FRAMES = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_JPEG_SEQUENTIAL = frozenset({0xC0, 0xC1, 0xC9})
#: EXIF orientation to the transposition that makes the image upright (as ImageOps does),
#: and the transpositions among them that swap width and height.
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_SWAPS_SIDES = frozenset(_UPRIGHT[orientation] for orientation in (5, 6, 7, 8))

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
# exif_transpose rewrote a mutated EXIF block (found by our hypothesis test; we no longer
# rewrite EXIF, but Pillow's EXIF parser is the same code).
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


class ImageBusy(Exception):  # noqa: N818 - named like ImageRejected, its sibling
    """Refuse to decode now: the process's decode budget stayed full for the whole wait.

    Nothing is wrong with the image; sending it again later will work. ``code`` is
    ``busy``, ``retry_after`` the seconds to wait, ``message`` an English sentence.
    """

    code = "busy"

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        self.message = "The server is busy processing other images; try again in a few seconds."
        super().__init__(self.message)


class DecodeBudget:
    """Share out the memory decoded images may hold at once, first come, first served.

    Reservations are granted in arrival order, so a big image at the head of the queue is
    not overtaken for ever by small ones.
    """

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("a decode budget must be at least 1 byte")
        self.limit = limit
        #: Bytes reserved now; the most ever reserved at once; reservations granted so far.
        self.held = 0
        self.peak = 0
        self.granted = 0
        self._queue: deque[object] = deque()
        self._changed = threading.Condition()

    @property
    def waiting(self) -> int:
        """Return how many reservations are waiting for room."""
        with self._changed:
            return len(self._queue)

    @contextmanager
    def reserve(self, size: int, timeout: float) -> Iterator[None]:
        """Hold ``size`` bytes of the budget for the block, after waiting up to ``timeout`` s.

        Raises ``ImageRejected`` at once when ``size`` exceeds the whole budget, and
        ``ImageBusy`` when there was no room in time.
        """
        if size > self.limit:
            raise _too_costly(size, self.limit, "all uploads together may use")
        ticket = object()
        deadline = time.monotonic() + timeout
        with self._changed:
            self._queue.append(ticket)
            try:
                while self._queue[0] is not ticket or self.held + size > self.limit:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise ImageBusy(BUSY_RETRY_AFTER)
                    self._changed.wait(remaining)
            except BaseException:
                self._queue.remove(ticket)
                self._changed.notify_all()  # someone else may be at the head now
                raise
            self._queue.popleft()
            self.held += size
            self.peak = max(self.peak, self.held)
            self.granted += 1
            self._changed.notify_all()  # the next in line may fit beside us
        try:
            yield
        finally:
            with self._changed:
                self.held -= size
                self._changed.notify_all()


#: The budget every decode in this process shares. A plain object with a lock, nothing
#: else: making it at import time reads no setting and starts nothing.
decode_budget = DecodeBudget(PROCESS_DECODE_BYTES)


@dataclass(frozen=True)
class DerivedImage:
    """An image that decoded cleanly and the metadata-free JPEG copies made from it."""

    image: InspectedImage
    #: One JPEG per long side asked for, in that order.
    copies: tuple[bytes, ...]


def derive_copies(
    data: bytes,
    long_sides: Sequence[int] = (DISPLAY_LONG_SIDE, THUMBNAIL_LONG_SIDE),
    allowed: Sequence[str] = ALLOWED_FORMATS,
) -> DerivedImage:
    """Check an image and make metadata-free JPEG copies of it, decoding it only once.

    Copy ``i`` fits in ``long_sides[i]`` pixels and is made from copy ``i - 1`` (the
    thumbnail from the display copy), so give the sides largest first. Raises
    ``ImageRejected`` for anything we would not serve, including an image that would take
    more than ``MAX_DECODE_BYTES`` to decode, and ``ImageBusy`` when the process had no
    room for it within ``DECODE_WAIT_SECONDS``.
    """
    sides = tuple(long_sides)
    if any(side < 1 for side in sides):
        raise ValueError("long sides must be at least 1")
    if list(sides) != sorted(sides, reverse=True):
        raise ValueError("long sides must be given largest first")
    formats = _decoder_formats(allowed)
    # The first open is spent on verify(), which leaves the image unusable.
    with _decoding("corrupt"):
        _open(data, formats).verify()
    opened = _prepare(data, formats, sides)
    if opened.cost > MAX_DECODE_BYTES:
        raise _too_costly(opened.cost, MAX_DECODE_BYTES, "one upload may use")
    _map_big_allocations()
    # Waited for outside _decoding: its warning filters are process-wide state.
    with decode_budget.reserve(opened.cost, DECODE_WAIT_SECONDS):
        return _decode_and_copy(opened, sides)


def estimate_decode_bytes(
    data: bytes,
    long_sides: Sequence[int] = (DISPLAY_LONG_SIDE, THUMBNAIL_LONG_SIDE),
    allowed: Sequence[str] = ALLOWED_FORMATS,
) -> int:
    """Estimate the most memory ``derive_copies`` would hold for ``data``, from its header."""
    formats = _decoder_formats(allowed)
    opened = _prepare(data, formats, tuple(long_sides))
    if opened.image is not None:
        opened.image.close()
    return opened.cost


def inspect_image(data: bytes, allowed: Sequence[str] = ALLOWED_FORMATS) -> InspectedImage:
    """Identify and fully decode an image, rejecting anything we would not serve."""
    return derive_copies(data, (), allowed).image


def derive_display(data: bytes, long_side: int = DISPLAY_LONG_SIDE) -> bytes:
    """Re-encode an image as a metadata-free JPEG no longer than ``long_side`` pixels."""
    return derive_copies(data, (long_side,)).copies[0]


def derive_thumbnail(data: bytes, long_side: int = THUMBNAIL_LONG_SIDE) -> bytes:
    """Re-encode an image as a metadata-free JPEG thumbnail."""
    return derive_copies(data, (long_side,)).copies[0]


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


@dataclass
class _Opened:
    """An image opened (not decoded) for ``derive_copies``, and what decoding it will hold."""

    #: Taken (and set to None) by whoever decodes it, so no other reference keeps it alive.
    image: Image.Image | None
    #: The size the file declares (a JPEG asked for a reduced decode reports less).
    declared: tuple[int, int]
    cost: int


def _prepare(data: bytes, formats: list[str], sides: tuple[int, ...]) -> _Opened:
    """Open the image, ask JPEG for a reduced decode, and estimate what decoding will hold."""
    with _decoding("corrupt"):
        image = _open(data, formats)
        declared = image.size
        # Lets the JPEG decoder scale down by up to 8x while decoding (a no-op for the other
        # formats); with no copies wanted, every pixel is still decoded, just at an eighth.
        image.draft("RGB", _fit(declared, sides[0]) if sides else (1, 1))
        return _Opened(image, declared, _estimate(image, data, declared, sides))


def _decode_and_copy(opened: _Opened, sides: tuple[int, ...]) -> DerivedImage:
    """Decode the opened image once and make the copies; nothing of it outlives the call."""
    image, opened.image = opened.image, None
    if image is None:
        raise RuntimeError("this image was decoded already")
    with _decoding("corrupt"):
        try:
            decoded = image.size
            image.load()
            # Parsed in here so that a photo whose EXIF breaks Pillow is refused as damaged.
            exif = image.getexif()
            image_format = _format_name(image)
            inspected = InspectedImage(
                format=image_format,
                content_type=_CONTENT_TYPES[image_format],
                width=opened.declared[0],
                height=opened.declared[1],
                exif_location=_gps_location(exif),
            )
            target = _fit(opened.declared, sides[0]) if sides else None
            canvas = _shrink(image, _reduction(decoded, target)) if target else None
        finally:
            # The full-size bitmap, and a decoder's own copies of it, go before the copies
            # are made: closing frees Pillow's, dropping the object frees libwebp's.
            image.close()
            del image
        if canvas is None or target is None:
            return DerivedImage(inspected, ())
        upright = _UPRIGHT.get(exif.get(ExifTags.Base.Orientation, 1))
        if upright in _SWAPS_SIDES:
            target = (target[1], target[0])
        return DerivedImage(inspected, _copies(canvas, upright, target, sides[1:]))


#: glibc's mallopt() parameter for the size from which allocations are mmap()ed.
_M_MMAP_THRESHOLD = -3
#: Allocations from this size on get pages of their own, returned to the system when freed.
_MMAP_THRESHOLD = 4 * _MIB


@functools.cache
def _map_big_allocations() -> None:
    """Make glibc give freed bitmaps back to the system at once, so the budget holds.

    glibc starts by mmap()ing allocations from 128 KB, but each time such a block is freed
    it raises that threshold to the block's size (up to 32 MB), so after the first image
    Pillow's 16 MB blocks come from the heap of the allocating thread's arena, and stay
    there when freed. Four threads taking turns then leave up to four bitmaps' worth of
    memory behind (``bench.image_memory`` measured 283 MB for a 200 MB budget). A fixed
    threshold turns that adjustment off. Once per process, on the first decode; elsewhere
    (musl, macOS) there is no such function and nothing to do.
    """
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)


def _estimate(
    image: Image.Image, data: bytes, declared: tuple[int, int], sides: tuple[int, ...]
) -> int:
    """Return about the most bytes decoding ``image`` (opened, not loaded) and copying hold.

    The phases: the decoder's peak; the decoded bitmap (and what the decoder still holds)
    beside the reduced canvas and one strip's working copies; after the bitmap is gone, the
    canvas, its upright copy and the JPEG copies being encoded.
    """
    width, height = image.size  # after draft: what will be decoded
    bitmap = width * height * _PIXEL_BYTES.get(image.mode, 4)
    at_peak, after = _DECODER_COPIES.get(_format_name(image), (1, 1))
    decoding = at_peak * bitmap
    if _format_name(image) == "JPEG":
        decoding += _jpeg_coefficient_bytes(data, declared)
    if not sides:
        return decoding + _DECODER_OVERHEAD
    factor = _reduction(image.size, _fit(declared, sides[0]))
    canvas = math.ceil(width / factor) * math.ceil(height / factor) * 4
    strip = 4 * _strip_rows(width, factor) * width * 4  # crop, RGBA, canvas, I-mode steps
    display = math.prod(_fit(declared, sides[0])) * 4
    return max(decoding, after * bitmap + canvas + strip, 2 * canvas + 2 * display) + (
        _DECODER_OVERHEAD
    )


def _jpeg_coefficient_bytes(data: bytes, declared: tuple[int, int]) -> int:
    """Return what libjpeg holds for the DCT coefficients of the whole image, if it must.

    A progressive, lossless, hierarchical or multi-scan JPEG is decoded into a buffer of
    every coefficient (2 bytes each, at each component's resolution, whatever the output
    size); a sequential file whose first scan carries every component streams instead.
    Markers we cannot follow count as the costliest case.
    """
    worst = declared[0] * declared[1] * 4 * 2  # four components at full resolution
    frame: tuple[int, int, int, list[tuple[int, int]]] | None = None
    position = 2  # after SOI
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            return worst
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker == 0x01 or 0xD0 <= marker <= 0xD8:  # markers without a length
            position += 2
            continue
        length = int.from_bytes(data[position + 2 : position + 4], "big")
        segment = data[position + 4 : position + 2 + length]
        if length < 2 or len(segment) != length - 2:
            return worst
        if marker in _JPEG_FRAMES:
            count = segment[5] if len(segment) >= 6 else 0
            if frame is not None or count == 0 or len(segment) < 6 + 3 * count:
                return worst
            sampling = [(byte >> 4, byte & 0x0F) for byte in segment[7 : 6 + 3 * count : 3]]
            frame = (
                marker,
                int.from_bytes(segment[3:5], "big"),
                int.from_bytes(segment[1:3], "big"),
                sampling,
            )
        elif marker == 0xDA:  # start of scan: what libjpeg decides on is known now
            if frame is None or not segment:
                return worst
            kind, frame_width, frame_height, sampling = frame
            if kind in _JPEG_SEQUENTIAL and segment[0] == len(sampling):
                return 0
            return _coefficient_bytes(frame_width, frame_height, sampling)
        elif marker == 0xD9:
            return worst
        position += 2 + length
    return worst


def _coefficient_bytes(width: int, height: int, sampling: list[tuple[int, int]]) -> int:
    """Return libjpeg's whole-image coefficient buffer: 64 two-byte values per 8x8 block."""
    max_h = max(max(h for h, _ in sampling), 1)
    max_v = max(max(v for _, v in sampling), 1)
    total = 0
    for h, v in sampling:
        h, v = max(h, 1), max(v, 1)
        # Blocks per row and column at the component's resolution, padded to whole MCUs.
        across = math.ceil(math.ceil(width * h / max_h) / 8)
        down = math.ceil(math.ceil(height * v / max_v) / 8)
        total += math.ceil(across / h) * h * math.ceil(down / v) * v * 64 * 2
    return total


def _fit(size: tuple[int, int], long_side: int) -> tuple[int, int]:
    """Return ``size`` scaled to fit a ``long_side`` square, as Image.thumbnail rounds it."""
    width, height = size
    if width <= long_side and height <= long_side:
        return size

    def round_aspect(number: float, key: Callable[[int], float]) -> int:
        return max(min(math.floor(number), math.ceil(number), key=key), 1)

    aspect = width / height
    if aspect <= 1:
        return round_aspect(long_side * aspect, lambda n: abs(aspect - n / long_side)), long_side
    return long_side, round_aspect(
        long_side / aspect, lambda n: 0 if n == 0 else abs(aspect - long_side / n)
    )


def _reduction(decoded: tuple[int, int], target: tuple[int, int]) -> int:
    """Return the whole factor to box-reduce ``decoded`` by without going below ``target``."""
    return max(1, min(decoded[0] // target[0], decoded[1] // target[1]))


def _strip_rows(width: int, factor: int) -> int:
    """Return how many rows to flatten at a time: about _STRIP_BYTES, a multiple of factor."""
    return max(1, _STRIP_BYTES // (width * 4 * factor)) * factor


def _shrink(image: Image.Image, factor: int) -> Image.Image:
    """Return ``image`` flattened onto white and box-reduced by ``factor``, a strip at a time.

    Flattening the whole image at once would copy it (twice for alpha); strips of rows
    aligned to ``factor`` give the same pixels from copies of a megabyte.
    """
    width, height = image.size
    canvas = Image.new("RGB", (math.ceil(width / factor), math.ceil(height / factor)), "white")
    rows = _strip_rows(width, factor)
    for top in range(0, height, rows):
        strip = _flatten(image.crop((0, top, width, min(height, top + rows))))
        canvas.paste(strip.reduce(factor) if factor > 1 else strip, (0, top // factor))
    return canvas


def _copies(
    canvas: Image.Image,
    upright: Image.Transpose | None,
    first: tuple[int, int],
    later: tuple[int, ...],
) -> tuple[bytes, ...]:
    """Turn the canvas upright and encode it at ``first``, then each later copy from the last.

    ``later`` are the long sides of the copies after the first.
    """
    if upright is not None:
        canvas = canvas.transpose(upright)
    canvas = _resized(canvas, first)
    copies = [_jpeg(canvas)]
    for side in later:
        canvas = _resized(canvas, _fit(canvas.size, side))
        copies.append(_jpeg(canvas))
    return tuple(copies)


def _resized(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    return image if image.size == size else image.resize(size, Image.Resampling.LANCZOS)


def _jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    # Progressive: a phone on a slow link shows the whole photo coarse, then sharpens.
    image.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    return out.getvalue()


def _format_name(image: Image.Image) -> str:
    # A multi-picture JPEG (MPO: stereo pairs, depth or gain maps) opens as MPO; its
    # first picture, the one decoded, is a plain JPEG.
    return "JPEG" if image.format == "MPO" else str(image.format)


def _too_costly(cost: int, limit: int, whose: str) -> ImageRejected:
    return ImageRejected(
        "too_many_pixels",
        f"The image is too large to process: decoding it would take about "
        f"{round(cost / _MIB)} MB of memory and {whose} at most {round(limit / _MIB)} MB. "
        "Send a smaller image, or a JPEG.",
    )


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

"""server.images memory: each image decoded once, at reduced size where it can be, on a budget.

Issue #14, defect 7: a 177 KB PNG of 7,900 x 7,900 pixels took a web process from 149 MB to
1,118 MB, because the upload path decoded it in full three times. ``bench.image_memory``
measures the process; these tests pin down the behaviour that keeps it small.
"""

from __future__ import annotations

import io
import math
import struct
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from PIL import Image, ImageFile

from server import images
from server.images import (
    THUMBNAIL_LONG_SIDE,
    DecodeBudget,
    ImageBusy,
    ImageRejected,
    derive_copies,
    derive_display,
    derive_thumbnail,
    estimate_decode_bytes,
    inspect_image,
)

ORIENTATION = 0x0112
MIB = 1024 * 1024


def encode(image: Image.Image, image_format: str, **options: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, image_format, **options)
    return out.getvalue()


def halves(size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    """Return a red left half and a blue right half (opaque where the mode has alpha)."""
    image = Image.new(mode, size, "blue")
    image.paste(Image.new(mode, (size[0] // 2, size[1]), "red"), (0, 0))
    return image


def oriented_exif(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    return exif.tobytes()


def png_header_only(width: int, height: int, colour_type: int = 6) -> bytes:
    """Return a PNG whose IHDR declares ``width`` x ``height`` but holds no pixels."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b""))
        + chunk(b"IEND", b"")
    )


def jpeg_declaring(width: int, height: int, **options: Any) -> bytes:
    """Return a small JPEG whose frame header declares ``width`` x ``height`` (no decode)."""
    data = bytearray(encode(halves((64, 48)), "JPEG", **options))
    frame = next(i for i in range(len(data)) if data[i] == 0xFF and data[i + 1] in (0xC0, 0xC2))
    data[frame + 5 : frame + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def mpo(size: tuple[int, int]) -> bytes:
    """Return a multi-picture JPEG (what some cameras write): Pillow calls it MPO."""
    first = halves(size)
    return encode(first, "MPO", save_all=True, append_images=[Image.new("RGB", size, "green")])


def grey16(size: tuple[int, int]) -> bytes:
    return encode(Image.new("I;16", size, 32768), "PNG")


def palette_with_transparency(size: tuple[int, int]) -> bytes:
    image = Image.new("P", size, 1)
    image.putpalette([0, 0, 0, 255, 0, 0])
    image.paste(0, (0, 0, size[0] // 2, size[1]))
    return encode(image, "PNG", transparency=0)


#: The expensive shape of every accepted format, at a size a unit test can afford. Each is
#: 2,400 x 1,800 stored, some turned upright by EXIF.
VARIANTS: dict[str, Callable[[], bytes]] = {
    "jpeg-baseline-rotated": lambda: encode(
        halves((2400, 1800)), "JPEG", exif=oriented_exif(6), quality=90
    ),
    "jpeg-progressive-444": lambda: encode(
        halves((2400, 1800)), "JPEG", progressive=True, subsampling=0, quality=90
    ),
    "jpeg-mpo": lambda: mpo((2400, 1800)),
    "png-rgba": lambda: encode(halves((2400, 1800), "RGBA"), "PNG"),
    "png-interlaced-rotated": lambda: encode(
        halves((2400, 1800)), "PNG", interlace=1, exif=oriented_exif(8)
    ),
    "png-16-bit-grey": lambda: grey16((2400, 1800)),
    "png-palette-transparent": lambda: palette_with_transparency((2400, 1800)),
    "webp-lossless-alpha": lambda: encode(halves((2400, 1800), "RGBA"), "WEBP", lossless=True),
    "webp-lossy": lambda: encode(halves((2400, 1800)), "WEBP", quality=80),
}
ROTATED = {"jpeg-baseline-rotated", "png-interlaced-rotated"}


class DecodeSpy:
    """Count real pixel decodes: ImageFile.load calls that still have tiles to decode."""

    def __init__(self) -> None:
        self.sizes: list[tuple[int, int]] = []

    @property
    def count(self) -> int:
        return len(self.sizes)


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> DecodeSpy:
    spy = DecodeSpy()
    real_load = ImageFile.ImageFile.load

    def load(self: ImageFile.ImageFile) -> Any:
        if self.tile:
            spy.sizes.append(self.size)
        return real_load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)
    return spy


@pytest.fixture
def budget(monkeypatch: pytest.MonkeyPatch) -> DecodeBudget:
    """A fresh process budget as large as the default, so tests can read what it held."""
    fresh = DecodeBudget(images.decode_budget.limit)
    monkeypatch.setattr(images, "decode_budget", fresh)
    return fresh


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


# --- decoded once, at reduced size where the format allows ----------------------------------


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_every_accepted_format_is_decoded_once_for_both_copies(
    variant: str, decodes: DecodeSpy, budget: DecodeBudget
) -> None:
    data = VARIANTS[variant]()
    decodes.sizes.clear()  # encoding the sample does not count

    derived = derive_copies(data)

    assert decodes.count == 1
    assert budget.granted == 1
    assert budget.held == 0
    assert derived.image.content_type in ("image/jpeg", "image/png", "image/webp")
    assert (derived.image.width, derived.image.height) == (2400, 1800)
    display, thumbnail = (opened(copy) for copy in derived.copies)
    upright = (1200, 1600) if variant in ROTATED else (1600, 1200)
    assert display.size == upright
    assert thumbnail.size == (upright[0] // 5, upright[1] // 5)
    assert display.format == thumbnail.format == "JPEG"
    assert not display.getexif()
    assert not thumbnail.getexif()


@pytest.mark.parametrize("variant", ["jpeg-baseline-rotated", "jpeg-progressive-444", "jpeg-mpo"])
def test_jpeg_is_decoded_at_reduced_size(variant: str, decodes: DecodeSpy) -> None:
    data = VARIANTS[variant]()
    decodes.sizes.clear()
    derive_copies(data)
    # 2,400 x 1,800 into 1,600 x 1,200 cannot use DCT scaling; 4,800 x 3,600 can, by two.
    assert decodes.sizes == [(2400, 1800)]
    big = encode(halves((4800, 3600)), "JPEG")
    decodes.sizes.clear()
    derive_copies(big)
    assert decodes.sizes == [(2400, 1800)]
    decodes.sizes.clear()
    derive_copies(big, (THUMBNAIL_LONG_SIDE,))
    assert decodes.sizes == [(600, 450)]


def test_inspecting_alone_decodes_once_and_jpeg_at_an_eighth(decodes: DecodeSpy) -> None:
    data = encode(halves((4000, 3000)), "JPEG")
    decodes.sizes.clear()
    inspected = inspect_image(data)
    assert (inspected.width, inspected.height) == (4000, 3000)
    assert decodes.sizes == [(500, 375)]


def test_a_big_png_costs_one_full_size_bitmap_and_small_copies(budget: DecodeBudget) -> None:
    # Not the four full-size bitmaps that cost about 1 GB for the issue's 7,900 x 7,900.
    bitmap = 7900 * 7900 * 4  # Pillow keeps RGB as 4 bytes a pixel
    assert bitmap < estimate_decode_bytes(png_header_only(7900, 7900, 2)) < 1.25 * bitmap
    # What the budget holds for a real decode is that estimate.
    data = encode(Image.new("RGB", (3400, 3400), (10, 120, 30)), "PNG")
    derive_copies(data)
    assert budget.peak == estimate_decode_bytes(data)


def test_the_thumbnail_is_made_from_the_display_copy(monkeypatch: pytest.MonkeyPatch) -> None:
    sources: list[tuple[tuple[int, int], tuple[int, int]]] = []
    real_resize = Image.Image.resize

    def resize(self: Image.Image, size: Any, *args: Any, **kwargs: Any) -> Image.Image:
        sources.append((self.size, tuple(size)))
        return real_resize(self, size, *args, **kwargs)

    monkeypatch.setattr(Image.Image, "resize", resize)
    derive_copies(encode(halves((3300, 2200)), "PNG"))
    assert sources[-1] == ((1600, 1067), (320, 213))
    assert all(source[0] != (3300, 2200) for source in sources)


def test_copies_are_upright_and_keep_their_colours() -> None:
    # Orientation 6: turn 90 degrees clockwise to be upright; the red left half goes on top.
    data = encode(halves((3200, 1600)), "JPEG", exif=oriented_exif(6), quality=95)
    display, thumbnail = (opened(copy) for copy in derive_copies(data).copies)
    assert display.size == (800, 1600)
    assert thumbnail.size == (160, 320)
    for image in (display, thumbnail):
        width, height = image.size
        top = image.getpixel((width // 2, height // 8))
        bottom = image.getpixel((width // 2, height * 7 // 8))
        assert top[0] > 200
        assert top[2] < 60
        assert bottom[2] > 200
        assert bottom[0] < 60


def test_gps_and_size_are_still_reported_from_the_one_decode() -> None:
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (31.0, 14.0, 0.0), 3: "E", 4: (121.0, 28.0, 0.0)}
    derived = derive_copies(encode(halves((2000, 1000)), "JPEG", exif=exif.tobytes()))
    assert derived.image.exif_location == pytest.approx((31 + 14 / 60, 121 + 28 / 60))
    assert (derived.image.width, derived.image.height) == (2000, 1000)
    assert derived.image.format == "JPEG"


def test_a_multi_picture_jpeg_is_a_jpeg() -> None:
    inspected = inspect_image(mpo((64, 48)))
    assert (inspected.format, inspected.content_type) == ("JPEG", "image/jpeg")


def test_small_images_keep_their_size_and_the_old_functions_still_work() -> None:
    data = encode(halves((120, 80)), "PNG")
    assert [opened(copy).size for copy in derive_copies(data).copies] == [(120, 80), (120, 80)]
    assert opened(derive_display(data)).size == (120, 80)
    assert opened(derive_thumbnail(data)).size == (120, 80)
    assert derive_copies(data, ()).copies == ()


# --- the per-request budget ------------------------------------------------------------------


def test_the_issue_png_is_refused_before_a_pixel_is_decoded(decodes: DecodeSpy) -> None:
    # The header of the 177 KB PNG from the issue: under the pixel limit, over the budget.
    data = png_header_only(7900, 7900)
    for action in (derive_copies, inspect_image, derive_display, derive_thumbnail):
        with pytest.raises(ImageRejected) as rejected:
            action(data)
        assert rejected.value.code == "too_many_pixels"
        assert "MB" in rejected.value.message
        assert "memory" in rejected.value.message
    assert decodes.count == 0


def test_an_image_over_the_per_request_budget_is_refused_with_a_clear_message(
    monkeypatch: pytest.MonkeyPatch, decodes: DecodeSpy, budget: DecodeBudget
) -> None:
    data = encode(Image.new("RGBA", (1000, 1000), (1, 2, 3, 4)), "PNG")
    monkeypatch.setattr(images, "MAX_DECODE_BYTES", 2 * MIB)
    decodes.sizes.clear()
    with pytest.raises(ImageRejected) as rejected:
        derive_copies(data)
    assert rejected.value.code == "too_many_pixels"
    needed = round(estimate_decode_bytes(data) / MIB)
    assert needed > 2
    assert rejected.value.message == (
        f"The image is too large to process: decoding it would take about {needed} MB of "
        "memory and one upload may use at most 2 MB. Send a smaller image, or a JPEG."
    )
    assert decodes.count == 0
    assert budget.granted == 0


@pytest.mark.parametrize(
    ("options", "bytes_per_pixel"),
    [
        ({"progressive": True, "subsampling": 0}, 6),
        ({"progressive": True, "subsampling": 2}, 3),
    ],
    ids=["4:4:4", "4:2:0"],
)
def test_progressive_jpeg_is_budgeted_for_its_whole_coefficient_buffer(
    options: dict[str, Any], bytes_per_pixel: int
) -> None:
    # libjpeg keeps every DCT coefficient of a progressive (or multi-scan) file until the
    # last scan, 2 bytes each, whatever the output size; a baseline file streams.
    pixels = 6400 * 4800
    progressive = estimate_decode_bytes(jpeg_declaring(6400, 4800, **options))
    baseline = estimate_decode_bytes(jpeg_declaring(6400, 4800, subsampling=0))
    assert pixels * bytes_per_pixel < progressive < pixels * bytes_per_pixel * 1.2
    assert baseline < progressive / 2


def test_webp_is_budgeted_for_the_four_copies_its_decoder_makes() -> None:
    data = encode(halves((1000, 1000)), "WEBP", lossless=True)
    assert estimate_decode_bytes(data) >= 4 * 1000 * 1000 * 4


# --- the process budget -----------------------------------------------------------------------


def test_decodes_that_do_not_fit_together_take_turns(monkeypatch: pytest.MonkeyPatch) -> None:
    samples = [encode(halves((1500, 1500), "RGBA"), "PNG") for _ in range(3)]
    cost = estimate_decode_bytes(samples[0])
    shared = DecodeBudget(int(cost * 1.5))  # room for one at a time, never two
    monkeypatch.setattr(images, "decode_budget", shared)
    monkeypatch.setattr(images, "DECODE_WAIT_SECONDS", 600.0)
    results: list[object] = []

    def run(data: bytes) -> None:
        try:
            results.append(derive_copies(data))
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            results.append(error)

    threads = [threading.Thread(target=run, args=(data,)) for data in samples]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [type(result).__name__ for result in results] == ["DerivedImage"] * 3
    assert shared.granted == 3
    assert shared.peak == cost
    assert shared.held == 0


def test_an_upload_that_cannot_get_room_in_time_is_told_to_retry(
    monkeypatch: pytest.MonkeyPatch, budget: DecodeBudget, decodes: DecodeSpy
) -> None:
    data = encode(halves((800, 600)), "PNG")
    monkeypatch.setattr(images, "DECODE_WAIT_SECONDS", 0.0)
    decodes.sizes.clear()
    with budget.reserve(budget.limit, timeout=0), pytest.raises(ImageBusy) as busy:
        derive_copies(data)
    assert busy.value.code == "busy"
    assert busy.value.retry_after >= 1
    assert "try again" in busy.value.message
    assert decodes.count == 0
    assert budget.held == 0
    assert not isinstance(busy.value, ImageRejected)  # nothing is wrong with the image


def test_a_waiting_upload_goes_ahead_once_room_is_freed(
    monkeypatch: pytest.MonkeyPatch, budget: DecodeBudget
) -> None:
    data = encode(halves((800, 600)), "PNG")
    monkeypatch.setattr(images, "DECODE_WAIT_SECONDS", 600.0)
    results: list[object] = []
    holder = budget.reserve(budget.limit, timeout=0)
    holder.__enter__()
    waiter = threading.Thread(target=lambda: results.append(derive_copies(data)))
    waiter.start()
    for _ in range(10_000):  # until the waiter is queued; not a time limit
        if budget.waiting == 1:
            break
        time.sleep(0.001)
    assert budget.waiting == 1
    assert results == []
    holder.__exit__(None, None, None)
    waiter.join()
    assert len(results) == 1
    assert budget.granted == 2


def test_waiting_uploads_are_served_in_arrival_order() -> None:
    shared = DecodeBudget(10)
    order: list[str] = []
    holder = shared.reserve(10, timeout=0)
    holder.__enter__()

    def take(name: str, size: int) -> None:
        with shared.reserve(size, timeout=600):
            order.append(name)

    big = threading.Thread(target=take, args=("big", 10))
    big.start()
    _wait_for(lambda: shared.waiting == 1)
    small = threading.Thread(target=take, args=("small", 1))
    small.start()
    _wait_for(lambda: shared.waiting == 2)
    holder.__exit__(None, None, None)
    big.join()
    small.join()
    assert order == ["big", "small"]  # the small one did not overtake and starve the big one


def test_a_reservation_larger_than_the_process_budget_is_refused_at_once() -> None:
    shared = DecodeBudget(10)
    with pytest.raises(ImageRejected) as rejected, shared.reserve(11, timeout=600):
        pass
    assert rejected.value.code == "too_many_pixels"
    assert shared.waiting == 0


def test_the_budget_is_released_when_decoding_fails(budget: DecodeBudget) -> None:
    data = encode(halves((400, 300)), "JPEG")
    with pytest.raises(ImageRejected):
        derive_copies(data[: len(data) // 2])
    assert budget.granted == 1
    assert budget.held == 0


def test_the_default_budgets_fit_the_issue_target() -> None:
    # Four worst-case uploads at once must keep a 149 MB web process under 400 MB.
    assert images.MAX_DECODE_BYTES <= images.decode_budget.limit
    assert 149 * MIB + images.decode_budget.limit < 400 * MIB - 32 * MIB
    # A 12-megapixel phone photo in any accepted format still fits one upload's budget.
    for data in (
        png_header_only(4000, 3000),
        encode(Image.new("RGB", (4000, 3000)), "WEBP", quality=1),
    ):
        assert estimate_decode_bytes(data) <= images.MAX_DECODE_BYTES
    assert 0 < images.DECODE_WAIT_SECONDS < math.inf


def _wait_for(condition: Callable[[], bool]) -> None:
    for _ in range(10_000):
        if condition():
            return
        time.sleep(0.001)
    raise AssertionError("condition never became true")


@pytest.fixture(autouse=True)
def _no_leftover_reservations() -> Iterator[None]:
    yield
    assert images.decode_budget.held == 0
